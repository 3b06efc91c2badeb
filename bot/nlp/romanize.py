"""A script-neutral spelling of a message, so the intent classifier sees one word where people write two.

People write Russian in Latin letters ("ne mogu spat"), Uzbek in Latin and in Cyrillic
("o'zimni" / "ўзимни"), Kazakh and Kyrgyz without their special letters, and mix the common
transliterations (zh/j, kh/h/x, q/k). `romanize` maps all of them to one lower-case Latin
skeleton: Cyrillic letters to their usual Latin spelling, Latin variants to one choice, no
apostrophes, no doubled letters. The skeleton is a feature for the classifier only; nobody
reads it, and the language identifier still sees the original script.
"""

from __future__ import annotations

import re
import unicodedata

from bot.nlp.normalize import APOSTROPHES

_CYRILLIC_TO_LATIN = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "j", "з": "z",
        "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
        "с": "s", "т": "t", "у": "u", "ф": "f", "х": "h", "ц": "ts", "ч": "ch", "ш": "sh", "щ": "sh",
        "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
        # Kazakh, Kyrgyz, Tajik and Uzbek letters, as people type them without a special keyboard
        "ә": "a", "ғ": "g", "қ": "k", "ң": "n", "ө": "o", "ұ": "u", "ү": "u", "һ": "h", "і": "i",
        "ў": "o", "ҳ": "h", "ӣ": "i", "ӯ": "u", "ҷ": "j",
    }
)
#: Latin spellings of one sound, mapped to the choice the Cyrillic table makes.
_LATIN_VARIANTS = (("shch", "sh"), ("sch", "sh"), ("zh", "j"), ("kh", "h"), ("x", "h"), ("q", "k"), ("w", "v"))
_C_NOT_CH = re.compile("c(?!h)")
_APOSTROPHE = re.compile(f"[{APOSTROPHES}]")
_DOUBLED_LETTER = re.compile(r"([^\W\d_])\1+")


def romanize(text: str) -> str:
    """Return the script-neutral skeleton of `text`: `"Не могу спать"` and `"ne mogu spat"` both give `ne mogu spat`."""
    skeleton = _APOSTROPHE.sub("", unicodedata.normalize("NFC", text).lower())
    for variant, choice in _LATIN_VARIANTS:
        skeleton = skeleton.replace(variant, choice)
    skeleton = _C_NOT_CH.sub("ts", skeleton).translate(_CYRILLIC_TO_LATIN)
    return _DOUBLED_LETTER.sub(r"\1", skeleton)
