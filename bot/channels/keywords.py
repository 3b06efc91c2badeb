"""Opt-out and opt-in keywords in the seven languages, recognised before the engine.

A message that is only such a keyword (any case, any apostrophe, with or without the
language's special letters or trailing punctuation) stops or resumes all messages.
"""

from __future__ import annotations

import re

from bot.nlp.normalize import fold

OPT_OUT = {
    "stop", "unsubscribe", "stop all", "cancel messages",  # en (and Twilio's standard words)
    "стоп", "отписаться", "отписка", "хватит",  # ru
    "toxtat", "toxtating", "tohtat", "obunani bekor qilish",  # uz (folded: TO'XTAT)
    "тухтат", "тухтатинг",  # uz-Cyrl (folded: ТЎХТАТ)
    "токтат", "токтатыныз", "тоқтат",  # kk (folded: ТОҚТАТ)
    "токтот", "токтотунуз",  # ky
    "бас", "бас кун", "катъ", "қатъ",  # tg
}
OPT_IN = {
    "start", "unstop", "subscribe", "resume",
    "старт", "подписаться",
    "boshla", "boshlash", "davom", "бошла", "бошлаш",
    "баста", "бастау",
    "башта", "баштоо",
    "оғоз", "огоз",
}
_PUNCTUATION = re.compile(r"[^\w\s]+")
_FOLDED_OUT = {fold(word) for word in OPT_OUT}
_FOLDED_IN = {fold(word) for word in OPT_IN}


def keyword_of(text: str) -> str | None:
    """"opt_out", "opt_in" or None for a message."""
    folded = " ".join(_PUNCTUATION.sub(" ", fold(text)).split())
    if folded in _FOLDED_OUT:
        return "opt_out"
    if folded in _FOLDED_IN:
        return "opt_in"
    return None
