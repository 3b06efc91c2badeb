"""Appointments: list, confirm, cancel (asks once), reschedule (free slots or a request).

Nothing changes an appointment unless the person clearly asked (a button, or a message the
classifier is sure of) or answered yes to a question that named the appointment.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from sqlalchemy.orm import Session

from bot import runtime
from bot.actions import pending
from bot.actions.common import Caller, Outcome, Say, ServiceAction, clearly_asked, entity
from bot.db.models import Appointment, AppointmentKind, AppointmentStatus
from bot.repositories import appointments
from bot.repositories.people import NotFound
from bot.responses.menus import payload

SHOWN = 3
YES_NO = [{"key": "yes", "payload": "/affirm"}, {"key": "no", "payload": "/deny"}]


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


def actions_for(appointment: Appointment) -> list[dict[str, str]]:
    """Confirm / another time / cancel buttons for one appointment."""
    return [
        {"key": "confirm", "payload": payload("confirm_appointment", appointment_id=appointment.id)},
        {"key": "reschedule", "payload": payload("reschedule_appointment", appointment_id=appointment.id)},
        {"key": "cancel", "payload": payload("cancel_appointment", appointment_id=appointment.id)},
    ]


def not_linked() -> Outcome:
    return Outcome([Say("utter_not_linked")])


def own_appointment(session: Session, caller: Caller, appointment_id: int) -> Appointment | None:
    """The caller's own active appointment with this id, else None (someone else's, or over)."""
    try:
        appointment = appointments.get_appointment(session, appointment_id)
    except NotFound:
        return None
    if caller.person is None or caller.family is not None or appointment.person_id != caller.person.id:
        return None
    return appointment if appointment.status in appointments.ACTIVE else None


def chosen(session: Session, caller: Caller, tracker: Tracker, intent: str) -> Appointment | Outcome:
    """The appointment the message means: by id from a button, or the only one; else a question."""
    if caller.family is not None:  # family members may look, but only the returnee changes things
        return Outcome([Say("utter_family_cannot_change")])
    own = visible_appointments(session, caller)
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


def ask(caller: Caller, question: str, reply: str, appointment: Appointment) -> Outcome:
    """A yes/no question naming the appointment; the answer is handled by `action_answer`."""
    return Outcome(
        [Say(reply, {"when": caller.local(appointment.starts_at)}, YES_NO)],
        pending.ask(f"{question}:{appointment.id}", caller.now.timestamp()),
    )


class ListAppointments(ServiceAction):
    """`ask_appointments`: the next few; each choice names its appointment."""

    def name(self) -> str:
        return "action_appointments"

    def work(self, session: Session, caller: Caller, tracker: Tracker) -> Outcome:
        if caller.person is None:
            return not_linked()
        upcoming = visible_appointments(session, caller)
        wanted = entity(tracker, "appointment_id")
        picked = [a for a in upcoming if str(a.id) == wanted]
        if picked and caller.family is None:
            return Outcome([Say("utter_appointment_chosen", {"appointment": describe(caller, picked[0])},
                                actions_for(picked[0]))])
        if not upcoming:
            return Outcome([Say("utter_appointments_none")])
        shown = upcoming[:SHOWN]
        lines = "\n".join(f"- {describe(caller, a)}" for a in shown)
        if caller.family is not None:
            choices = []
        elif len(shown) == 1:
            choices = actions_for(shown[0])
        else:
            choices = [{"title": describe(caller, a), "payload": payload("ask_appointments", appointment_id=a.id)}
                       for a in shown]
        return Outcome([Say("utter_appointments_list", {"appointments": lines}, choices)])


def confirm(session: Session, caller: Caller, appointment: Appointment) -> Outcome:
    """Confirm the appointment (the person clearly asked, or said yes)."""
    assert caller.person is not None
    appointments.set_status(session, appointment, AppointmentStatus.CONFIRMED, f"person:{caller.person.id}")
    return Outcome([Say("utter_appointment_confirmed", {"when": caller.local(appointment.starts_at)})])


class ConfirmAppointment(ServiceAction):
    """Confirms when clearly asked; otherwise asks, naming the appointment."""

    def name(self) -> str:
        return "action_confirm_appointment"

    def work(self, session: Session, caller: Caller, tracker: Tracker) -> Outcome:
        if caller.person is None:
            return not_linked()
        appointment = chosen(session, caller, tracker, "confirm_appointment")
        if isinstance(appointment, Outcome):
            return appointment
        if not clearly_asked(tracker):
            return ask(caller, "confirm", "utter_ask_confirm", appointment)
        return confirm(session, caller, appointment)


class CancelAppointment(ServiceAction):
    """Always asks once; the answer (affirm/deny) is handled by `action_answer`."""

    def name(self) -> str:
        return "action_cancel_appointment"

    def work(self, session: Session, caller: Caller, tracker: Tracker) -> Outcome:
        if caller.person is None:
            return not_linked()
        appointment = chosen(session, caller, tracker, "cancel_appointment")
        if isinstance(appointment, Outcome):
            return appointment
        return ask(caller, "cancel", "utter_ask_cancel", appointment)


def cancel(session: Session, caller: Caller, appointment: Appointment) -> Outcome:
    """The person said yes to cancelling."""
    assert caller.person is not None
    appointments.set_status(session, appointment, AppointmentStatus.CANCELLED, f"person:{caller.person.id}")
    return Outcome([Say("utter_appointment_cancelled", {"when": caller.local(appointment.starts_at)})])


def reschedule(session: Session, caller: Caller, appointment: Appointment, slot_id: str | None) -> Outcome:
    """Move to a chosen free slot, offer free slots, or record the request for the caseworker.

    Free slots are the caseworker's own: only a caseworker appointment is offered them; a
    lawyer's, doctor's or psychologist's appointment is always a request.
    """
    assert caller.person is not None
    actor = f"person:{caller.person.id}"
    slots = []
    if appointment.kind is AppointmentKind.CASEWORKER and appointment.caseworker_id is not None:
        slots = appointments.free_slots(session, appointment.caseworker_id, caller.now)
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


class RescheduleAppointment(ServiceAction):
    """Another time: when clearly asked; otherwise asks, naming the appointment."""

    def name(self) -> str:
        return "action_reschedule_appointment"

    def work(self, session: Session, caller: Caller, tracker: Tracker) -> Outcome:
        if caller.person is None:
            return not_linked()
        appointment = chosen(session, caller, tracker, "reschedule_appointment")
        if isinstance(appointment, Outcome):
            return appointment
        if not clearly_asked(tracker):
            return ask(caller, "reschedule", "utter_ask_reschedule", appointment)
        return reschedule(session, caller, appointment, entity(tracker, "slot_id"))


def reminder_declined(caller: Caller, appointment: Appointment) -> Outcome:
    """"No" to a reminder's "will you come?": offer another time or cancelling this appointment."""
    choices = [
        {"key": "reschedule", "payload": payload("reschedule_appointment", appointment_id=appointment.id)},
        {"key": "cancel", "payload": payload("cancel_appointment", appointment_id=appointment.id)},
    ]
    return Outcome([Say("utter_reminder_declined", {"when": caller.local(appointment.starts_at)}, choices)])
