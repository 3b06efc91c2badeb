"""Rules on top of the classifier: a trade or city without another clear intent is a course
search; a long unclear message gets the menu; safety and explicit requests are never overridden."""

from __future__ import annotations

import pytest

from bot.nlp.intent_rules import Reading, refined_intent


@pytest.mark.parametrize(
    "reading, expected",
    [
        # the bot's own course examples, misread by the classifier
        (Reading("out_of_scope", 0.37, 2, trade=True, city=True), "ask_courses"),  # tailoring Tashkent
        (Reading("check_document_status", 0.37, 3, trade=True, city=True), "ask_courses"),  # кафшергарӣ дар Хуҷанд
        (Reading("crisis", 0.24, 2, trade=True, city=True), "ask_courses"),  # дӯзандагӣ Хуҷанд, no lexicon
        (Reading("nlu_fallback", 0.2, 1, trade=False, city=True), "ask_courses"),  # Ташкент
        # a longer message with a trade the classifier is unsure of
        (Reading("help", 0.4, 9, trade=True, city=False), "ask_courses"),
        # a clear other intent stays, even with a city in it
        (Reading("cancel_appointment", 0.99, 3, trade=False, city=True), None),
        (Reading("ask_appointments", 0.7, 6, trade=False, city=True), None),
        # safety and explicit requests are never overridden
        (Reading("crisis", 0.8, 3, trade=False, city=True), None),
        (Reading("distress", 0.4, 4, trade=False, city=True), None),
        (Reading("talk_to_human", 0.3, 2, trade=True, city=False), None),
        (Reading("ask_courses", 0.5, 2, trade=True, city=True), None),
        # several requests in one long message, and the classifier unsure: the menu
        (Reading("check_document_status", 0.41, 24, trade=False, city=False), "nlu_fallback"),
        (Reading("talk_to_human", 0.41, 24, trade=False, city=False), None),
        (Reading("check_document_status", 0.8, 24, trade=False, city=False), None),
        (Reading("crisis", 0.41, 24, trade=False, city=False), None),
        (Reading("greet", 0.4, 2, trade=False, city=False), None),
    ],
)
def test_refined_intent(reading: Reading, expected: str | None) -> None:
    assert refined_intent(reading) == expected
