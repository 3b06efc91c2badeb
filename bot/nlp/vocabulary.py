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

from bot.nlp.languages import LANGUAGES
from bot.nlp.normalize import fold

_ANNOTATION = re.compile(r"\[([^\]]+)\]\{([^}]*)\}")
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
