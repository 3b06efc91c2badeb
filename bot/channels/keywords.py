"""Opt-out and opt-in keywords, recognised by the app before the engine.

A message that is only such a keyword (any case, any apostrophe, with or without the
language's special letters or trailing punctuation) stops or resumes all messages at once.
Words that mean something else in another language (Russian "баста" is "enough", Kazakh
"баста" is "start") act only in a conversation in their own language; free-text requests
("please stop writing to me") are the engine's, which asks before it unsubscribes anyone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.nlp.normalize import fold

OPT_OUT, OPT_IN = "opt_out", "opt_in"

#: Carrier commands: act in any conversation, on any channel.
UNIVERSAL: dict[str, str] = {
    "stop": OPT_OUT, "stopall": OPT_OUT, "stop all": OPT_OUT, "unsubscribe": OPT_OUT, "stop sms": OPT_OUT,
    "стоп": OPT_OUT, "стоп смс": OPT_OUT,
    "start": OPT_IN, "unstop": OPT_IN, "старт": OPT_IN,
}
#: Twilio's own opt-out words on SMS (it blocks the number on them whatever we do, so we must
#: know it too) and its opt-in words after an opt-out ("yes" re-subscribes only then).
SMS_OPT_OUT = {"cancel", "end", "quit", "revoke", "optout", "opt out"}
SMS_OPT_IN_WHEN_OPTED_OUT = {"yes"}
#: Words that act only in a conversation in their language (or, before the language is known,
#: when no other language reads the word differently). Never words of everyday talk that can
#: also mean "enough", "leave me alone", "cancel" or "go ahead": those are the engine's, which asks.
BY_LANGUAGE: dict[str, dict[str, str]] = {
    "en": {"unsubscribe me": OPT_OUT, "cancel messages": OPT_OUT, "stop messages": OPT_OUT,
           "stop reminders": OPT_OUT, "subscribe": OPT_IN, "resubscribe": OPT_IN, "resume": OPT_IN,
           "start again": OPT_IN, "opt in": OPT_IN, "optin": OPT_IN},
    "ru": {"стоп рассылка": OPT_OUT, "отписаться": OPT_OUT, "отписка": OPT_OUT, "отпишите": OPT_OUT,
           "отпишите меня": OPT_OUT, "отключить рассылку": OPT_OUT, "отключите рассылку": OPT_OUT,
           "otpisatsya": OPT_OUT, "otpiska": OPT_OUT, "otpishite menya": OPT_OUT,
           "подписаться": OPT_IN, "подписаться снова": OPT_IN, "подписаться заново": OPT_IN,
           "возобновить рассылку": OPT_IN, "включить рассылку": OPT_IN, "podpisatsya": OPT_IN},
    "uz": {"toʻxtat": OPT_OUT, "toʻxtating": OPT_OUT, "toʻxtatish": OPT_OUT, "tohtat": OPT_OUT,
           "tohtating": OPT_OUT, "tuxtat": OPT_OUT, "tuxtating": OPT_OUT, "obunani bekor qilish": OPT_OUT,
           "obunani bekor qiling": OPT_OUT, "obunadan chiqish": OPT_OUT, "otpiska": OPT_OUT,
           "qayta obuna": OPT_IN, "obuna boʻlish": OPT_IN, "qayta obuna boʻlish": OPT_IN,
           "obunani tiklash": OPT_IN, "boshlash": OPT_IN, "qayta boshlash": OPT_IN},
    "uz-Cyrl": {"тўхтат": OPT_OUT, "тўхтатинг": OPT_OUT, "тўхтатиш": OPT_OUT, "тохтат": OPT_OUT,
                "тохтатинг": OPT_OUT, "обунани бекор қилиш": OPT_OUT, "обунани бекор қилинг": OPT_OUT,
                "обунадан чиқиш": OPT_OUT, "отписка": OPT_OUT, "отписаться": OPT_OUT,
                "қайта обуна": OPT_IN, "обуна бўлиш": OPT_IN, "қайта обуна бўлиш": OPT_IN,
                "обунани тиклаш": OPT_IN, "бошлаш": OPT_IN, "қайта бошлаш": OPT_IN},
    "kk": {"тоқтат": OPT_OUT, "тоқтатыңыз": OPT_OUT, "тоқтатыңызшы": OPT_OUT, "тоқтатыңыздар": OPT_OUT,
           "toktat": OPT_OUT, "toqtat": OPT_OUT, "toktatynyz": OPT_OUT, "отписка": OPT_OUT,
           "жазылымнан шығу": OPT_OUT,
           "бастау": OPT_IN, "баста": OPT_IN, "bastau": OPT_IN, "қайта қосу": OPT_IN, "қайта жазылу": OPT_IN},
    "ky": {"токтот": OPT_OUT, "токтотуңуз": OPT_OUT, "токтоткула": OPT_OUT, "токтотуңузчу": OPT_OUT,
           "toktot": OPT_OUT, "toktotunuz": OPT_OUT, "toktotkula": OPT_OUT, "отписка": OPT_OUT,
           "жазылуудан чыгуу": OPT_OUT,
           "баштоо": OPT_IN, "башта": OPT_IN, "bashtoo": OPT_IN, "кайра жазылуу": OPT_IN, "кайра кошуу": OPT_IN},
    "tg": {"бас кунед": OPT_OUT, "bas kuned": OPT_OUT, "қатъ кунед": OPT_OUT,
           "обунаро бекор кунед": OPT_OUT, "obunaro bekor kuned": OPT_OUT,
           "отписка": OPT_OUT, "отписаться": OPT_OUT, "otpiska": OPT_OUT,
           "оғоз": OPT_IN, "ogoz": OPT_IN, "обунаро барқарор кунед": OPT_IN,
           "obunaro barqaror kuned": OPT_IN, "боз обуна": OPT_IN, "boz obuna": OPT_IN, "подписаться": OPT_IN},
}
#: Words a language reads differently from the language that lists them: never keywords in that
#: language's conversation, and never before the language is known (Russian "баста" is "enough").
NOT_KEYWORDS: dict[str, set[str]] = {"ru": {"баста", "хватит"}, "uz": {"bas"}, "uz-Cyrl": {"бас"}, "tg": {"бас"}}
#: An opt-in word inside a sentence of at most this many words ("start please", "START again").
SHORT_SENTENCE_WORDS = 6
_PUNCTUATION = re.compile(r"[^\w\s]+")
_UNIVERSAL = {fold(word): kind for word, kind in UNIVERSAL.items()}
_BY_LANGUAGE = {language: {fold(word): kind for word, kind in words.items()} for language, words in BY_LANGUAGE.items()}
_AMBIGUOUS = {fold(word) for words in NOT_KEYWORDS.values() for word in words}


@dataclass(frozen=True)
class Keyword:
    """A keyword found: what it does, and the language it is written in (None: several)."""

    kind: str
    language: str | None


def _plain(text: str) -> str:
    return " ".join(_PUNCTUATION.sub(" ", fold(text)).split())


def _lookup(words: str, language: str | None) -> Keyword | None:
    if words in _UNIVERSAL:
        return Keyword(_UNIVERSAL[words], None)
    if language is not None:
        kind = _BY_LANGUAGE.get(language, {}).get(words)
        return Keyword(kind, language) if kind else None
    readings = {(tag, words_of[words]) for tag, words_of in _BY_LANGUAGE.items() if words in words_of}
    if words in _AMBIGUOUS or len({kind for _, kind in readings}) != 1:
        return None  # unknown word, or languages disagree on what it means
    kinds = {kind for _, kind in readings}
    tags = sorted(tag for tag, _ in readings)
    return Keyword(kinds.pop(), tags[0] if len(tags) == 1 else None)


def keyword_of(text: str, language: str | None, channel: str = "", opted_out: bool = False) -> Keyword | None:
    """The keyword that `text` consists of, read in the conversation's `language` (None: not yet known).

    By SMS, Twilio's own opt-out words count as well, and "yes" after an opt-out (Twilio resumes on it).
    """
    words = _plain(text)
    if channel == "sms" and words in SMS_OPT_OUT:
        return Keyword(OPT_OUT, None)
    if channel == "sms" and opted_out and words in SMS_OPT_IN_WHEN_OPTED_OUT:
        return Keyword(OPT_IN, None)
    return _lookup(words, language)


def asks_opt_in(text: str, language: str | None) -> bool:
    """True if a short sentence contains START (or a language's opt-in phrase of two words):
    "START please", "qayta obuna iltimos". Single words of a language ("boshlash") are left out:
    "kursni boshlash qachon" asks when a course starts."""
    words = _plain(text).split()
    if not words or len(words) > SHORT_SENTENCE_WORDS:
        return False
    pairs = [" ".join(pair) for pair in zip(words, words[1:], strict=False)]
    universal = any(_UNIVERSAL.get(word) == OPT_IN for word in words)
    return universal or any((found := _lookup(pair, language)) is not None and found.kind == OPT_IN for pair in pairs)
