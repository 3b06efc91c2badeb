"""The outbox: flow messages planned for people, in the same transaction as what triggered them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from bot.db.models import FlowAnswer, OutboxMessage, Person, PersonKind, utcnow
from bot.flows.model import Flow
from bot.flows.planning import plan_flow

#: Notes of rows skipped because they were not needed (not a problem) start with this.
NOT_NEEDED = "not needed: "
#: The note of a row that waits for the person to link Telegram or a phone.
WAITING_FOR_CHANNEL = "waiting for the person to link Telegram or SMS"
NOTES = {
    "late_skip": NOT_NEEDED + "its time had passed when it was planned",
    "late_send": "its time had passed when it was planned: sent at once",
    "quiet_skip": NOT_NEEDED + "quiet hours would have delayed it past the appointment",
}
#: Rows still to be sent (or being sent), and rows that went wrong.
UPCOMING = ("pending", "sending", "delivering")
PROBLEMS = ("failed", "uncertain")
#: Flows planned when an appointment is scheduled are re-planned when it moves.
REPLANNED_ON_CHANGE = {"appointment_changed": "appointment_scheduled"}


def cancel_pending(session: Session, person_id: int, trigger_key: str, note: str) -> int:
    """Cancel every pending message of a trigger (e.g. an appointment that was cancelled or moved)."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.person_id == person_id, OutboxMessage.trigger_key == trigger_key,
               OutboxMessage.status == "pending")
        .values(status="cancelled", note=note, updated_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def plan(
    session: Session, flows: dict[str, Flow], event: str, person: Person, trigger_key: str, trigger_at: datetime,
    now: datetime | None = None,
) -> list[OutboxMessage]:
    """Plan the steps of every flow triggered by `event` for `person` into the outbox."""
    now = now or utcnow()
    triggers = {event, REPLANNED_ON_CHANGE.get(event, event)}
    chosen = [flow for flow in flows.values() if flow.trigger in triggers]
    if not chosen:
        return []
    version = 1 + int(session.scalar(
        select(func.coalesce(func.max(OutboxMessage.trigger_version), 0))
        .where(OutboxMessage.person_id == person.id, OutboxMessage.trigger_key == trigger_key)) or 0)
    rows = []
    for flow in chosen:
        for planned in plan_flow(flow, trigger_at, person.time_zone, now):
            key = f"{person.id}:{flow.name}:{planned.step}:{trigger_key}:{version}"
            skipped = planned.outcome in ("late_skip", "quiet_skip")
            rows.append(OutboxMessage(
                person_id=person.id, flow=flow.name, step=planned.step, trigger_key=trigger_key,
                trigger_version=version, due_at=planned.due, not_before=planned.due,
                status="skipped" if skipped else "pending",
                note=NOTES.get(planned.outcome, ""),
                idempotency_key=key,
            ))
    session.add_all(rows)
    session.flush()
    return rows


def list_outbox(
    session: Session, person_id: int | None = None, status: str | None = None, everything: bool = True
) -> list[OutboxMessage]:
    """Outbox rows by due time, optionally for one person or status.

    Without `everything`: only what is still to be sent and what went wrong (failed, uncertain,
    skipped for a reason other than not being needed); not sent, cancelled or unneeded rows.
    """
    query = select(OutboxMessage).order_by(OutboxMessage.due_at.is_(None), OutboxMessage.due_at, OutboxMessage.id)
    if person_id is not None:
        query = query.where(OutboxMessage.person_id == person_id)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    elif not everything:
        query = query.where(or_(
            OutboxMessage.status.in_(UPCOMING + PROBLEMS),
            and_(OutboxMessage.status == "skipped", OutboxMessage.note.not_like(NOT_NEEDED + "%")),
        ))
    return list(session.scalars(query))


def release_waiting_for_channel(session: Session, person_id: int, now: datetime) -> int:
    """The person linked a channel: what waited for one is due at once (the dispatcher decides again)."""
    result = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.person_id == person_id, OutboxMessage.status == "pending",
               OutboxMessage.note == WAITING_FOR_CHANNEL)
        .values(not_before=now, updated_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


# Dispatch: every state change is its own short transaction, so a crash between two of them
# leaves a row whose status says exactly how far it got (see bot/scheduler/dispatcher.py).
IN_FLIGHT = ("sending", "delivering")


def due_for_dispatch(session: Session, now: datetime, limit: int) -> list[OutboxMessage]:
    """Pending rows whose time has come, oldest first, locked against other dispatchers (PostgreSQL)."""
    query = (
        select(OutboxMessage)
        .where(OutboxMessage.status == "pending", OutboxMessage.not_before <= now)
        .order_by(OutboxMessage.not_before, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(session.scalars(query))


def get_row(session: Session, outbox_id: int) -> OutboxMessage:
    """One outbox row (it must exist)."""
    row = session.get(OutboxMessage, outbox_id)
    if row is None:
        raise LookupError(f"no outbox message {outbox_id}")
    return row


def being_sent_to(session: Session, outbox_id: int, person_id: int) -> OutboxMessage | None:
    """The outbox row, only while it is being sent and only if it is this person's."""
    row = session.get(OutboxMessage, outbox_id)
    return row if row is not None and row.person_id == person_id and row.status in IN_FLIGHT else None


def claim(row: OutboxMessage, channel: str, now: datetime) -> None:
    """Take a due row for sending on `channel`."""
    row.status, row.channel, row.claimed_at = "sending", channel, now
    row.attempts += 1


def set_outcome(row: OutboxMessage, status: str, note: str, error: str | None = None) -> None:
    """End a row's dispatch (sent, skipped, failed, uncertain) with the reason a caseworker reads."""
    row.status, row.note = status, note[:200]
    if error is not None:
        row.last_error = error[:200]


def defer(row: OutboxMessage, until: datetime, note: str) -> None:
    """Put a row back to wait until `until` (quiet hours, or a retry after a transient failure)."""
    row.status, row.not_before, row.note, row.claimed_at = "pending", until, note[:200], None


def stale_claims(session: Session, claimed_before: datetime) -> list[OutboxMessage]:
    """Rows a dispatcher claimed and never finished (it crashed or was killed)."""
    query = select(OutboxMessage).where(OutboxMessage.status.in_(IN_FLIGHT),
                                        OutboxMessage.claimed_at < claimed_before)
    return list(session.scalars(query.with_for_update(skip_locked=True)))


def record_answer(session: Session, outbox_id: int, person_id: int, answer: str) -> FlowAnswer | None:
    """Keep a person's answer to a flow message they were sent (the latest answer counts)."""
    row = session.get(OutboxMessage, outbox_id)
    if row is None or row.person_id != person_id or row.status not in ("sent", *IN_FLIGHT):
        return None
    found = session.scalars(select(FlowAnswer).where(FlowAnswer.outbox_id == outbox_id)).first()
    if found is None:
        found = FlowAnswer(person_id=person_id, outbox_id=outbox_id, flow=row.flow, step=row.step, answer=answer)
        session.add(found)
    found.answer, found.created_at = answer, utcnow()
    session.flush()
    return found


def list_answers(session: Session, flow: str | None = None, person_id: int | None = None) -> list[FlowAnswer]:
    """Answers to flow messages, newest first, optionally of one flow and of one person."""
    query = select(FlowAnswer).order_by(FlowAnswer.created_at.desc(), FlowAnswer.id.desc())
    if flow is not None:
        query = query.where(FlowAnswer.flow == flow)
    if person_id is not None:
        query = query.where(FlowAnswer.person_id == person_id)
    return list(session.scalars(query))


def plan_monthly(session: Session, flows: dict[str, Flow], month_start: datetime, now: datetime) -> int:
    """Plan the `monthly` flows for every returnee who agreed to it, once per month; return how many."""
    if not any(flow.trigger == "monthly" for flow in flows.values()):
        return 0
    key = f"monthly:{month_start:%Y-%m}"
    done = set(session.scalars(select(OutboxMessage.person_id).where(OutboxMessage.trigger_key == key)))
    query = select(Person).where(Person.kind == PersonKind.RETURNEE, Person.consent_data.is_(True),
                                 Person.opted_out.is_(False))
    planned = 0
    for person in session.scalars(query):
        if person.id not in done:
            plan(session, flows, "monthly", person, key, month_start, now)
            planned += 1
    return planned
