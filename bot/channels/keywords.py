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

#: Carrier commands (Twilio's standard words and their Cyrillic spelling): act in any conversation.
UNIVERSAL: dict[str, str] = {
    "stop": OPT_OUT, "stopall": OPT_OUT, "stop all": OPT_OUT, "unsubscribe": OPT_OUT, "стоп": OPT_OUT,
    "start": OPT_IN, "unstop": OPT_IN, "старт": OPT_IN,
}
#: Words that act only in a conversation in their language (or, before the language is known,
#: when no other language reads the word differently).
BY_LANGUAGE: dict[str, dict[str, str]] = {
    "en": {"cancel messages": OPT_OUT, "subscribe": OPT_IN, "resume": OPT_IN},
    "ru": {"отписаться": OPT_OUT, "отписка": OPT_OUT, "подписаться": OPT_IN},
    "uz": {"toʻxtat": OPT_OUT, "toʻxtating": OPT_OUT, "tohtat": OPT_OUT, "obunani bekor qilish": OPT_OUT,
           "boshla": OPT_IN, "boshlash": OPT_IN},
    "uz-Cyrl": {"тўхтат": OPT_OUT, "тўхтатинг": OPT_OUT, "бошла": OPT_IN, "бошлаш": OPT_IN},
    "kk": {"тоқтат": OPT_OUT, "тоқтатыңыз": OPT_OUT, "баста": OPT_IN, "бастау": OPT_IN},
    "ky": {"токтот": OPT_OUT, "токтотуңуз": OPT_OUT, "башта": OPT_IN, "баштоо": OPT_IN},
    "tg": {"бас кунед": OPT_OUT, "қатъ кунед": OPT_OUT, "оғоз": OPT_IN},
}
#: An opt-in word inside a sentence of at most this many words ("start please", "START again").
SHORT_SENTENCE_WORDS = 6
_PUNCTUATION = re.compile(r"[^\w\s]+")
_UNIVERSAL = {fold(word): kind for word, kind in UNIVERSAL.items()}
_BY_LANGUAGE = {language: {fold(word): kind for word, kind in words.items()} for language, words in BY_LANGUAGE.items()}


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
    if len({kind for _, kind in readings}) != 1:
        return None  # unknown word, or languages disagree on what it means
    kinds = {kind for _, kind in readings}
    tags = sorted(tag for tag, _ in readings)
    return Keyword(kinds.pop(), tags[0] if len(tags) == 1 else None)


def keyword_of(text: str, language: str | None) -> Keyword | None:
    """The keyword that `text` consists of, read in the conversation's `language` (None: not yet known)."""
    return _lookup(_plain(text), language)


def asks_opt_in(text: str, language: str | None) -> bool:
    """True if a short sentence contains an opt-in keyword ("START please", "boshla iltimos")."""
    words = _plain(text).split()
    if not words or len(words) > SHORT_SENTENCE_WORDS:
        return False
    candidates = words + [" ".join(pair) for pair in zip(words, words[1:], strict=False)]
    return any((found := _lookup(candidate, language)) is not None and found.kind == OPT_IN
               for candidate in candidates)
