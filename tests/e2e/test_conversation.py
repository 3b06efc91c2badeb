"""Conversations through the real engine (Rasa 3.6) and the real app server."""

from __future__ import annotations

import json
import uuid

import pytest
import yaml

from bot.responses.catalog import Catalog
from bot.safety.contacts import CrisisContacts
from bot.settings import REPO_ROOT, get_settings

from .conftest import Services

pytestmark = pytest.mark.e2e

CATALOG = Catalog.load("uz")
CONTACTS = CrisisContacts.load(get_settings().crisis_contacts_file)


def text_of(name: str, language: str, channel: str | None = None) -> str:
    values = {"contacts": CONTACTS.lines_for(language), "opens": "09:00", "closes": "18:00"}
    return CATALOG.render(name, language, channel, values).text


def new_conversation() -> str:
    return uuid.uuid4().hex


@pytest.mark.parametrize(
    "language, greeting",
    [
        ("uz-Cyrl", "Ассалому алайкум, яхшимисиз"),
        ("uz", "assalomu alaykum yaxshimisiz"),
        ("ru", "здравствуйте, добрый день"),
        ("kk", "Сәлеметсіз бе, қалыңыз қалай"),
        ("ky", "Саламатсызбы, кандайсыз"),
        ("tg", "Ассалому алейкум, шумо чӣ хел"),
        ("en", "hello there, good morning"),
    ],
)
def test_greeting_is_answered_in_the_language_and_script_written(
    services: Services, language: str, greeting: str
) -> None:
    replies = services.send(new_conversation(), greeting)
    assert replies[0]["text"] == text_of("utter_greet", language)
    assert [b["payload"] for b in replies[0]["buttons"]][0] == "/ask_appointments"


def test_language_is_sticky_for_short_messages(services: Services) -> None:
    conversation = new_conversation()
    services.send(conversation, "Ассалому алайкум, яхшимисиз")
    for short in ["ok", "да", "ha"]:  # "yes" in English, Russian and Uzbek: the reply stays in Uzbek Cyrillic
        replies = services.send(conversation, short)
        assert replies and replies[0]["text"] == text_of("utter_ack", "uz-Cyrl"), f"{short!r}: {replies}"


def test_language_menu_switches_language_and_survives_a_session_restart(services: Services) -> None:
    conversation = new_conversation()
    services.send(conversation, "hello, good morning to you")
    menu = services.send(conversation, "/change_language")
    assert menu[0]["text"] == text_of("utter_choose_language", "en")
    payloads = [b["payload"] for b in menu[0]["buttons"]]
    assert len(payloads) == 7
    kazakh = '/change_language{"language": "kk"}'
    assert kazakh in payloads
    assert services.send(conversation, kazakh)[0]["text"] == text_of("utter_language_changed", "kk")
    services.send(conversation, "/session_start")
    assert services.send(conversation, "/thanks")[0]["text"] == text_of("utter_thanks", "kk")


def test_crisis_phrasings_never_trained_on_get_the_crisis_reply(services: Services) -> None:
    for language in ["uz-Cyrl", "ru", "kk", "en"]:
        heldout = yaml.safe_load((REPO_ROOT / "tests/data/heldout" / f"{language}.yml").read_text())
        message = heldout["crisis"][0]
        replies = services.send(new_conversation(), message, hint=language)
        # no account behind this conversation: nobody can write back, so nobody is promised to
        assert replies[0]["text"] == text_of("utter_crisis_unreachable", language)
        assert "SAMPLE" in replies[0]["text"]


def test_sms_chat_shows_numbered_options_and_maps_a_number_back(services: Services) -> None:
    output = services.hamroh("chat", "--channel", "sms", stdin="salom, yaxshimisiz\n1\n")
    first, second = output.strip().split("\n\n")
    assert first.startswith(text_of("utter_greet", "uz", "sms"))
    assert "\n1 " in first and "\n6 " in first
    assert second == text_of("utter_not_linked", "uz", "sms")  # nobody linked this address


def test_nlu_parse_prints_intent_language_and_entities(services: Services) -> None:
    output = services.hamroh("nlu", "parse", stdin="Тошкентда тикувчилик курси борми\nsalom\n")
    first, second = (json.loads(line) for line in output.splitlines())
    assert first["text"] == "Тошкентда тикувчилик курси борми"
    assert first["intent"] == "ask_courses"
    assert first["language"] == "uz-Cyrl" and first["language_confidence"] > 0.5
    assert {"intent", "confidence", "language", "language_confidence", "entities"} <= set(second)


@pytest.mark.parametrize(
    "language, message",
    [
        ("ru", "какая завтра погода в Ташкенте будет"),
        ("uz-Cyrl", "футбол ким ютди кеча айтинг"),
        ("en", "who won the football match yesterday"),
    ],
)
def test_out_of_scope_or_unclear_gets_a_clarification_and_the_menu(
    services: Services, language: str, message: str
) -> None:
    replies = services.send(new_conversation(), message, hint=language)
    assert replies[0]["text"] == text_of("utter_clarify", language)
    assert len(replies[0]["buttons"]) == 6


@pytest.mark.parametrize(
    "language, message",
    [("en", "tailoring Tashkent"), ("ru", "шитьё Ташкент"), ("uz", "tikuvchilik Toshkent"), ("kk", "тігін Шымкент"),
     ("tg", "кафшергарӣ дар Хуҷанд")],
)
def test_the_bots_own_course_examples_are_a_course_search(services: Services, language: str, message: str) -> None:
    replies = services.send(new_conversation(), message, hint=language)
    assert services.parse(message)["intent"]["name"] == "ask_courses"
    responses = CATALOG.languages[language]["responses"]
    found, elsewhere = (responses[name]["text"].split("{")[0] for name in ("utter_courses_found",
                                                                         "utter_courses_alternatives"))
    assert replies[0]["text"].startswith((found, elsewhere)) and "(sample)" in replies[0]["text"]


def test_an_unknown_trade_is_said_to_be_unknown(services: Services) -> None:
    replies = services.send(new_conversation(), "курсы пилотов в Алматы", hint="ru")
    unknown = CATALOG.languages["ru"]["responses"]["utter_courses_trade_unknown_city"]["text"].split("{courses}")[0]
    assert replies[0]["text"].startswith(unknown.format(trade="пилотов"))
