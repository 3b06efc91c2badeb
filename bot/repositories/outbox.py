"""The outbox: flow messages planned for people, in the same transaction as what triggered them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.db.models import OutboxMessage, Person, utcnow
from bot.flows.model import Flow
from bot.flows.planning import plan_flow

NOTES = {
    "late_skip": "time had passed when planned; the flow skips it",
    "late_send": "time had passed when planned; sent at once",
    "quiet_skip": "quiet hours would delay it past the event itself",
}
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
                trigger_version=version, due_at=planned.due, status="skipped" if skipped else "pending",
                note=NOTES.get(planned.outcome, ""),
                idempotency_key=key,
            ))
    session.add_all(rows)
    session.flush()
    return rows


def list_outbox(session: Session, person_id: int | None = None, status: str | None = None) -> list[OutboxMessage]:
    """Outbox rows by due time, optionally for one person or status."""
    query = select(OutboxMessage).order_by(OutboxMessage.due_at.is_(None), OutboxMessage.due_at, OutboxMessage.id)
    if person_id is not None:
        query = query.where(OutboxMessage.person_id == person_id)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    return list(session.scalars(query))
