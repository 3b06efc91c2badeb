"""Read the training examples in `nlu_data/<tag>.yml` (Rasa 3 NLU YAML)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.nlp.languages import LANGUAGES

# [text](entity), [text](entity:value) or [text]{"entity": ..., "value": ...}
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


@dataclass(frozen=True)
class Example:
    """One training example: its language, intent and plain text (annotations removed)."""

    language: str
    intent: str
    text: str


def plain_text(annotated: str) -> str:
    """Remove entity annotations: `kurs [Toshkentda](city)` → `kurs Toshkentda`."""
    return _ANNOTATION.sub(r"\1", annotated)


def read_language_file(path: Path, language: str) -> list[Example]:
    """Return the examples of one language file, in file order."""
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    examples = []
    for block in document.get("nlu", []):
        intent = block.get("intent")
        if not intent:
            continue
        for line in str(block.get("examples", "")).splitlines():
            line = line.strip()
            if line.startswith("- "):
                examples.append(Example(language, intent, plain_text(line[2:].strip())))
    return examples


def read_examples(data_dir: Path) -> list[Example]:
    """Return the examples of all seven languages found in `data_dir`."""
    examples: list[Example] = []
    for language in LANGUAGES:
        path = data_dir / f"{language}.yml"
        if path.exists():
            examples.extend(read_language_file(path, language))
    return examples
