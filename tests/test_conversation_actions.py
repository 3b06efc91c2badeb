"""The engine-side conversation behaviour, one action at a time on a real database: questions
that expire, nothing changed unless clearly asked, opt-out asked about, crisis and distress,
honest promises, courses, reminders answered in words."""

from __future__ import annotations

import asyncio
import time
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.actions import pending
from bot.actions.answers import Answer
from bot.actions.appointments import CancelAppointment, ConfirmAppointment, ListAppointments, RescheduleAppointment
from bot.actions.common import Caller, Outcome
from bot.actions.conversation import TrackConversation
from bot.actions.courses import SearchCourses
from bot.actions.documents import DocumentStatus
from bot.actions.support import Crisis, Distress, OptIn, OptOut, TalkToHuman
from bot.db.models import Appointment, AppointmentKind, AppointmentStatus, FreeSlot, Handoff, PersonKind, Referral
from bot.db.session import Database
from bot.repositories import appointments, courses, identities, people

NOW = datetime.now(timezone.utc)


def tracker(
    text: str, intent: str, confidence: float = 0.99, slots: dict[str, Any] | None = None,
    entities: dict[str, str] | None = None, metadata: dict[str, Any] | None = None, **parse: Any,
) -> Tracker:
    """A conversation whose latest message is `text`, understood as `intent`."""
    found = [{"entity": name, "value": value} for name, value in (entities or {}).items()]
    latest = {"text": text, "intent": {"name": intent, "confidence": confidence}, "entities": found, **parse}
    events = [{"event": "user", "text": text, "parse_data": latest, "metadata": metadata or {}}]
    return Tracker("conversation", slots or {}, latest, events, False, None, {}, "action_listen")


def person(session: Session, channel: str = "telegram", kind: str = "returnee") -> Caller:
    """A linked person with a caseworker, on `channel`."""
    caseworker = people.add_caseworker(session, "Caseworker", "UZ")
    someone = people.add_person(session, kind=PersonKind(kind), name="Test", language="ru", time_zone="Asia/Tashkent",
                                country="UZ", city="Tashkent", caseworker_id=caseworker.id)
    identity = identities.identity_for(session, channel, f"{channel}-{someone.id}")
    identity.person_id = someone.id
    return Caller(identity.conversation_id, channel, "ru", identity, someone, people.family_link(session, someone.id),
                  NOW)


def appointment(session: Session, caller: Caller, kind: str = "caseworker", days: int = 3) -> Appointment:
    assert caller.person is not None
    return appointments.add_appointment(
        session, "test", person_id=caller.person.id, kind=AppointmentKind(kind), starts_at=NOW + timedelta(days=days),
        place="Office 7", caseworker_id=caller.person.caseworker_id)


def names(outcome: Outcome) -> list[str]:
    return [say.name for say in outcome.replies]


def slot_values(outcome: Outcome) -> dict[str, Any]:
    return {event["name"]: event["value"] for event in outcome.events if event.get("event") == "slot"}


def open_slots(outcome: Outcome) -> dict[str, Any]:
    """The slots a conversation has after `outcome`'s events (for the next turn)."""
    return {name: value for name, value in slot_values(outcome).items()}


# --- questions expire; yes answers only the last question ---

@pytest.mark.parametrize(
    "asked_at, intent, now, survives",
    [
        (1000.0, "affirm", 1000.0 + 60, True),
        (1000.0, "deny", 1000.0 + pending.QUESTION_LIFETIME, True),
        (1000.0, "affirm", 1000.0 + pending.QUESTION_LIFETIME + 1, False),  # an hour later: expired
        (1000.0, "ask_courses", 1001.0, False),  # the conversation moved on
        (1000.0, "flow_message", 1001.0, False),  # a reminder is a new question
        (None, "affirm", 1001.0, False),
    ],
)
def test_a_question_survives_only_a_yes_or_no_in_time(
    asked_at: float | None, intent: str, now: float, survives: bool
) -> None:
    assert pending.survives(asked_at, intent, now) is survives


def track(slots: dict[str, Any], intent: str) -> list[dict[str, Any]]:
    action = TrackConversation()
    return asyncio.run(action.run(None, tracker("x", intent, slots=slots), {}))  # type: ignore[arg-type]


def test_every_message_but_a_timely_answer_closes_the_question() -> None:
    asked = {"pending": "cancel:1", "pending_at": time.time(), "language": "ru"}
    assert SlotSet("pending", None) in track(asked, "ask_courses")
    assert SlotSet("pending", None) not in track(asked, "affirm")
    stale = {**asked, "pending_at": time.time() - pending.QUESTION_LIFETIME - 60}
    assert SlotSet("pending", None) in track(stale, "affirm")


def test_language_explicit_from_the_app_is_a_choice() -> None:
    action = TrackConversation()
    turn = tracker("salom", "greet", slots={"language": "ru"}, metadata={"language_explicit": "uz"})
    assert SlotSet("language", "uz") in asyncio.run(action.run(None, turn, {}))  # type: ignore[arg-type]


def test_cancel_asks_and_only_yes_to_that_question_cancels(database: Database) -> None:
    with database.transaction() as session:
        caller = person(session)
        booked = appointment(session, caller)
        asked = CancelAppointment().work(session, caller, tracker("отмените встречу", "cancel_appointment"))
        assert names(asked) == ["utter_ask_cancel"] and slot_values(asked)["pending"] == f"cancel:{booked.id}"
        kept = Answer().work(session, caller, tracker("нет", "deny", slots=open_slots(asked)))
        assert names(kept) == ["utter_appointment_kept"] and booked.status is AppointmentStatus.SCHEDULED
        no_question = Answer().work(session, caller, tracker("хорошо", "affirm"))  # the question was closed
        assert names(no_question) == ["utter_ack"] and booked.status is AppointmentStatus.SCHEDULED
        done = Answer().work(session, caller, tracker("да", "affirm", slots=open_slots(asked)))
        assert names(done) == ["utter_appointment_cancelled"] and booked.status is AppointmentStatus.CANCELLED
        assert slot_values(done)["pending"] is None


def test_a_no_with_nothing_asked_is_met_gently(database: Database) -> None:
    with database.transaction() as session:
        caller = person(session)
        outcome = Answer().work(session, caller, tracker("no one needs me", "deny", 0.94))
    assert names(outcome) == ["utter_deny_gentle"]


# --- nothing changes unless clearly asked ---

def test_an_unsure_confirm_asks_and_a_button_confirms(database: Database) -> None:
    with database.transaction() as session:
        caller = person(session)
        booked = appointment(session, caller)
        grief = ConfirmAppointment().work(session, caller, tracker("бародарам дар он ҷо ҳалок шуд",
                                                                   "confirm_appointment", 0.83))
        assert names(grief) == ["utter_ask_confirm"] and booked.status is AppointmentStatus.SCHEDULED
        assert [c["payload"] for c in grief.replies[0].choices] == ["/affirm", "/deny"]
        pressed = ConfirmAppointment().work(session, caller, tracker(
            f'/confirm_appointment{{"appointment_id": "{booked.id}"}}', "confirm_appointment", 1.0,
            entities={"appointment_id": str(booked.id)}))
        assert names(pressed) == ["utter_appointment_confirmed"] and booked.status is AppointmentStatus.CONFIRMED


def test_an_unsure_reschedule_asks_first(database: Database) -> None:
    with database.transaction() as session:
        caller = person(session)
        booked = appointment(session, caller)
        asked = RescheduleAppointment().work(session, caller, tracker("может другое время", "reschedule_appointment",
                                                                      0.7))
        assert names(asked) == ["utter_ask_reschedule"] and booked.status is AppointmentStatus.SCHEDULED
        assert slot_values(asked)["pending"] == f"reschedule:{booked.id}"
        yes = Answer().work(session, caller, tracker("да", "affirm", slots=open_slots(asked)))
    assert names(yes) == ["utter_reschedule_requested"] and booked.status is AppointmentStatus.RESCHEDULE_REQUESTED


def test_only_caseworker_appointments_are_offered_the_caseworkers_free_slots(database: Database) -> None:
    with database.transaction() as session:
        caller = person(session)
        assert caller.person is not None and caller.person.caseworker_id is not None
        lawyer = appointment(session, caller, "legal", days=3)
        own = appointment(session, caller, "caseworker", days=4)
        free = appointments.add_free_slot(session, caller.person.caseworker_id, NOW + timedelta(days=5))
        button = "/reschedule_appointment"
        for booked, expected in ((lawyer, "utter_reschedule_requested"), (own, "utter_choose_slot")):
            outcome = RescheduleAppointment().work(session, caller, tracker(
                button, "reschedule_appointment", 1.0, entities={"appointment_id": str(booked.id)}))
            assert names(outcome) == [expected]
        sneaky = RescheduleAppointment().work(session, caller, tracker(button, "reschedule_appointment", 1.0, entities={
            "appointment_id": str(lawyer.id), "slot_id": str(free.id)}))
        assert names(sneaky) == ["utter_reschedule_requested"]
        assert session.get(FreeSlot, free.id).taken is False  # type: ignore[union-attr]


def test_each_listed_appointment_has_its_own_choice(database: Database) -> None:
    with database.transaction() as session:
        caller = person(session)
        first, second = appointment(session, caller, days=2), appointment(session, caller, "medical", days=4)
        listed = ListAppointments().work(session, caller, tracker("/ask_appointments", "ask_appointments", 1.0))
        payloads = [c["payload"] for c in listed.replies[0].choices]
        assert payloads == [f'/ask_appointments{{"appointment_id": "{a.id}"}}' for a in (first, second)]
        assert caller.local(second.starts_at) in listed.replies[0].choices[1]["title"]
        one = ListAppointments().work(session, caller, tracker(payloads[1], "ask_appointments", 1.0,
                                                               entities={"appointment_id": str(second.id)}))
    assert names(one) == ["utter_appointment_chosen"]
    assert all(f'"appointment_id": "{second.id}"' in c["payload"] for c in one.replies[0].choices)
    assert len(one.replies[0].choices) == 3


def test_a_family_member_is_told_who_can_change_an_appointment(database: Database) -> None:
    with database.transaction() as session:
        returnee = person(session)
        relative = person(session, kind="family")
        assert returnee.person is not None and relative.person is not None
        shared = appointment(session, returnee)
        shared.family_session = True
        link = people.link_family(session, relative.person, returnee.person, "mother")
        relative.family = link
        shown = ListAppointments().work(session, relative, tracker("встречи", "ask_appointments"))
        assert names(shown) == ["utter_appointments_list"] and shown.replies[0].choices == []
        outcome = CancelAppointment().work(session, relative, tracker("отмените её", "cancel_appointment"))
    assert names(outcome) == ["utter_family_cannot_change"] and shared.status is AppointmentStatus.SCHEDULED


# --- reminders answered in words ---

def test_yes_to_a_reminder_confirms_it_and_no_offers_another_time_or_cancelling(database: Database) -> None:
    with database.transaction() as session:
        caller = person(session)
        reminded, other = appointment(session, caller, days=1), appointment(session, caller, days=9)
        asked = {"pending": f"remind:{reminded.id}", "pending_at": time.time()}
        no = Answer().work(session, caller, tracker("нет", "deny", slots=asked))
        assert names(no) == ["utter_reminder_declined"] and reminded.status is AppointmentStatus.SCHEDULED
        assert [c["payload"] for c in no.replies[0].choices] == [
            f'/reschedule_appointment{{"appointment_id": "{reminded.id}"}}',
            f'/cancel_appointment{{"appointment_id": "{reminded.id}"}}']
        yes = Answer().work(session, caller, tracker("ha", "affirm", slots=asked))
    assert names(yes) == ["utter_appointment_confirmed"]
    assert reminded.status is AppointmentStatus.CONFIRMED and other.status is AppointmentStatus.SCHEDULED


# --- opting out is asked about; opting in works ---

def test_an_opt_out_in_words_is_asked_about_first(database: Database) -> None:
    with database.transaction() as session:
        caller = person(session)
        assert caller.identity is not None and caller.person is not None
        asked = OptOut().work(session, caller, tracker("nothing matters anymore", "opt_out", 0.81))
        assert names(asked) == ["utter_ask_opt_out"] and not caller.identity.opted_out
        kept = Answer().work(session, caller, tracker("no", "deny", slots=open_slots(asked)))
        assert names(kept) == ["utter_opt_out_declined"] and not caller.identity.opted_out
        stopped = Answer().work(session, caller, tracker("yes", "affirm", slots=open_slots(asked)))
        assert names(stopped) == ["utter_opt_out"]
        assert caller.identity.opted_out and caller.person.opted_out
        resumed = OptIn().work(session, caller, tracker("/opt_in", "opt_in", 1.0))
    assert names(resumed) == ["utter_opt_in"] and not caller.identity.opted_out and not caller.person.opted_out


# --- crisis, distress, and honest promises ---

def records(session: Session, model: type[Handoff] | type[Referral]) -> list[Any]:
    return list(session.scalars(select(model)))


def test_crisis_handled_by_the_app_only_ends_what_was_going_on(database: Database) -> None:
    with database.transaction() as session:
        caller = person(session)
        turn = tracker("/crisis", "crisis", 1.0, slots={"pending": "triage_consent", "triage": "consented"},
                       metadata={"crisis_handled": True})
        outcome = Crisis().work(session, caller, turn)
        assert outcome.replies == [] and records(session, Handoff) == [] and records(session, Referral) == []
    assert slot_values(outcome)["pending"] is None and slot_values(outcome)["triage"] is None
    assert any(event.get("event") == "active_loop" for event in outcome.events)


def test_an_unsure_crisis_without_the_lexicon_is_met_as_distress(database: Database) -> None:
    with database.transaction() as session:
        caller = person(session)
        outcome = Crisis().work(session, caller, tracker("meni tinch qo'ying", "crisis", 0.42))
        assert names(outcome) == ["utter_distress"] and records(session, Handoff) == []
        assert names(Distress().work(session, caller, tracker("no one needs me", "distress"))) == ["utter_distress"]


def test_a_crisis_files_a_handoff_that_can_be_answered_on_the_same_account(database: Database) -> None:
    with database.transaction() as session:
        caller = person(session, channel="sms")
        assert caller.identity is not None
        caller.message = "I don't want to live"
        outcome = Crisis().work(session, caller, tracker(caller.message, "crisis", 0.3,
                                                         crisis_lexicon={"language": "en", "entry": 1}))
        [handoff], [referral] = records(session, Handoff), records(session, Referral)
    assert names(outcome) == ["utter_crisis"]
    assert (handoff.priority, handoff.identity_id, handoff.language, handoff.message) == (
        "urgent", caller.identity.id, "ru", "I don't want to live")
    assert referral.crisis and referral.identity_id == caller.identity.id


def test_nobody_is_promised_a_call_back_where_nobody_can_write_back(database: Database) -> None:
    with database.transaction() as session:
        reachable, demo = person(session, "telegram"), person(session, "terminal")
        assert names(TalkToHuman().work(session, reachable, tracker("/talk_to_human", "talk_to_human"))) == [
            "utter_human"]
        assert names(TalkToHuman().work(session, demo, tracker("/talk_to_human", "talk_to_human"))) == [
            "utter_human_unreachable"]
        assert names(Crisis().work(session, demo, tracker("/crisis", "crisis", 1.0))) == ["utter_crisis_unreachable"]
        assert {h.identity_id for h in records(session, Handoff)} == {reachable.identity.id,  # type: ignore[union-attr]
                                                                       demo.identity.id}  # type: ignore[union-attr]


# --- documents: the app asks for the second factor ---

def test_documents_by_sms_ask_the_app_to_check_the_second_factor(database: Database) -> None:
    with database.transaction() as session:
        caller = person(session, channel="sms")
        outcome = DocumentStatus().work(session, caller, tracker("документы", "check_document_status"))
        assert names(outcome) == ["utter_ask_second_factor"] and outcome.notes == [{"awaiting": "second_factor"}]
        assert caller.identity is not None
        caller.identity.verified_until = NOW + timedelta(minutes=5)
        shown = DocumentStatus().work(session, caller, tracker("/check_document_status", "check_document_status"))
    assert names(shown) == ["utter_documents_none"] and shown.notes == []


# --- courses ---

def add_course(session: Session, trade: str, city: str) -> None:
    courses.add_course(session, trade=trade, city=city, titles={"en": f"{trade} course"}, descriptions={},
                       instruction_language="ru", start_date=date.today() + timedelta(days=10), duration_weeks=4,
                       seats_left=3, cost=0, contact="Sample centre")


def test_no_course_suggests_the_trade_elsewhere_and_other_trades_in_the_city(database: Database) -> None:
    with database.transaction() as session:
        caller = person(session)
        caller.language = "en"
        add_course(session, "tailoring", "Namangan")
        add_course(session, "cooking", "Osh")
        outcome = SearchCourses().work(session, caller, tracker("tailoring Osh", "ask_courses"))
    assert names(outcome) == ["utter_courses_alternatives"]
    assert "tailoring course - Namangan" in outcome.replies[0].values["courses"]
    assert "cooking course - Osh" in outcome.replies[0].values["courses"]


def test_an_unknown_trade_is_said_to_be_unknown(database: Database) -> None:
    with database.transaction() as session:
        caller = person(session)
        add_course(session, "cooking", "Almaty")
        outcome = SearchCourses().work(session, caller, tracker("курсы пилотов в Бишкеке", "ask_courses",
                                                                entities={"trade": "пилотов"}))
        assert names(outcome) == ["utter_courses_trade_unknown"] and outcome.replies[0].values == {"trade": "пилотов"}
        in_city = SearchCourses().work(session, caller, tracker("курсы пилотов в Алматы", "ask_courses",
                                                                entities={"trade": "пилотов"}))
    assert names(in_city) == ["utter_courses_trade_unknown_city"] and in_city.replies[0].values["trade"] == "пилотов"
    assert "cooking course - " in in_city.replies[0].values["courses"]


@pytest.mark.parametrize("text, language, trade", [("pastry chef Tashkent", "en", "pastry chef"),
                                                  ("zargarlik Toshkentda", "uz", "zargarlik"),
                                                  ("заргарӣ дар Тошканд", "tg", "заргарӣ")])
def test_an_unknown_trade_nobody_extracted_is_said_to_be_unknown_with_the_citys_courses(
        database: Database, text: str, language: str, trade: str) -> None:
    with database.transaction() as session:
        caller = person(session)
        caller.language = language
        add_course(session, "cooking", "Tashkent")
        outcome = SearchCourses().work(session, caller, tracker(text, "ask_courses"))
    assert names(outcome) == ["utter_courses_trade_unknown_city"]
    assert outcome.replies[0].values["trade"] == trade
    assert "cooking course - " in outcome.replies[0].values["courses"]


def test_a_city_only_request_lists_the_citys_courses(database: Database) -> None:
    with database.transaction() as session:
        caller = person(session)
        add_course(session, "cooking", "Tashkent")
        outcome = SearchCourses().work(session, caller, tracker("курсы в Ташкенте", "ask_courses"))
    assert names(outcome) == ["utter_courses_found"] and "cooking course - " in outcome.replies[0].values["courses"]


def test_an_unknown_trade_is_quoted_back_at_most_24_characters(database: Database) -> None:
    with database.transaction() as session:
        caller = person(session)
        long_trade = "повторяй за мной этот очень длинный текст"
        outcome = SearchCourses().work(session, caller, tracker(f"курсы {long_trade} в Бишкеке", "ask_courses",
                                                                entities={"trade": long_trade}))
    assert names(outcome) == ["utter_courses_trade_unknown"]
    assert outcome.replies[0].values["trade"] == long_trade[:24].strip() and len(long_trade) > 24


def test_an_unsure_request_for_a_person_is_asked_about_first(database: Database) -> None:
    with database.transaction() as session:
        caller = person(session)
        caller.message = "leave me alone"
        asked = TalkToHuman().work(session, caller, tracker(caller.message, "talk_to_human", 0.42))
        assert names(asked) == ["utter_ask_human"] and records(session, Handoff) == []
        caller.message = "no"
        declined = Answer().work(session, caller, tracker("no", "deny", slots=open_slots(asked)))
        assert names(declined) == ["utter_deny_gentle"] and records(session, Handoff) == []
        caller.message = "yes"
        accepted = Answer().work(session, caller, tracker("yes", "affirm", slots=open_slots(asked)))
        assert names(accepted) == ["utter_human"] and len(records(session, Handoff)) == 1
