"""The console's own texts in seven languages (gettext catalogs in `locales/*.po`, read with
Babel), and dates, times and waits in the caseworker's locale and time zone."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache
from io import BytesIO
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from bot.nlp.languages import LANGUAGES

LOCALES_DIR = Path(__file__).parent / "locales"
#: Hamroh's language codes as CLDR (Babel) locales.
BABEL_LOCALES = {"en": "en", "ru": "ru", "uz": "uz_Latn", "uz-Cyrl": "uz_Cyrl", "kk": "kk", "ky": "ky", "tg": "tg"}
#: Each language's name in itself, for the language switch.
NATIVE_NAMES = {"en": "English", "ru": "Русский", "uz": "Oʻzbekcha", "uz-Cyrl": "Ўзбекча", "kk": "Қазақша",
                "ky": "Кыргызча", "tg": "Тоҷикӣ"}


@cache
def translations(language: str) -> Translations:
    """The catalog of `language` (English texts are the message ids themselves)."""
    path = LOCALES_DIR / f"{language}.po"
    if language not in LANGUAGES or not path.exists():
        return Translations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=BABEL_LOCALES[language])
    compiled = BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return Translations(compiled)


def supported(language: str | None) -> str:
    """`language` if the console speaks it, else Russian (the region's common language)."""
    return language if language in BABEL_LOCALES else "ru"


def local_time(moment: datetime, language: str, time_zone: str, style: str = "medium") -> str:
    """`moment` as the caseworker reads it: their time zone, their language's date format."""
    return format_datetime(moment, style, tzinfo=ZoneInfo(time_zone), locale=BABEL_LOCALES[language])


#: CLDR has no Tajik unit names (Babel gives "3 h"): the words for the units `waited` uses.
TAJIK_UNITS = {"year": "сол", "month": "моҳ", "week": "ҳафта", "day": "рӯз", "hour": "соат", "minute": "дақиқа",
               "second": "сония"}


def waited(since: datetime, now: datetime, language: str) -> str:
    """How long ago `since` was, in words ("3 hours")."""
    delta = max(now - since, timedelta(0))
    if language == "tg":
        number, unit = format_timedelta(delta, format="long", locale="en").split(" ")
        return f"{number} {TAJIK_UNITS[unit.rstrip('s')]}"
    return format_timedelta(delta, locale=BABEL_LOCALES[language])
