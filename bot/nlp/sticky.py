"""Decide the conversation language: sticky per person, changed only on good evidence."""

from __future__ import annotations

from bot.nlp.langid import Detection
from bot.nlp.languages import LANGUAGES

#: A detection may switch the conversation language only with this many words…
SWITCH_MIN_WORDS = 3
#: …and at least this confidence.
SWITCH_MIN_CONFIDENCE = 0.8
#: Uzbek written in the other script switches with fewer words: the script is plain to see.
SCRIPT_SWITCH_MIN_WORDS = 2
#: In a new conversation, a detection this sure over this many words wins over the channel's hint.
FIRST_MIN_WORDS = 2
FIRST_MIN_CONFIDENCE = 0.8
_UZBEK = {"uz", "uz-Cyrl"}


def is_language(tag: object) -> bool:
    """True if `tag` is one of the seven supported language tags."""
    return isinstance(tag, str) and tag in LANGUAGES


def choose_language(
    current: str | None,
    detection: Detection | None,
    hint: str | None = None,
    explicit: str | None = None,
) -> str | None:
    """Return the conversation language after one message.

    `explicit` is a language chosen for this conversation (the language menu, or the record's
    language after a link or a caseworker's change) and wins over everything. `hint` is what
    the channel knows and only fills an empty slot, unless the first message is confidently
    in another language. Short or uncertain messages ("ok", "ha", "да", "салом") never change
    a language already set.
    """
    if is_language(explicit):
        return explicit
    if current is None:
        sure = detection is not None and detection.words >= FIRST_MIN_WORDS and (
            detection.confidence >= FIRST_MIN_CONFIDENCE)
        if detection is not None and detection.words > 0 and (sure or not is_language(hint)):
            return detection.language
        return hint if is_language(hint) else None
    if detection is None or detection.words == 0 or detection.language == current:
        return current
    if (
        {current, detection.language} == _UZBEK
        and detection.words >= SCRIPT_SWITCH_MIN_WORDS
        and detection.confidence >= SWITCH_MIN_CONFIDENCE
    ):
        return detection.language
    if detection.words >= SWITCH_MIN_WORDS and detection.confidence >= SWITCH_MIN_CONFIDENCE:
        return detection.language
    return current
