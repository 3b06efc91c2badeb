"""The seven conversation languages and their scripts."""

from __future__ import annotations

#: Language tags in menu order.
LANGUAGES = ("en", "ru", "uz", "uz-Cyrl", "kk", "ky", "tg")

#: What each language calls itself (the language menu's button titles).
ENDONYMS = {
    "en": "English",
    "ru": "Русский",
    "uz": "O'zbekcha",
    "uz-Cyrl": "Ўзбекча",
    "kk": "Қазақша",
    "ky": "Кыргызча",
    "tg": "Тоҷикӣ",
}

#: Scripts people use to write each language: Russian, Kazakh, Kyrgyz and Tajik are often typed
#: in Latin letters on phones (the replies still come in the language's own script).
SCRIPTS = {
    "en": {"Latin"},
    "ru": {"Cyrillic", "Latin"},
    "uz": {"Latin"},
    "uz-Cyrl": {"Cyrillic"},
    "kk": {"Cyrillic", "Latin"},
    "ky": {"Cyrillic", "Latin"},
    "tg": {"Cyrillic", "Latin"},
}

DEFAULT_LANGUAGE = "uz"


def dominant_script(text: str) -> str | None:
    """Return "Latin" or "Cyrillic" by majority of letters, or None if there are no letters."""
    latin = cyrillic = 0
    for char in text:
        if not char.isalpha():
            continue
        if "\u0400" <= char <= "\u04ff" or "\u0500" <= char <= "\u052f":
            cyrillic += 1
        elif char.isascii() or "\u00c0" <= char <= "\u024f":
            latin += 1
    if latin == cyrillic == 0:
        return None
    return "Cyrillic" if cyrillic >= latin else "Latin"
