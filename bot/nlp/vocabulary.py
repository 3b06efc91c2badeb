"""Canonical trades and cities, however they are written: payvandchi / сварщик / welding / кафшергар.

The vocabulary is read from the entity annotations in `nlu_data/` (each annotation names its
canonical English value), so every language's spellings count. Unseen inflections
(Toshkentda, Ташкенте, Алматыда) match by their folded stem.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

from bot.nlp.filler import is_filler
from bot.nlp.intent_rules import SHORT_WORDS
from bot.nlp.languages import LANGUAGES
from bot.nlp.normalize import fold, normalize_text

_ANNOTATION = re.compile(r"\[([^\]]+)\]\{([^}]*)\}")
_WORD = re.compile(r"\w+(?:-\w+)*")
_STEM = 5


class Vocabulary:
    """Known surface forms per entity, each mapped to its canonical value."""

    def __init__(self, forms: dict[str, dict[str, str]]) -> None:
        self.forms = forms  # entity -> folded form -> canonical value

    @classmethod
    def from_nlu_data(cls, data_dir: Path) -> Vocabulary:
        """Collect `[text]{"entity": ..., "value": ...}` annotations from every language file."""
        forms: dict[str, dict[str, str]] = defaultdict(dict)
        for language in LANGUAGES:
            path = data_dir / f"{language}.yml"
            if not path.exists():
                continue
            for text, body in _ANNOTATION.findall(path.read_text(encoding="utf-8")):
                annotation = json.loads("{" + body + "}")
                entity, value = annotation.get("entity"), annotation.get("value", text)
                forms[entity][fold(text)] = value
                forms[entity][fold(value)] = value
        return cls(dict(forms))

    def values(self, entity: str) -> set[str]:
        """Every canonical value of `entity`."""
        return set(self.forms.get(entity, {}).values())

    def canonical(self, entity: str, text: str) -> str | None:
        """The canonical value of one written form, exact or by stem, else None."""
        forms = self.forms.get(entity, {})
        folded = fold(text)
        if folded in forms:
            return forms[folded]
        if len(folded) < 4:
            return None
        stem = folded[: max(4, min(_STEM, len(folded) - 1))]
        candidates = {value for form, value in forms.items() if form.startswith(stem)}
        return candidates.pop() if len(candidates) == 1 else None

    def find(self, entity: str, message: str) -> str | None:
        """The first canonical value any word (or pair of words) of `message` stands for."""
        words = fold(message).split()
        for size in (2, 1):
            for start in range(len(words) - size + 1):
                value = self.canonical(entity, " ".join(words[start : start + size]))
                if value:
                    return value
        return None

    def unknown_trade(self, message: str) -> str | None:
        """The trade a short course request asks for that no course has: in a message of at most
        `SHORT_WORDS` words that names a known city and nothing else the vocabulary knows, the words
        left besides the city and filler (`bot.nlp.filler`), as written ("pastry chef" in "pastry chef
        Tashkent"). None for a city-only request ("courses in Almaty") or any other message."""
        words = [word for word in _WORD.findall(normalize_text(message)) if not word.isdigit()]
        if not words or len(words) > SHORT_WORDS:
            return None
        folded = [fold(word) for word in words]
        city = self._city_positions(folded)
        if not city or any(self.find(entity, message) for entity in self.forms if entity != "city"):
            return None
        rest = [word for n, word in enumerate(words) if n not in city and not is_filler(folded[n])]
        return " ".join(rest) or None

    def _city_positions(self, folded: list[str]) -> set[int]:
        """Which of the folded words name a city: a known pair of words, or one word (exact or by stem)."""
        cities = self.forms.get("city", {})
        positions: set[int] = set()
        for start in range(len(folded) - 1):
            if f"{folded[start]} {folded[start + 1]}" in cities:
                positions |= {start, start + 1}
        return positions | {n for n, word in enumerate(folded) if n not in positions and self.canonical("city", word)}
