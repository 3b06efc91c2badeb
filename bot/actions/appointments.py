"""Appointments: list, confirm, cancel (asks once), reschedule (free slots or a request)."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from sqlalchemy.orm import Session

from bot import runtime
from bot.actions.common import Caller, Outcome, Say, ServiceAction, entity
from bot.db.models import Appointment, AppointmentStatus
from bot.repositories import appointments
from bot.repositories.people import NotFound
from bot.responses.menus import payload

SHOWN = 3


def visible_appointments(session: Session, caller: Caller) -> list[Appointment]:
    """The caller's upcoming appointments; a family member sees only shared family sessions."""
    if caller.person is None:
        return []
    if caller.family is not None:
        if not caller.family.share_family_appointments:
            return []
        return appointments.upcoming(session, [caller.family.returnee_id], caller.now, family_only=True)
    return appointments.upcoming(session, [caller.person.id], caller.now)


def describe(caller: Caller, appointment: Appointment) -> str:
    """One line: when, with whom, where."""
    kind = runtime.catalog().word(caller.language, "appointment_kind", appointment.kind.value)
    return f"{caller.local(appointment.starts_at)}, {kind}, {appointment.place}"


def not_linked() -> Outcome:
    return Outcome([Say("utter_not_linked")])


def chosen(session: Session, caller: Caller, tracker: Tracker, intent: str) -> Appointment | Outcome:
    """The appointment the message means: by id from a button, or the only one; else a question."""
    own = visible_appointments(session, caller)
    if caller.family is not None:  # family members may look, but only the returnee changes things
        own = []
    wanted = entity(tracker, "appointment_id")
    if wanted is not None:
        match = [a for a in own if str(a.id) == wanted]
        return match[0] if match else Outcome([Say("utter_appointments_none")])
    if not own:
        return Outcome([Say("utter_appointments_none")])
    if len(own) == 1:
        return own[0]
    choices = [{"title": describe(caller, a), "payload": payload(intent, appointment_id=a.id)} for a in own[:SHOWN]]
    return Outcome([Say("utter_appointment_which", choices=choices)])


class ListAppointments(ServiceAction):
    """`ask_appointments`: the next few, with buttons to act on the first."""

    def name(self) -> str:
        return "action_appointments"

    def work(self, session: Session, caller: Caller, tracker: Tracker) -> Outcome:
        if caller.person is None:
            return not_linked()
        upcoming = visible_appointments(session, caller)
        if not upcoming:
            return Outcome([Say("utter_appointments_none")])
        lines = "\n".join(f"- {describe(caller, a)}" for a in upcoming[:SHOWN])
        first = upcoming[0]
        choices = [] if caller.family is not None else [
            {"key": "confirm", "payload": payload("confirm_appointment", appointment_id=first.id)},
            {"key": "reschedule", "payload": payload("reschedule_appointment", appointment_id=first.id)},
            {"key": "cancel", "payload": payload("cancel_appointment", appointment_id=first.id)},
        ]
        return Outcome([Say("utter_appointments_list", {"appointments": lines}, choices)])


class ConfirmAppointment(ServiceAction):
    def name(self) -> str:
        return "action_confirm_appointment"

    def work(self, session: Session, caller: Caller, tracker: Tracker) -> Outcome:
        if caller.person is None:
            return not_linked()
        appointment = chosen(session, caller, tracker, "confirm_appointment")
        if isinstance(appointment, Outcome):
            return appointment
        appointments.set_status(session, appointment, AppointmentStatus.CONFIRMED, f"person:{caller.person.id}")
        return Outcome([Say("utter_appointment_confirmed", {"when": caller.local(appointment.starts_at)})])


class CancelAppointment(ServiceAction):
    """Asks once; the answer (affirm/deny) is handled by `action_answer`."""

    def name(self) -> str:
        return "action_cancel_appointment"

    def work(self, session: Session, caller: Caller, tracker: Tracker) -> Outcome:
        if caller.person is None:
            return not_linked()
        appointment = chosen(session, caller, tracker, "cancel_appointment")
        if isinstance(appointment, Outcome):
            return appointment
        choices = [{"key": "yes", "payload": "/affirm"}, {"key": "no", "payload": "/deny"}]
        return Outcome(
            [Say("utter_ask_cancel", {"when": caller.local(appointment.starts_at)}, choices)],
            [SlotSet("pending", f"cancel:{appointment.id}")],
        )


def cancel_confirmed(session: Session, caller: Caller, appointment_id: int) -> Outcome:
    """The person said yes to cancelling."""
    try:
        appointment = appointments.get_appointment(session, appointment_id)
    except NotFound:
        return Outcome([Say("utter_appointments_none")])
    if caller.person is None or appointment.person_id != caller.person.id:
        return Outcome([Say("utter_appointments_none")])
    appointments.set_status(session, appointment, AppointmentStatus.CANCELLED, f"person:{caller.person.id}")
    return Outcome([Say("utter_appointment_cancelled", {"when": caller.local(appointment.starts_at)})])


class RescheduleAppointment(ServiceAction):
    """Offers the caseworker's free slots; without any, records the request."""

    def name(self) -> str:
        return "action_reschedule_appointment"

    def work(self, session: Session, caller: Caller, tracker: Tracker) -> Outcome:
        if caller.person is None:
            return not_linked()
        appointment = chosen(session, caller, tracker, "reschedule_appointment")
        if isinstance(appointment, Outcome):
            return appointment
        actor = f"person:{caller.person.id}"
        slot_id = entity(tracker, "slot_id")
        slots = appointments.free_slots(session, appointment.caseworker_id or 0, caller.now)
        if slot_id is not None:
            picked = [slot for slot in slots if str(slot.id) == slot_id]
            if picked:
                appointments.move_to_slot(session, appointment, picked[0], actor)
                return Outcome([Say("utter_appointment_moved", {"when": caller.local(appointment.starts_at)})])
        if slots:
            choices = [
                {"title": caller.local(slot.starts_at),
                 "payload": payload("reschedule_appointment", appointment_id=appointment.id, slot_id=slot.id)}
                for slot in slots
            ]
            return Outcome([Say("utter_choose_slot", choices=choices)])
        appointments.set_status(session, appointment, AppointmentStatus.RESCHEDULE_REQUESTED, actor)
        return Outcome([Say("utter_reschedule_requested")])
