"""Crisis contacts per country, from configuration (never hard-coded)."""

from __future__ import annotations

from pathlib import Path

import yaml


class CrisisContacts:
    """The configured crisis lines, listed for a conversation's language."""

    def __init__(self, document: dict) -> None:
        self.countries: dict[str, list[dict[str, str]]] = document.get("countries") or {}
        self.country_by_language: dict[str, str] = document.get("country_by_language") or {}
        if not self.countries:
            raise ValueError("the crisis contacts file lists no country")

    @classmethod
    def load(cls, path: Path) -> CrisisContacts:
        """Read the contacts file named by the `crisis_contacts_file` setting."""
        return cls(yaml.safe_load(path.read_text(encoding="utf-8")) or {})

    def lines_for(self, language: str | None, country: str | None = None) -> str:
        """One line per contact: the person's country's, or every country's when unknown."""
        country = country or self.country_by_language.get(language or "")
        chosen = [country] if country in self.countries else sorted(self.countries)
        return "\n".join(
            f"{contact['name']}: {contact['phone']}"
            for code in chosen
            for contact in self.countries[code]
        )
