"""Yes and no: they answer the last question the bot asked, while it is open (see `pending`).

Questions: "cancel:<appointment>", "confirm:<appointment>", "reschedule:<appointment>",
"remind:<appointment>" (a reminder's "will you come?"), "flow:<outbox row>" (a flow's yes/no),
"triage_consent", "opt_out", "human" (an unsure request for a person).
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from sqlalchemy.orm import Session

from bot.actions import pending
from bot.actions.appointments import cancel, confirm, own_appointment, reminder_declined, reschedule
from bot.actions.common import Caller, Outcome, Say, ServiceAction
from bot.actions.support import hand_off, opt_out, triage_step
from bot.repositories import outbox


def about_appointment(session: Session, caller: Caller, question: str, yes: bool) -> Outcome | None:
    """The answer to a question naming an appointment, or None if the question is not one."""
    for kind in ("cancel", "confirm", "reschedule", "remind"):
        number = pending.numbered(question, kind)
        if number is None:
            continue
        appointment = own_appointment(session, caller, number)
        if appointment is None:
            return Outcome([Say("utter_appointments_none")])
        if not yes:
            return reminder_declined(caller, appointment) if kind == "remind" else Outcome(
                [Say("utter_appointment_kept")])
        if kind == "cancel":
            return cancel(session, caller, appointment)
        if kind == "reschedule":
            return reschedule(session, caller, appointment, None)
        return confirm(session, caller, appointment)
    return None


class Answer(ServiceAction):
    """`affirm` / `deny`: act on the open question; without one, "no" is met gently."""

    def name(self) -> str:
        return "action_answer"

    def work(self, session: Session, caller: Caller, tracker: Tracker) -> Outcome:
        question = pending.open_question(tracker)
        yes = (tracker.latest_message.get("intent") or {}).get("name") == "affirm"
        closed = pending.close()
        answered = about_appointment(session, caller, question, yes)
        if answered is not None:
            return Outcome(answered.replies, closed + answered.events)
        row = pending.numbered(question, "flow")
        if row is not None:
            if caller.person is not None:
                outbox.record_answer(session, row, caller.person.id, "yes" if yes else "no")
            return Outcome([Say("utter_flow_answer_yes" if yes else "utter_flow_answer_no")], closed)
        if question == "human":
            return Outcome(hand_off(session, caller, "").replies if yes else [Say("utter_deny_gentle")], closed)
        if question == "opt_out":
            return Outcome(opt_out(session, caller).replies if yes else [Say("utter_opt_out_declined")], closed)
        if question == "triage_consent":
            if not yes:
                return Outcome([Say("utter_triage_declined")], closed)
            state = tracker.current_state()
            consented = Tracker.from_dict({**state, "slots": {**tracker.slots, "triage": "consented"}})
            outcome = triage_step(session, caller, consented)
            return Outcome(outcome.replies, closed + [SlotSet("triage", "consented")] + outcome.events)
        return Outcome([Say("utter_ack" if yes else "utter_deny_gentle")], closed)
