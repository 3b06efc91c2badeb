"""Whether a due flow message goes out now, waits, or is skipped — and why, in words a caseworker reads.

Decided at dispatch time, not at planning time: a person may have opted out, blocked the bot or
confirmed the appointment since the message was planned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.db.models import Appointment, AppointmentStatus, Document, OutboxMessage, Person
from bot.flows.model import Flow, Step
from bot.flows.planning import after_quiet_hours
from bot.flows.rendering import trigger_entity
from bot.repositories import identities, outbox

ACTIVE = (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED)
#: A row waiting for a linked channel is looked at again at least this often (linking also wakes it).
RECHECK = timedelta(hours=1)
#: Why a step's condition stopped holding, in the words a caseworker reads.
NOT_NEEDED = {
    "appointment_scheduled_or_confirmed": "the appointment is no longer on (cancelled, to be rescheduled or over)",
    "appointment_not_confirmed": "the person already confirmed the appointment",
    "appointment_missed": "the person did not miss the appointment",
    "document_ready": "the document is no longer ready to collect",
}


@dataclass(frozen=True)
class Target:
    """Where a message goes: one linked channel identity, in the person's language."""

    identity_id: int
    channel: str
    address: str
    conversation_id: str
    language: str


@dataclass(frozen=True)
class Decision:
    """send (to `target`), wait (until `until`) or skip, with the reason; "none": no linked channel."""

    action: str
    note: str = ""
    target: Target | None = None
    until: datetime | None = None


def condition_holds(session: Session, condition: str, trigger_key: str) -> bool:
    """Evaluate a step's `only_if` against the trigger as it is now."""
    kind, number = trigger_entity(trigger_key)
    if condition.startswith("appointment_"):
        appointment = session.get(Appointment, number) if kind == "appointment" and number else None
        if appointment is None:
            return False
        return {
            "appointment_scheduled_or_confirmed": appointment.status in ACTIVE,
            "appointment_not_confirmed": appointment.status is AppointmentStatus.SCHEDULED,
            "appointment_missed": appointment.status is AppointmentStatus.MISSED,
        }[condition]
    if condition == "document_ready":
        document = session.get(Document, number) if kind == "document" and number else None
        return document is not None and document.status == "ready"
    raise ValueError(f"unknown condition {condition!r}")


def event_has_passed(session: Session, step: Step, trigger_key: str, now: datetime) -> bool:
    """True for a reminder before an event (negative offset) when the event itself has begun."""
    kind, number = trigger_entity(trigger_key)
    if step.offset >= timedelta(0) or kind != "appointment" or number is None:
        return False
    appointment = session.get(Appointment, number)
    return appointment is not None and appointment.starts_at <= now


def wait_for_channel(row: OutboxMessage, step: Step, now: datetime) -> Decision:
    """No linked channel yet: wait (linking wakes the row) until the step expires, then skip."""
    deadline = (row.due_at or now) + step.expires
    if now >= deadline:
        return Decision("skip", f"no linked channel: the person did not link Telegram or SMS within "
                                f"{step.expires.days} day(s) of its time")
    return Decision("wait", outbox.WAITING_FOR_CHANNEL, until=min(deadline, now + RECHECK))


def choose_target(session: Session, person: Person, channels: set[str], default_language: str) -> Decision:
    """The linked identity to write to, or why there is none ("none" when nothing is linked)."""
    linked = identities.linked_identities(session, person.id)
    if not linked:
        return Decision("none")
    reasons = []
    for identity in linked:
        if identity.opted_out:
            reasons.append(f"opted out on {identity.channel}")
        elif identity.unreachable:
            reasons.append(f"unreachable on {identity.channel} (the bot was blocked)")
        elif identity.channel not in channels:
            reasons.append(f"{identity.channel} is not configured for sending")
        else:
            language = identity.language or person.language or default_language
            return Decision("send", target=Target(identity.id, identity.channel, identity.address,
                                                  identity.conversation_id, language))
    return Decision("skip", "; ".join(reasons))


def decide(
    session: Session, row: OutboxMessage, flows: dict[str, Flow], channels: set[str], default_language: str,
    now: datetime,
) -> Decision:
    """What to do with one due outbox row now."""
    flow = flows.get(row.flow)
    step = flow.step(row.step) if flow else None
    if flow is None or step is None:
        return Decision("skip", "the flow or its step no longer exists (or its file has an error)")
    person = session.get(Person, row.person_id)
    if person is None:
        return Decision("skip", "the person no longer exists")
    if person.opted_out:
        return Decision("skip", "the person opted out")
    if step.only_if and not condition_holds(session, step.only_if, row.trigger_key):
        return Decision("skip", outbox.NOT_NEEDED + NOT_NEEDED[step.only_if])
    if event_has_passed(session, step, row.trigger_key, now):
        return Decision("skip", "too late: the appointment it reminds of has begun")
    decision = choose_target(session, person, channels, default_language)
    if decision.action == "none":
        return wait_for_channel(row, step, now)
    if decision.action != "send":
        return decision
    local = now.astimezone(ZoneInfo(person.time_zone))
    opens = after_quiet_hours(local, flow.quiet_hours)
    if opens != local:
        return Decision("wait", "waiting for the person's quiet hours to end",
                        until=opens.astimezone(ZoneInfo("UTC")))
    return decision
