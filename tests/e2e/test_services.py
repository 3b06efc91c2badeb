"""The four services and the caseworker handoff, through the real engine and app server.

Sample people (`hamroh admin seed-demo`): 1 uz (Tashkent), 2 uz-Cyrl (Namangan), 3 kk (Shymkent),
4 ky (Osh), 5 tg (Khujand), 6 ru (Almaty), 7 a family member of 1 (uz). Each test writes
from its own new channel address, so tests do not share conversations.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import select

from bot.admin.seed import SAMPLE_COURSE_TITLES
from bot.db.models import (
    Appointment,
    AppointmentStatus,
    AuditLog,
    ChannelIdentity,
    CourseInterest,
    Handoff,
    Person,
    Referral,
    utcnow,
)
from bot.responses.catalog import Catalog
from bot.safety.contacts import CrisisContacts
from bot.settings import get_settings

from .conftest import Services

pytestmark = pytest.mark.e2e
CATALOG = Catalog.load("uz")
PERSON_OF = {"uz": 1, "uz-Cyrl": 2, "kk": 3, "ky": 4, "tg": 5, "ru": 6, "en": 1}


def text(name: str, language: str, channel: str, **values: str) -> str:
    return CATALOG.render(name, language, channel, {"opens": "09:00", "closes": "18:00", **values}).text


def talk(services: Services, language: str, channel: str, linked: bool = True) -> tuple[str, int]:
    person = PERSON_OF[language]
    conversation = services.conversation(channel, uuid.uuid4().hex[:12], person if linked else None)
    return conversation, person


def send(services: Services, conversation: str, message: str, channel: str, language: str) -> list[dict]:
    return services.send(conversation, message, channel=channel, hint=language)


def first_appointment(services: Services, person: int, index: int = 0) -> tuple[Appointment, str]:
    """The person's next (or `index`th) appointment and its start as the bot shows it (local day.month
    hour:minute)."""
    with services.database.transaction() as session:
        appointment = list(session.scalars(
            select(Appointment).where(Appointment.person_id == person).order_by(Appointment.starts_at)
        ))[index]
        zone = ZoneInfo(session.get(Person, person).time_zone)  # type: ignore[union-attr]
    return appointment, appointment.starts_at.astimezone(zone).strftime("%d.%m %H:%M")


@pytest.mark.parametrize("language, channel", [("uz-Cyrl", "telegram"), ("ru", "sms"), ("kk", "telegram")])
def test_appointments_list_confirm_cancel_and_reschedule(services: Services, language: str, channel: str) -> None:
    conversation, person = talk(services, language, channel)
    appointment, when = first_appointment(services, person)
    earlier = audit_actions(services, appointment.id)
    listed = send(services, conversation, "/ask_appointments", channel, language)
    assert listed[0]["text"].startswith(text("utter_appointments_list", language, channel, appointments=""))
    assert when in listed[0]["text"] and "Sample office" in listed[0]["text"]
    first = listed[0]["buttons"][0]  # each appointment has its own choice
    assert when in first["title"] and len(listed[0]["buttons"]) == 2
    chosen = send(services, conversation, first["payload"], channel, language)
    assert chosen[0]["text"].startswith(when)
    confirm, reschedule, cancel = (b["payload"] for b in chosen[0]["buttons"])

    confirmed = send(services, conversation, confirm, channel, language)
    assert confirmed[0]["text"] == text("utter_appointment_confirmed", language, channel, when=when)
    assert first_appointment(services, person)[0].status is AppointmentStatus.CONFIRMED

    slots = send(services, conversation, reschedule, channel, language)
    assert slots[0]["text"] == text("utter_choose_slot", language, channel)
    new_time = slots[0]["buttons"][0]["title"]
    moved = send(services, conversation, slots[0]["buttons"][0]["payload"], channel, language)
    assert moved[0]["text"] == text("utter_appointment_moved", language, channel, when=new_time)

    asked = send(services, conversation, cancel, channel, language)
    assert asked[0]["text"] == text("utter_ask_cancel", language, channel, when=new_time)
    assert [b["payload"] for b in asked[0]["buttons"]] == ["/affirm", "/deny"]
    kept = send(services, conversation, "/deny", channel, language)
    assert kept[0]["text"] == text("utter_appointment_kept", language, channel)
    send(services, conversation, cancel, channel, language)
    cancelled = send(services, conversation, "/affirm", channel, language)
    assert cancelled[0]["text"] == text("utter_appointment_cancelled", language, channel, when=new_time)
    with services.database.transaction() as session:
        status = session.get(Appointment, appointment.id).status  # type: ignore[union-attr]
    actions = audit_actions(services, appointment.id)[len(earlier):]
    assert status is AppointmentStatus.CANCELLED
    assert actions == ["appointment_status", "appointment_moved", "appointment_status"]


def audit_actions(services: Services, appointment_id: int) -> list[str]:
    with services.database.transaction() as session:
        return [e.action for e in session.scalars(
            select(AuditLog).where(AuditLog.entity_id == appointment_id, AuditLog.entity == "appointment")
            .order_by(AuditLog.id))]


@pytest.mark.parametrize(
    "language, channel, message",
    [
        ("uz-Cyrl", "sms", "Наманганда пайвандчилик курси борми"),
        ("ru", "telegram", "есть курсы сварщика в Намангане?"),
        ("uz", "telegram", "namanganda payvandchilik kursi bormi"),
    ],
)
def test_course_search_details_and_interest(services: Services, language: str, channel: str, message: str) -> None:
    conversation, person = talk(services, language, channel)
    found = send(services, conversation, message, channel, language)
    title = yaml.safe_load(SAMPLE_COURSE_TITLES.read_text(encoding="utf-8"))["Electric welding"][language]
    assert title in found[0]["text"] and CATALOG.word(language, "city", "Namangan") in found[0]["text"]
    assert len(found[0]["text"]) <= 320  # two SMS segments of Cyrillic would be 140; a short list either way
    details = send(services, conversation, found[0]["buttons"][0]["payload"], channel, language)
    assert title in details[0]["text"]
    registered = send(services, conversation, details[0]["buttons"][0]["payload"], channel, language)
    assert registered[0]["text"] == text("utter_course_interest", language, channel)
    with services.database.transaction() as session:
        interests = list(session.scalars(select(CourseInterest).where(CourseInterest.person_id == person)))
    assert any(i.trade == "welding" and i.city == "Namangan" for i in interests)


@pytest.mark.parametrize("language, channel", [("uz-Cyrl", "telegram"), ("tg", "sms"), ("en", "telegram")])
def test_psychological_support_triage_creates_a_referral(services: Services, language: str, channel: str) -> None:
    conversation = services.conversation(channel, uuid.uuid4().hex[:12], PERSON_OF.get(language, 1))
    consent = send(services, conversation, "/request_psych_support", channel, language)
    assert consent[0]["text"] == text("utter_triage_consent", language, channel)
    question = send(services, conversation, "/affirm", channel, language)
    for _ in range(4):
        assert question[0]["buttons"], question
        question = send(services, conversation, question[0]["buttons"][0]["payload"], channel, language)
    assert question[0]["text"] == text("utter_referral_created", language, channel)
    with services.database.transaction() as session:
        referral = session.scalars(select(Referral).where(Referral.conversation_id == conversation)).one()
    assert (referral.concern, referral.urgency, referral.specialist_gender, referral.mode) == (
        "sleep", "today", "woman", "online")


@pytest.mark.parametrize("language, channel", [("uz-Cyrl", "sms"), ("ky", "telegram"), ("ru", "telegram")])
def test_crisis_gives_country_contacts_and_alerts_the_caseworker(
    services: Services, language: str, channel: str
) -> None:
    conversation, _ = talk(services, language, channel)
    replies = send(services, conversation, "/crisis", channel, language)
    country = {"uz-Cyrl": "UZ", "ky": "KG", "ru": "KZ"}[language]
    assert f"SAMPLE crisis line {country}" in replies[0]["text"]
    with services.database.transaction() as session:
        handoff = session.scalars(select(Handoff).where(Handoff.conversation_id == conversation)).one()
    assert handoff.priority == "urgent" and handoff.identity_id is not None and handoff.language == language
    contacts = CrisisContacts.load(get_settings().crisis_contacts_file).lines_for(language, country)
    assert replies[0]["text"] == text("utter_crisis", language, channel, contacts=contacts)


@pytest.mark.parametrize("language, channel", [("uz-Cyrl", "telegram"), ("kk", "sms"), ("tg", "telegram")])
def test_talk_to_a_human_records_a_handoff(services: Services, language: str, channel: str) -> None:
    conversation, _ = talk(services, language, channel)
    replies = send(services, conversation, "/talk_to_human", channel, language)
    assert replies[0]["text"] == text("utter_human", language, channel)
    with services.database.transaction() as session:
        handoff = session.scalars(select(Handoff).where(Handoff.conversation_id == conversation)).one()
    assert handoff.priority == "normal"


@pytest.mark.parametrize("language, channel", [("uz-Cyrl", "telegram"), ("uz", "sms"), ("ru", "telegram")])
def test_unlinked_people_learn_nothing_about_documents(services: Services, language: str, channel: str) -> None:
    conversation, _ = talk(services, language, channel, linked=False)
    replies = send(services, conversation, "/check_document_status", channel, language)
    assert [r["text"] for r in replies] == [text("utter_documents", language, channel)]
    listed = send(services, conversation, "/ask_appointments", channel, language)
    assert [r["text"] for r in listed] == [text("utter_not_linked", language, channel)]


@pytest.mark.parametrize("language", ["uz-Cyrl", "uz", "kk"])
def test_linked_telegram_sees_documents_and_the_disclosure_is_audited(services: Services, language: str) -> None:
    conversation, person = talk(services, language, "telegram")
    replies = send(services, conversation, "/check_document_status", "telegram", language)
    words = CATALOG.languages[language]["words"]
    assert any(title in replies[0]["text"] for title in words["document_type"].values())
    with services.database.transaction() as session:
        disclosed = list(session.scalars(select(AuditLog).where(AuditLog.person_id == person,
                                                                AuditLog.action == "document_disclosed")))
    assert disclosed


def test_sms_documents_wait_for_the_apps_second_factor(services: Services) -> None:
    conversation, _ = talk(services, "uz-Cyrl", "sms")
    assert services.client is not None
    replies = services.run(services.client.send(conversation, "/check_document_status",
                                                {"channel": "sms", "language_hint": "uz-Cyrl"}))
    texts = [r.get("text") for r in replies if "text" in r]
    assert texts == [text("utter_ask_second_factor", "uz-Cyrl", "sms")]
    assert {"awaiting": "second_factor"} in [r.get("custom") for r in replies]  # the app asks and checks
    with services.database.transaction() as session:  # the app checked the date of birth
        identity = session.scalars(select(ChannelIdentity).where(ChannelIdentity.conversation_id == conversation)).one()
        identity.verified_until = utcnow() + timedelta(minutes=10)
    shown = send(services, conversation, "/check_document_status", "sms", "uz-Cyrl")
    assert "Sample office" in shown[-1]["text"]


def test_a_family_member_never_sees_documents(services: Services) -> None:
    conversation = services.conversation("sms", uuid.uuid4().hex[:12], 7)
    replies = send(services, conversation, "/check_document_status", "sms", "uz")
    assert [r["text"] for r in replies] == [text("utter_documents_family", "uz", "sms")]
    listed = send(services, conversation, "/ask_appointments", "sms", "uz")
    assert "Sample office" in listed[0]["text"] and not listed[0].get("buttons")  # the shared family session only


def test_an_unanswered_question_expires_when_the_conversation_moves_on(services: Services) -> None:
    conversation, person = talk(services, "ru", "telegram")
    appointment, when = first_appointment(services, person, -1)  # the one no other test changes
    cancel = f'/cancel_appointment{{"appointment_id": "{appointment.id}"}}'
    asked = send(services, conversation, cancel, "telegram", "ru")
    assert asked[0]["text"] == text("utter_ask_cancel", "ru", "telegram", when=when)
    send(services, conversation, "какие есть курсы", "telegram", "ru")
    okay = send(services, conversation, "хорошо", "telegram", "ru")
    assert okay[0]["text"] == text("utter_ack", "ru", "telegram")
    assert first_appointment(services, person, -1)[0].status is appointment.status is AppointmentStatus.CONFIRMED


def test_grief_changes_nothing_and_despair_is_no_opt_out(services: Services) -> None:
    conversation, person = talk(services, "tg", "telegram")
    before = [a.status for a in appointments_of(services, person)]
    grief = send(services, conversation, "бародарам дар он ҷо ҳалок шуд", "telegram", "tg")
    # an unsure "confirm" only asks (which appointment, or whether to confirm it); nothing changes
    asks = {text("utter_appointment_which", "tg", "telegram"), text("utter_distress", "tg", "telegram")}
    assert grief[0]["text"] in asks or grief[0]["buttons"][0]["payload"] == "/affirm"
    assert [a.status for a in appointments_of(services, person)] == before
    english, _ = talk(services, "en", "sms", linked=False)
    despair = send(services, english, "nothing matters anymore", "sms", "en")
    assert despair[0]["text"] == text("utter_distress", "en", "sms")  # support, not an unsubscription
    asked = send(services, english, "please stop sending me messages", "sms", "en")
    assert asked[0]["text"] == text("utter_ask_opt_out", "en", "sms")
    kept = send(services, english, "no", "sms", "en")
    assert kept[0]["text"] == text("utter_opt_out_declined", "en", "sms")
    send(services, english, "please stop sending me messages", "sms", "en")
    stopped = send(services, english, "yes", "sms", "en")
    assert stopped[0]["text"] == text("utter_opt_out", "en", "sms")
    with services.database.transaction() as session:
        identity = session.scalars(select(ChannelIdentity).where(ChannelIdentity.conversation_id == english)).one()
        assert identity.opted_out


def appointments_of(services: Services, person: int) -> list[Appointment]:
    with services.database.transaction() as session:
        return list(session.scalars(select(Appointment).where(Appointment.person_id == person)
                                    .order_by(Appointment.id)))
