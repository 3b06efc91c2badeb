"""Load the reply catalog (`catalog/<tag>.yml`) and render one reply for a conversation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.nlp.languages import LANGUAGES
from bot.responses.menus import RESPONSE_BUTTONS, language_buttons

CATALOG_DIR = Path(__file__).parent / "catalog"


class CatalogError(Exception):
    """The catalog is incomplete or malformed."""


@dataclass(frozen=True)
class Reply:
    """A rendered reply: text and buttons (title, payload)."""

    text: str
    buttons: list[dict[str, str]]

    def as_json(self, language: str, intent: str | None = None, confidence: float | None = None) -> dict[str, Any]:
        """The body the engine expects from an NLG endpoint.

        `custom` reaches the channel gateway (as a message of its own, which it does not
        deliver): `language`, so app-side replies such as "text only" use the conversation's
        language, and what the engine understood (`intent`, `confidence`), shown to caseworkers.
        """
        custom: dict[str, Any] = {"language": language}
        if intent:
            custom["intent"], custom["confidence"] = intent, round(confidence or 0.0, 3)
        return {"text": self.text, "buttons": self.buttons, "custom": custom}


class Catalog:
    """Replies in every language; `render` picks language, channel variant and buttons."""

    def __init__(self, languages: dict[str, dict[str, Any]], default_language: str) -> None:
        if default_language not in languages:
            raise CatalogError(f"default language {default_language!r} has no catalog file")
        self.languages = languages
        self.default_language = default_language

    @classmethod
    def load(cls, default_language: str, directory: Path = CATALOG_DIR) -> Catalog:
        """Read the catalog files of the seven languages."""
        languages = {}
        for tag in LANGUAGES:
            path = directory / f"{tag}.yml"
            if path.exists():
                languages[tag] = yaml.safe_load(path.read_text(encoding="utf-8"))
        return cls(languages, default_language)

    def names(self) -> set[str]:
        """Reply names in the default language's file."""
        return set(self.languages[self.default_language]["responses"])

    def _entries(self, language: str | None) -> dict[str, Any]:
        return self.languages.get(language or "", self.languages[self.default_language])

    def word(self, language: str | None, group: str, key: str = "", fallback: str | None = None) -> str:
        """A word from the `words:` section (appointment kinds, document statuses …).

        `fallback` is returned for a key the catalog does not know (e.g. a status a caseworker made up).
        """
        words = self._entries(language)["words"]
        if key == "":
            return str(words[group])
        if key not in words[group] and fallback is not None:
            return fallback
        return str(words[group][key])

    def _button(self, language: str | None, key: str, channel: str | None) -> str:
        """A `buttons:` title; by SMS its short form from `sms_buttons:` where there is one
        (numbered options are counted in the SMS segments)."""
        entries = self._entries(language)
        short = entries.get("sms_buttons") or {}
        return str(short[key] if channel == "sms" and key in short else entries["buttons"][key])

    def button_title(self, language: str | None, choice: dict[str, str], channel: str | None = None) -> str:
        """A button's title: a `buttons:` key, a `words:` entry ("group.key") or a literal title."""
        if "key" in choice:
            return self._button(language, choice["key"], channel)
        if "word" in choice:
            group, key = choice["word"].split(".", 1)
            return self.word(language, group, key)
        return str(choice["title"])

    def render(
        self,
        name: str,
        language: str | None,
        channel: str | None = None,
        values: dict[str, str] | None = None,
        choices: list[dict[str, str]] | None = None,
    ) -> Reply:
        """Return reply `name` in `language` (default language if unknown), SMS variant on SMS.

        `choices` are buttons an action adds ({"key"|"word"|"title": …, "payload": …}).
        """
        entries = self._entries(language)
        entry = entries["responses"].get(name)
        if entry is None:
            raise CatalogError(f"no reply named {name!r}")
        text = entry.get("sms", entry["text"]) if channel == "sms" else entry["text"]
        try:
            text = text.format_map(values or {})
        except KeyError as missing:
            raise CatalogError(f"reply {name!r} needs the value {missing}") from None
        if name == "utter_choose_language":
            return Reply(text, language_buttons())
        buttons = [
            {"title": self._button(language, key, channel), "payload": payload}
            for key, payload in RESPONSE_BUTTONS.get(name, [])
        ]
        buttons += [{"title": self.button_title(language, c, channel), "payload": c["payload"]}
                    for c in choices or []]
        return Reply(text, buttons)
