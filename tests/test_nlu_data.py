"""The training data: seven files, the 21 intents, enough distinct examples, valid entities."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from bot.nlp.languages import LANGUAGES
from bot.nlp.nludata import plain_text, read_examples, read_language_file
from bot.nlp.normalize import fold
from bot.settings import REPO_ROOT

from .heldout import heldout

NLU_DIR = REPO_ROOT / "nlu_data"
INTENTS = {
    "greet", "goodbye", "affirm", "deny", "thanks", "help", "change_language", "ask_appointments",
    "confirm_appointment", "cancel_appointment", "reschedule_appointment", "ask_courses",
    "register_course_interest", "request_psych_support", "crisis", "check_document_status",
    "talk_to_human", "opt_out", "opt_in", "distress", "out_of_scope",
}
ENTITY = re.compile(r"\[[^\]]+\](?:\(([^):]+)[^)]*\)|\{\"entity\": *\"([^\"]+)\"[^}]*\})")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_intent_has_25_distinct_examples(language: str) -> None:
    examples = read_language_file(NLU_DIR / f"{language}.yml", language)
    counts = Counter(e.intent for e in examples)
    assert set(counts) == INTENTS
    distinct = Counter(e.intent for e in set(examples))
    assert min(distinct.values()) >= 25, distinct.most_common()[-3:]


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_example_is_given_two_intents(language: str) -> None:
    by_text: dict[str, set[str]] = {}
    for example in read_language_file(NLU_DIR / f"{language}.yml", language):
        by_text.setdefault(example.text.lower(), set()).add(example.intent)
    assert [text for text, intents in by_text.items() if len(intents) > 1] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_entities_are_the_three_declared_ones(language: str) -> None:
    text = (NLU_DIR / f"{language}.yml").read_text(encoding="utf-8")
    names = Counter(a or b for a, b in ENTITY.findall(text))
    assert set(names) == {"trade", "city", "document_type"}, names


def test_plain_text_removes_annotations() -> None:
    annotated = 'kurs [Toshkentda]{"entity": "city", "value": "Tashkent"} [payvand](trade) bormi'
    assert plain_text(annotated) == "kurs Toshkentda payvand bormi"


def test_heldout_messages_are_not_in_the_training_data() -> None:
    trained = {fold(e.text) for e in read_examples(NLU_DIR)}
    for language in LANGUAGES:
        for kind in ("crisis", "language_id", "course_city_only", "course_unknown_trade"):
            leaked = [m for m in heldout(language, kind) if fold(m) in trained]
            assert leaked == [], f"{language} {kind}: {leaked}"
