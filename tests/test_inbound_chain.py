"""The inbound chain, step by step: each case is a short conversation through the real webhooks
(fake engine and providers on loopback, a real database), then what was sent, what the engine
was asked and what the database holds."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db.models import ChannelIdentity, Handoff, InboundMessage, PersonKind, Referral, utcnow
from bot.nlp.languages import LANGUAGES
from bot.repositories import identities, people

from .channel_harness import CATALOG, Harness, message, sms

KEY = b"k"  # the harness's secret_key
PHONE = "+998901112233"


def person(h: Harness, language: str = "ru", phone: str | None = None) -> int:
    with h.database.transaction() as session:
        return people.add_person(
            session, kind=PersonKind.RETURNEE, name="SAMPLE", language=language, time_zone="Asia/Tashkent",
            country="UZ", city="Tashkent", second_factor_hash=identities.keyed_hash(KEY, "05.03.1990"),
        ).id


def link(h: Harness, channel: str, address: str, person_id: int) -> None:
    with h.database.transaction() as session:
        identity = identities.identity_for(session, channel, address)
        identity.person_id = person_id


def identity(h: Harness, channel: str, address: str) -> ChannelIdentity:
    with h.database.transaction() as session:
        found = identities.identity_for(session, channel, address)
        session.expunge(found)
        return found


def ask_date_of_birth(h: Harness) -> None:
    """The engine asks for the date of birth (action_documents by SMS) and tells the app it waits."""
    h.engine.replies = [{"text": "date of birth?"}, {"custom": {"awaiting": "second_factor"}}]
    h.sms(sms("SM-docs", "hujjatlarim", PHONE))
    h.settle()
    h.engine.replies = [{"text": "reply"}]


def bodies(h: Harness) -> list[str]:
    return [m["Body"] for m in h.twilio.messages]


def engine_texts(h: Harness) -> list[str]:
    return [r["message"] for r in h.engine.received]


@pytest.mark.parametrize("text, language", [("я хочу умереть", "ru"), ("o'zimni o'ldirmoqchiman", "uz"),
                                            ("I want to kill myself", "en"), ("өзімді өлтіргім келеді", "kk")])
def test_a_crisis_after_opting_out_gets_the_contacts_and_an_urgent_handoff(
    harness: Harness, text: str, language: str
) -> None:
    harness.sms(sms("SM1", "STOP", PHONE))
    harness.settle()
    harness.sms(sms("SM2", text, PHONE))
    harness.settle()
    crisis = CATALOG.render("utter_crisis", language, "sms", {"contacts": "", "opens": "", "closes": ""}).text
    assert len(bodies(harness)) == 2 and bodies(harness)[1].startswith(crisis.split("\n")[0][:20])
    with harness.database.transaction() as session:
        handoff = session.scalars(select(Handoff)).one()
        referral = session.scalars(select(Referral)).one()
        sender = identities.identity_for(session, "sms", PHONE)
        assert (handoff.priority, handoff.reason, handoff.identity_id, handoff.message, handoff.language) == (
            "urgent", "crisis", sender.id, text.replace("'", "ʻ"), language)
        assert referral.crisis and referral.identity_id == sender.id
        assert sender.opted_out  # still opted out: the crisis reply is not a re-subscription
    assert engine_texts(harness) == ["/crisis"]
    assert harness.engine.received[0]["metadata"]["crisis_handled"] is True


def test_a_crisis_at_the_date_of_birth_question_ends_the_question_and_is_no_attempt(harness: Harness) -> None:
    link(harness, "sms", PHONE, person(harness, "uz"))
    ask_date_of_birth(harness)
    assert identity(harness, "sms", PHONE).awaiting == "second_factor"
    harness.sms(sms("SM3", "o'zimni o'ldirmoqchiman", PHONE))
    harness.settle()
    after = identity(harness, "sms", PHONE)
    assert (after.awaiting, after.failed_attempts) == (None, 0)
    assert bodies(harness)[-1] != CATALOG.render("utter_second_factor_wrong", "uz", "sms").text
    assert engine_texts(harness)[-1] == "/crisis"
    with harness.database.transaction() as session:
        assert session.scalars(select(Handoff)).one().priority == "urgent"


def test_the_date_of_birth_is_checked_by_the_app_and_never_reaches_the_engine(harness: Harness) -> None:
    link(harness, "sms", PHONE, person(harness, "ru"))
    ask_date_of_birth(harness)
    harness.sms(sms("SM4", "01.01.1980", PHONE))
    harness.settle()
    assert bodies(harness)[-1] == CATALOG.render("utter_second_factor_wrong", "ru", "sms").text
    assert identity(harness, "sms", PHONE).awaiting == "second_factor"  # still waiting for the answer
    harness.sms(sms("SM5", "5/3/1990", PHONE))
    harness.settle()
    assert engine_texts(harness)[-1] == "/check_document_status"
    assert not any("1990" in text or "1980" in text for text in engine_texts(harness))
    after = identity(harness, "sms", PHONE)
    assert after.awaiting is None and identities.is_verified(after, utcnow())


def test_five_wrong_dates_lock_once_and_the_lock_is_said_once(harness: Harness) -> None:
    link(harness, "sms", PHONE, person(harness, "uz"))
    ask_date_of_birth(harness)
    for number in range(5):
        harness.sms(sms(f"SM-w{number}", f"0{number + 1}.01.1970", PHONE))
        harness.settle()
    locked = CATALOG.render("utter_verification_locked", "uz", "sms").text
    assert bodies(harness).count(locked) == 1
    assert identity(harness, "sms", PHONE).awaiting is None
    harness.sms(sms("SM-right", "05.03.1990", PHONE))  # no question open any more: not checked, no "Good"
    harness.settle()
    assert engine_texts(harness)[-1] == "05.03.1990" or bodies(harness).count(locked) == 1
    assert not identities.is_verified(identity(harness, "sms", PHONE), utcnow())


def test_a_message_that_is_no_date_closes_the_question_and_goes_to_the_engine(harness: Harness) -> None:
    link(harness, "sms", PHONE, person(harness, "uz"))
    ask_date_of_birth(harness)
    harness.sms(sms("SM6", "kurslar bormi", PHONE))
    harness.settle()
    after = identity(harness, "sms", PHONE)
    assert (after.awaiting, after.failed_attempts) == (None, 0)
    assert engine_texts(harness)[-1] == "kurslar bormi"


def test_the_question_expires(harness: Harness) -> None:
    link(harness, "sms", PHONE, person(harness, "uz"))
    ask_date_of_birth(harness)
    with harness.database.transaction() as session:
        identities.identity_for(session, "sms", PHONE).awaiting_since = utcnow() - timedelta(minutes=11)
    harness.sms(sms("SM7", "05.03.1990", PHONE))
    harness.settle()
    assert engine_texts(harness)[-1] == "05.03.1990"  # an expired question is not answered by a late date


@pytest.mark.parametrize("text", ["link please", "LINK PROBLEMS", "/start hello"])
def test_words_after_link_are_no_attempt(harness: Harness, text: str) -> None:
    harness.sms(sms("SM8", text, PHONE))
    harness.settle()
    assert identity(harness, "sms", PHONE).failed_attempts == 0
    assert engine_texts(harness) == [text]


def test_a_new_telegram_user_without_a_language_is_asked_to_choose_one(harness: Harness) -> None:
    harness.telegram_update(message(100, "/start", user=801))
    harness.settle()
    sent = harness.telegram.sent()
    assert len(sent) == 1 and harness.engine.received == []
    titles = [row[0]["text"] for row in sent[0]["reply_markup"]["inline_keyboard"]]
    assert len(titles) == len(LANGUAGES)
    for tag in ("en", "ru", "kk"):  # the question itself in several languages: nothing is assumed
        assert CATALOG.render("utter_choose_language", tag).text in sent[0]["text"]


@pytest.mark.parametrize("code, hint", [("ru", "ru"), ("kk", "kk"), ("en-US", "en"), ("de", None), (None, None)])
def test_telegram_language_code_is_a_hint_and_nothing_is_assumed_without_it(
    harness: Harness, code: str | None, hint: str | None
) -> None:
    harness.telegram_update(message(101, "Здравствуйте", user=802, language_code=code))
    harness.settle()
    assert harness.engine.received[0]["metadata"]["language_hint"] == hint


def test_an_unknown_phone_gets_no_assumed_language(harness: Harness) -> None:
    harness.sms(sms("SM9", "Здравствуйте", "+77011234567"))
    harness.settle()
    assert harness.engine.received[0]["metadata"]["language_hint"] is None


def test_after_linking_the_persons_language_is_passed_once_as_a_choice(harness: Harness) -> None:
    person_id = person(harness, "kk")
    with harness.database.transaction() as session:
        code = identities.issue_link_code(session, KEY, people.get_person(session, person_id), utcnow(),
                                          timedelta(hours=1))
    harness.sms(sms("SM10", f"LINK {code}", PHONE))
    harness.settle()
    assert bodies(harness) == [CATALOG.render("utter_link_ok", "kk", "sms").text]
    harness.sms(sms("SM11", "salom", PHONE))
    harness.sms(sms("SM12", "qalaysiz", PHONE))
    harness.settle()
    first, second = harness.engine.received
    assert first["metadata"]["language_explicit"] == "kk" and "language_explicit" not in second["metadata"]
    assert code not in str(harness.engine.received)


def test_one_word_after_an_opt_out_resumes_only_as_a_keyword(harness: Harness) -> None:
    harness.telegram_update(message(112, "STOP", user=805, language_code="ru"))
    harness.settle()
    harness.engine.intent = {"name": "opt_in", "confidence": 0.99}  # "баста" is START in Kazakh data
    harness.telegram_update(message(113, "баста", user=805))
    harness.settle()
    assert harness.engine.parsed == [] and identity(harness, "telegram", "805").opted_out


@pytest.mark.parametrize("intent, resumed", [("opt_in", True), ("deny", False), ("opt_out", False)])
def test_an_opted_out_person_who_asks_in_words_to_resume_is_resubscribed(
    harness: Harness, intent: str, resumed: bool
) -> None:
    harness.telegram_update(message(110, "STOP", user=803))
    harness.settle()
    harness.engine.intent = {"name": intent, "confidence": 0.93}
    harness.telegram_update(message(111, "please send me messages again", user=803))
    harness.settle()
    assert harness.engine.parsed == ["please send me messages again"]
    assert identity(harness, "telegram", "803").opted_out is not resumed
    assert engine_texts(harness) == (["/opt_in"] if resumed else [])
    assert len(harness.telegram.sent()) == (2 if resumed else 1)


def test_an_empty_engine_answer_is_no_answer(harness: Harness) -> None:
    harness.engine.replies = []
    harness.telegram_update(message(120, "salom", user=804))
    deadline = time.monotonic() + 10
    while not harness.engine.received and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    with harness.database.transaction() as session:
        row = session.scalars(select(InboundMessage)).one()
        assert row.status in ("pending", "processing") and row.last_error == "the engine answered nothing"
    assert harness.telegram.sent() == []


def test_a_number_answers_only_the_last_menu(harness: Harness) -> None:
    harness.engine.replies = [{"text": "menu", "buttons": [{"title": "Confirm", "payload": "/confirm_appointment"}]}]
    harness.sms(sms("SM13", "uchrashuvlarim", PHONE))
    harness.settle()
    harness.engine.replies = [{"text": "no buttons now"}]
    harness.sms(sms("SM14", "kurslar", PHONE))
    harness.settle()
    harness.sms(sms("SM15", "1", PHONE))
    harness.settle()
    assert engine_texts(harness) == ["uchrashuvlarim", "kurslar", "1"]  # "1" no longer confirms anything
