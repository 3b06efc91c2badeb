"""The crisis safety net: held-out phrasings in every language must all be caught."""

from __future__ import annotations

import pytest

from bot.nlp.languages import LANGUAGES
from bot.nlp.nludata import read_examples
from bot.safety.crisis import CrisisLexicon, fold_pattern
from bot.settings import REPO_ROOT

from .heldout import heldout

LEXICON = CrisisLexicon.load()
EXAMPLES = read_examples(REPO_ROOT / "nlu_data")


def test_every_language_has_a_lexicon() -> None:
    assert set(LEXICON.patterns) == set(LANGUAGES)
    assert min(len(patterns) for patterns in LEXICON.patterns.values()) >= 20


@pytest.mark.parametrize("language", LANGUAGES)
def test_recall_is_complete_on_heldout_phrasings(language: str) -> None:
    missed = [message for message in heldout(language, "crisis") if LEXICON.match(message) is None]
    assert missed == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_recall_is_complete_on_training_crisis_examples(language: str) -> None:
    crisis = [e.text for e in EXAMPLES if e.language == language and e.intent == "crisis"]
    assert crisis and [text for text in crisis if LEXICON.match(text) is None] == []


def test_false_alarms_on_other_intents_are_rare() -> None:
    others = [e.text for e in EXAMPLES if e.intent != "crisis"]
    alarms = [text for text in others if LEXICON.match(text) is not None]
    assert len(alarms) / len(others) < 0.01, alarms


@pytest.mark.parametrize(
    "message",
    [
        "OʻZIMNI OʻLDIRAMAN",  # capitals and the U+02BB apostrophe
        "ozimni oldiraman",  # no apostrophes at all
        "Өзімді өлтіргім келеді",  # Kazakh with its letters
        "ozimdi oltirgim keledi",  # … and transliterated without them
        "не хочу жить",
        "ne hochu zhit",
    ],
)
def test_spelling_variants_are_caught(message: str) -> None:
    assert LEXICON.match(message) is not None


def test_a_match_names_the_entry_not_the_message() -> None:
    match = LEXICON.match("не хочу жить")
    assert match is not None and match.language in LANGUAGES and isinstance(match.index, int)


def test_fold_pattern_keeps_escapes() -> None:
    assert fold_pattern(r"\W+Ә\S") == r"\W+а\S"
    assert fold_pattern(r"O'LDIR\b") == r"oldir\b"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_false_alarm_on_heldout_harmless_messages(language: str) -> None:
    """Idioms, housing, course names, grief: alarming-looking words, no crisis (never trained on)."""
    harmless = heldout(language, "harmless")
    assert len(harmless) >= 40
    assert [message for message in harmless if LEXICON.match(message) is not None] == []


def test_distress_is_support_not_a_crisis_alarm() -> None:
    distress = [e.text for e in EXAMPLES if e.intent == "distress"]
    assert distress and [text for text in distress if LEXICON.match(text) is not None] == []
