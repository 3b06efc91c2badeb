"""Appointments and caseworkers' free slots."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Appointment, AppointmentStatus, FreeSlot
from bot.repositories import audit
from bot.repositories.people import NotFound
from bot.scheduler.events import on_event

ACTIVE = (AppointmentStatus.SCHEDULED, AppointmentStatus.CONFIRMED, AppointmentStatus.RESCHEDULE_REQUESTED)


def upcoming(session: Session, person_ids: list[int], now: datetime, family_only: bool = False) -> list[Appointment]:
    """Active appointments of these people from `now` on, soonest first."""
    query = (
        select(Appointment)
        .where(Appointment.person_id.in_(person_ids), Appointment.starts_at >= now, Appointment.status.in_(ACTIVE))
        .order_by(Appointment.starts_at)
    )
    if family_only:
        query = query.where(Appointment.family_session.is_(True))
    return list(session.scalars(query))


def get_appointment(session: Session, appointment_id: int) -> Appointment:
    """The appointment with `appointment_id`, or NotFound."""
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound(f"no appointment with id {appointment_id}")
    return appointment


def list_appointments(session: Session, person_id: int | None = None) -> list[Appointment]:
    """All appointments (of one person), by time."""
    query = select(Appointment).order_by(Appointment.starts_at)
    if person_id is not None:
        query = query.where(Appointment.person_id == person_id)
    return list(session.scalars(query))


def add_appointment(session: Session, actor: str, **fields: object) -> Appointment:
    """Add an appointment (validated by the caller) and audit it."""
    appointment = Appointment(**fields)
    session.add(appointment)
    session.flush()
    audit.record(session, actor, "appointment_added", "appointment", appointment.id, appointment.person_id)
    on_event(session, "appointment_scheduled", appointment.person_id, f"appointment:{appointment.id}",
             appointment.starts_at)
    return appointment


def set_status(session: Session, appointment: Appointment, status: AppointmentStatus, actor: str) -> None:
    """Change an appointment's status and audit it."""
    previous = appointment.status
    appointment.status = status
    audit.record(
        session, actor, "appointment_status", "appointment", appointment.id, appointment.person_id,
        old=previous.value, new=status.value,
    )
    if status is AppointmentStatus.CANCELLED:
        on_event(session, "appointment_cancelled", appointment.person_id, f"appointment:{appointment.id}")


def free_slots(session: Session, caseworker_id: int, now: datetime, limit: int = 3) -> list[FreeSlot]:
    """The caseworker's next untaken slots."""
    query = (
        select(FreeSlot)
        .where(FreeSlot.caseworker_id == caseworker_id, FreeSlot.starts_at > now, FreeSlot.taken.is_(False))
        .order_by(FreeSlot.starts_at)
        .limit(limit)
    )
    return list(session.scalars(query))


def add_free_slot(session: Session, caseworker_id: int, starts_at: datetime) -> FreeSlot:
    """Offer a slot for rescheduling (once)."""
    taken = select(FreeSlot.id).where(FreeSlot.caseworker_id == caseworker_id, FreeSlot.starts_at == starts_at)
    if session.scalar(taken) is not None:
        raise ValueError("the caseworker already offers that time")
    slot = FreeSlot(caseworker_id=caseworker_id, starts_at=starts_at)
    session.add(slot)
    session.flush()
    return slot


def move(session: Session, appointment: Appointment, starts_at: datetime, actor: str) -> None:
    """Move an appointment to another time (a caseworker agreed it with the person): it is
    scheduled again and its reminders are planned again for the new time; audited."""
    if appointment.status in (AppointmentStatus.CANCELLED, AppointmentStatus.ATTENDED):
        raise ValueError(f"appointment {appointment.id} is {appointment.status.value}: add a new one instead")
    old = appointment.starts_at
    appointment.starts_at = starts_at
    appointment.status = AppointmentStatus.SCHEDULED
    audit.record(
        session, actor, "appointment_moved", "appointment", appointment.id, appointment.person_id,
        old=old.isoformat(), new=starts_at.isoformat(),
    )
    on_event(session, "appointment_changed", appointment.person_id, f"appointment:{appointment.id}",
             appointment.starts_at)


def move_to_slot(session: Session, appointment: Appointment, slot: FreeSlot, actor: str) -> None:
    """Move an appointment to a free slot of its caseworker; the slot is taken."""
    if slot.taken or slot.caseworker_id != appointment.caseworker_id:
        raise ValueError("that slot is no longer free")
    slot.taken = True
    move(session, appointment, slot.starts_at, actor)
