"""The flow-message action renders a row only for its own person, and only while it is being sent."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.actions.common import Caller
from bot.actions.flows import flow_message
from bot.db.models import AppointmentKind, PersonKind
from bot.db.session import Database
from bot.flows.model import Step
from bot.flows.rendering import step_question
from bot.repositories import appointments, outbox, people


def caller(session, person_id: int, language: str) -> Caller:  # type: ignore[no-untyped-def]
    return Caller("c", "telegram", language, None, people.get_person(session, person_id), None,
                  datetime.now(timezone.utc))


def test_only_the_persons_own_message_in_flight_is_rendered(database: Database) -> None:
    with database.transaction() as session:
        owner = people.add_person(session, kind=PersonKind.RETURNEE, name="A", language="uz-Cyrl",
                                  time_zone="Asia/Tashkent", country="UZ", city="Namangan")
        other = people.add_person(session, kind=PersonKind.RETURNEE, name="B", language="ru",
                                  time_zone="Asia/Tashkent", country="UZ", city="Namangan")
        appointments.add_appointment(session, "test", person_id=owner.id, kind=AppointmentKind.CASEWORKER,
                                     starts_at=datetime.now(timezone.utc) + timedelta(days=5), place="Office 7")
        [row] = [m for m in outbox.list_outbox(session, owner.id) if m.step == "day_before"]
        assert flow_message(session, caller(session, owner.id, "uz-Cyrl"), row.id) is None  # still pending
        outbox.claim(row, "telegram", datetime.now(timezone.utc))
        assert flow_message(session, caller(session, other.id, "ru"), row.id) is None  # someone else's
        message = flow_message(session, caller(session, owner.id, "uz-Cyrl"), row.id)
        assert message is not None and message.text.startswith("Эслатиб ўтамиз") and "Office 7" in message.text
        assert [b["payload"] for b in message.buttons][0].startswith("/confirm_appointment")
        outbox.set_outcome(row, "sent", "")
        assert flow_message(session, caller(session, owner.id, "uz-Cyrl"), row.id) is None  # not again


def test_a_typed_yes_or_no_answers_the_steps_question() -> None:
    reminder = Step(id="day_before", offset=timedelta(days=-1), buttons=["confirm", "reschedule", "cancel"],
                    message={"en": "Will you come?"})
    missed = Step(id="missed", offset=timedelta(days=1), buttons=["reschedule"], message={"en": "Another time?"})
    asked = Step(id="asked", offset=timedelta(days=1), buttons=["yes", "no"], message={"en": "Did it help?"})
    told = Step(id="told", offset=timedelta(days=1), buttons=[], message={"en": "See you."})
    assert step_question(reminder, "appointment:12", 40) == "remind:12"
    assert step_question(missed, "appointment:12", 40) == "reschedule:12"
    assert step_question(asked, "referral:3", 40) == "flow:40"
    assert step_question(told, "appointment:12", 40) is None
