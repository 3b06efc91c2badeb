"""Text normalisation applied before the engine, the language identifier and the lexicon see a message."""

from __future__ import annotations

import re
import unicodedata

#: Apostrophe look-alikes people type in Uzbek Latin (o' o` o‘ oʻ g’ …).
APOSTROPHES = "'`‘’ʻʼ´′ʹ"
#: The engine's WhitespaceTokenizer keeps U+02BB inside a word but splits at ' and ‘.
CANONICAL_APOSTROPHE = "\u02bb"

_APOSTROPHE_BETWEEN_LETTERS = re.compile(rf"(?<=\w)[{APOSTROPHES}](?=\w)")
_ANY_APOSTROPHE = re.compile(f"[{APOSTROPHES}]")
_SPACES = re.compile(r"\s+")

#: Letters that people often type without their diacritics (Kazakh, Kyrgyz, Tajik, Uzbek Cyrillic).
_FOLD = str.maketrans(
    {
        "ә": "а", "ғ": "г", "қ": "к", "ң": "н", "ө": "о", "ұ": "у", "ү": "у", "һ": "х",
        "і": "и", "ў": "у", "ҳ": "х", "ӣ": "и", "ӯ": "у", "ҷ": "ч", "ё": "е",
    }
)


def unify_apostrophes(text: str) -> str:
    """Replace every apostrophe look-alike inside a word with U+02BB, keeping the length.

    `o'zimni`, `o‘zimni` and `oʻzimni` all become `oʻzimni`, which the engine's tokenizer
    keeps as one word; entity offsets in the training data stay valid.
    """
    return _APOSTROPHE_BETWEEN_LETTERS.sub(CANONICAL_APOSTROPHE, text)


def normalize_text(text: str) -> str:
    """Return `text` in NFC, with unified apostrophes and single spaces."""
    text = unify_apostrophes(unicodedata.normalize("NFC", text))
    return _SPACES.sub(" ", text).strip()


def fold(text: str) -> str:
    """Return a lower-case, apostrophe-free, diacritic-folded form for lexicon matching."""
    text = unicodedata.normalize("NFC", text).lower()
    text = _ANY_APOSTROPHE.sub("", text)
    return _SPACES.sub(" ", text.translate(_FOLD)).strip()
