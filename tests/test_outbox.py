"""The outbox: every change that triggers a flow plans its messages in the same transaction."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.db.models import AppointmentKind, AppointmentStatus, PersonKind, utcnow
from bot.db.session import Database
from bot.repositories import appointments, outbox, people, support

TASHKENT = ZoneInfo("Asia/Tashkent")


def setup_person(database: Database) -> tuple[int, int]:
    with database.transaction() as session:
        caseworker = people.add_caseworker(session, "CW", "UZ")
        person = people.add_person(session, kind=PersonKind.RETURNEE, name="P", language="uz-Cyrl",
                                   time_zone="Asia/Tashkent", country="UZ", city="Namangan",
                                   caseworker_id=caseworker.id)
        return person.id, caseworker.id


def add_appointment(database: Database, person_id: int, caseworker_id: int, starts: datetime) -> int:
    with database.transaction() as session:
        return appointments.add_appointment(
            session, "test", person_id=person_id, caseworker_id=caseworker_id, kind=AppointmentKind.CASEWORKER,
            starts_at=starts, place="Office").id


def rows(database: Database, person_id: int) -> list[tuple[str, str, int, str | None]]:
    with database.transaction() as session:
        return [(m.step, m.status, m.trigger_version,
                 m.due_at.astimezone(TASHKENT).strftime("%m-%d %H:%M") if m.due_at else None)
                for m in outbox.list_outbox(session, person_id) if m.flow == "appointment_reminders"]


def local(day: int, hour: int) -> datetime:
    return datetime(2031, 3, day, hour, 0, tzinfo=TASHKENT)


def test_an_appointment_plans_its_reminders_in_local_time(database: Database) -> None:
    person, caseworker = setup_person(database)
    add_appointment(database, person, caseworker, local(12, 15))
    assert rows(database, person) == [
        ("day_before", "pending", 1, "03-11 10:00"),
        ("two_hours_before", "pending", 1, "03-12 13:00"),
        ("missed_follow_up", "pending", 1, "03-13 11:00"),
    ]


def test_moving_replans_and_cancelling_cancels_in_the_same_transaction(database: Database) -> None:
    person, caseworker = setup_person(database)
    appointment_id = add_appointment(database, person, caseworker, local(12, 15))
    with database.transaction() as session:
        slot = appointments.add_free_slot(session, caseworker, local(20, 9))
        appointments.move_to_slot(session, appointments.get_appointment(session, appointment_id), slot, "test")
    planned = rows(database, person)
    assert [r[:2] for r in planned if r[2] == 1] == [
        ("day_before", "cancelled"), ("two_hours_before", "cancelled"), ("missed_follow_up", "cancelled")]
    # two hours before 09:00 is 07:00, in quiet hours: it waits until 09:00
    assert [r for r in planned if r[2] == 2] == [("day_before", "pending", 2, "03-19 10:00"),
                                                 ("two_hours_before", "pending", 2, "03-20 09:00"),
                                                 ("missed_follow_up", "pending", 2, "03-21 11:00")]
    with database.transaction() as session:
        appointment = appointments.get_appointment(session, appointment_id)
        appointments.set_status(session, appointment, AppointmentStatus.CANCELLED, "test")
    assert {status for _, status, _, _ in rows(database, person)} == {"cancelled"}


def test_a_step_already_past_is_recorded_as_skipped_not_dropped(database: Database) -> None:
    person, caseworker = setup_person(database)
    add_appointment(database, person, caseworker, utcnow() + timedelta(minutes=30))
    statuses = {step: status for step, status, _, _ in rows(database, person)}
    assert statuses == {"day_before": "skipped", "two_hours_before": "skipped", "missed_follow_up": "pending"}
    with database.transaction() as session:
        notes = {m.note for m in outbox.list_outbox(session, person, "skipped")}
    assert notes <= {outbox.NOTES["late_skip"], outbox.NOTES["quiet_skip"]} and notes


def test_a_referral_plans_its_follow_up_and_keys_are_unique(database: Database) -> None:
    person, _ = setup_person(database)
    with database.transaction() as session:
        support.create_referral(session, "conversation", person, concern="sleep", urgency="today", language="ky")
        support.create_referral(session, "conversation", person, concern="crisis", urgency="now", language="ky",
                                crisis=True)  # a crisis is handled by a person, not by a follow-up flow
        planned = [m for m in outbox.list_outbox(session, person) if m.flow == "referral_follow_up"]
    assert len(planned) == 1 and planned[0].status == "pending"
    assert planned[0].due_at is not None and planned[0].due_at > datetime.now(timezone.utc) + timedelta(days=2)
    assert planned[0].idempotency_key.startswith(f"{person}:referral_follow_up:three_days_later:referral:")
