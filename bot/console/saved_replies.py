"""Saved replies the caseworker picks and edits before sending, per language and script
(`HAMROH_SAVED_REPLIES_FILE`; the repository ships a SAMPLE)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml


@dataclass(frozen=True)
class SavedReply:
    """One saved reply in one language."""

    key: str
    title: str
    text: str


class SavedReplies:
    """Every saved reply, by key, with its title and text in each language."""

    def __init__(self, replies: dict[str, dict[str, dict[str, str]]]) -> None:
        self.replies = replies

    @classmethod
    def load(cls, path: Path) -> SavedReplies:
        """Read the file; a missing file means no saved replies."""
        if not path.exists():
            return cls({})
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return cls(data.get("replies") or {})

    def for_language(self, language: str | None) -> list[SavedReply]:
        """The replies written in `language`, in file order."""
        return [SavedReply(key, entry["title"][language], entry["text"][language])
                for key, entry in self.replies.items()
                if language and language in entry.get("text", {}) and language in entry.get("title", {})]
