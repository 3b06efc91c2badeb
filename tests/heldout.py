"""Held-out test messages (tests/data/heldout/<tag>.yml): never in the training data."""

from __future__ import annotations

from pathlib import Path

import yaml

HELDOUT_DIR = Path(__file__).parent / "data" / "heldout"


def heldout(language: str, kind: str) -> list[str]:
    """The held-out messages of `kind` ("crisis", "harmless" or "language_id") for `language`."""
    document = yaml.safe_load((HELDOUT_DIR / f"{language}.yml").read_text(encoding="utf-8"))
    return [str(message) for message in document[kind]]
