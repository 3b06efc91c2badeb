"""The crisis lexicon: patterns that always mark a message as a crisis.

Missing a message about suicide, self-harm or immediate danger is the worst failure this
product can have, so the engine's classifier is backed by these patterns
(`bot/safety/lexicon/<tag>.yml`). All languages' patterns apply to every message, whatever
its detected language. Patterns and messages are compared in `fold`ed form, so typing
without diacritics or apostrophes does not slip past.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.nlp.normalize import fold

LEXICON_DIR = Path(__file__).parent / "lexicon"
_ESCAPE = re.compile(r"(\\.)")


@dataclass(frozen=True)
class CrisisMatch:
    """Which lexicon entry matched (never the message text: that must not reach logs)."""

    language: str
    index: int


def fold_pattern(pattern: str) -> str:
    """Fold a regular expression like `fold` folds text, leaving escapes such as `\\W` intact."""
    parts = _ESCAPE.split(pattern)
    return "".join(part if part.startswith("\\") else fold(part) for part in parts)


class CrisisLexicon:
    """Compiled crisis patterns of every language."""

    def __init__(self, patterns: dict[str, list[str]]) -> None:
        self.patterns = {
            language: [re.compile(fold_pattern(p)) for p in entries]
            for language, entries in patterns.items()
        }

    @classmethod
    def load(cls, directory: Path = LEXICON_DIR) -> CrisisLexicon:
        """Read every `<tag>.yml` lexicon file in `directory`."""
        patterns: dict[str, list[str]] = {}
        for path in sorted(directory.glob("*.yml")):
            document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            patterns[path.stem] = [str(p) for p in document.get("patterns", [])]
        return cls(patterns)

    def match(self, text: str) -> CrisisMatch | None:
        """Return the first matching entry for `text`, or None."""
        folded = fold(text)
        for language, compiled in self.patterns.items():
            for index, pattern in enumerate(compiled):
                if pattern.search(folded):
                    return CrisisMatch(language, index)
        return None
