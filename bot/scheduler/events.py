"""What happened, for the flows: called by the repositories inside the transaction of the change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.db.models import Person, utcnow
from bot.repositories import outbox

#: Events after which the trigger's pending messages no longer apply.
CANCELLING = {"appointment_cancelled": "the appointment was cancelled",
              "appointment_changed": "the appointment moved: planned again"}


def on_event(
    session: Session, event: str, person_id: int, trigger_key: str, trigger_at: datetime | None = None
) -> None:
    """Cancel what no longer applies and plan the flows this event triggers."""
    from bot import runtime  # the flow files are read (and reloaded) once per process

    person = session.get(Person, person_id)
    if person is None:
        return
    if event in CANCELLING:
        outbox.cancel_pending(session, person_id, trigger_key, CANCELLING[event])
    outbox.plan(session, runtime.flow_library().current(), event, person, trigger_key, trigger_at or utcnow())
