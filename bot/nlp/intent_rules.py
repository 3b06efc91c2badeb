"""Rules on top of the intent classifier, shared by the engine's `IntentRules` component.

- A trade or a city ("tailoring Tashkent", "кафшергарӣ дар Хуҷанд") with no other clear intent
  is a course search: the classifier's guess for two or three words is often something else.
- A long message the classifier is unsure of (several requests, a story) gets the menu rather
  than an unrelated service.
Safety and explicit requests (crisis, distress, a psychologist, a person, opting out or in) are
never overridden.
"""

from __future__ import annotations

from dataclasses import dataclass

#: An intent at this confidence is clear: it is kept, and it may change data (see bot/actions).
CLEAR_CONFIDENCE = 0.9
#: Without the crisis lexicon, `crisis` at this confidence is a crisis (below it: distress, which
#: offers a psychologist and a person without an urgent alarm). The lexicon catches every held-out
#: crisis phrasing (tests/data/heldout); the classifier alone puts 115 of those 192 at 0.6 or
#: more, but also "жить негде" (nowhere to live) at 0.72 (measured 2026-12-04).
CRISIS_CONFIDENCE = 0.75
#: A trade or city decides a message of at most this many words…
SHORT_WORDS = 4
#: …and a trade a longer one the classifier is this unsure of.
UNSURE_CONFIDENCE = 0.5
#: A message of this many words or more, below this confidence, gets the menu.
LONG_WORDS = 15
LONG_MIN_CONFIDENCE = 0.6

COURSE_SEARCH = "ask_courses"
FALLBACK = "nlu_fallback"
KEPT = {"ask_courses", "register_course_interest", "distress", "request_psych_support", "talk_to_human",
        "opt_out", "opt_in", "change_language"}


@dataclass(frozen=True)
class Reading:
    """What the classifier and the entity vocabulary made of one message."""

    intent: str
    confidence: float
    words: int
    trade: bool
    city: bool


def refined_intent(reading: Reading) -> str | None:
    """The intent these rules put in place of the classifier's, or None to keep it."""
    if reading.intent in KEPT or reading.confidence >= CLEAR_CONFIDENCE:
        return None
    if reading.intent == "crisis" and reading.confidence >= CRISIS_CONFIDENCE:
        return None
    mentioned = reading.trade or reading.city
    if mentioned and (reading.words <= SHORT_WORDS or (reading.trade and reading.confidence < UNSURE_CONFIDENCE)):
        return COURSE_SEARCH
    if reading.words >= LONG_WORDS and reading.confidence < LONG_MIN_CONFIDENCE and reading.intent != "crisis":
        return FALLBACK
    return None
