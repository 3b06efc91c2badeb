"""Opt-out and opt-in keywords in the seven languages, recognised before the engine.

A message that is only such a keyword (any case, any apostrophe, with or without the
language's special letters or trailing punctuation) stops or resumes all messages.
"""

from __future__ import annotations

import re

from bot.nlp.normalize import fold

#: Keyword -> the language it is written in (None: several languages use it).
OPT_OUT: dict[str, str | None] = {
    "stop": None, "unsubscribe": "en", "stop all": "en", "cancel messages": "en",  # Twilio's standard words
    "стоп": "ru", "отписаться": "ru", "отписка": "ru", "хватит": "ru",
    "to'xtat": "uz", "to'xtating": "uz", "tohtat": "uz", "obunani bekor qilish": "uz",
    "тўхтат": "uz-Cyrl", "тўхтатинг": "uz-Cyrl",
    "тоқтат": "kk", "тоқтатыңыз": "kk",
    "токтот": "ky", "токтотуңуз": "ky",
    "бас": "tg", "бас кунед": "tg",
}
OPT_IN: dict[str, str | None] = {
    "start": None, "unstop": "en", "subscribe": "en", "resume": "en",
    "старт": None, "подписаться": "ru",
    "boshla": "uz", "boshlash": "uz", "бошла": "uz-Cyrl", "бошлаш": "uz-Cyrl",
    "баста": "kk", "бастау": "kk",
    "башта": "ky", "баштоо": "ky",
    "оғоз": "tg",
}
_PUNCTUATION = re.compile(r"[^\w\s]+")
_FOLDED = {
    **{fold(word): ("opt_in", language) for word, language in OPT_IN.items()},
    **{fold(word): ("opt_out", language) for word, language in OPT_OUT.items()},
}


def keyword_of(text: str) -> tuple[str, str | None] | None:
    """("opt_out" or "opt_in", the keyword's language if it has one), or None for other messages.

    Folding makes ТОҚТАТ and ТОКТАТ, TO'XTAT and TOXTAT the same; where two languages then
    share a spelling, the later entry's language wins, which only affects the confirmation's language.
    """
    return _FOLDED.get(" ".join(_PUNCTUATION.sub(" ", fold(text)).split()))
