"""Yes and no: they answer the question the bot asked last (cancel? triage consent? a flow's question?)."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from sqlalchemy.orm import Session

from bot.actions.appointments import cancel_confirmed
from bot.actions.common import Caller, Outcome, Say, ServiceAction
from bot.actions.support import triage_step
from bot.repositories import outbox


class Answer(ServiceAction):
    """`affirm` / `deny`: act on the pending question, or acknowledge."""

    def name(self) -> str:
        return "action_answer"

    def work(self, session: Session, caller: Caller, tracker: Tracker) -> Outcome:
        pending = tracker.get_slot("pending") or ""
        yes = (tracker.latest_message.get("intent") or {}).get("name") == "affirm"
        clear = [SlotSet("pending", None)]
        if pending.startswith("cancel:") and pending[7:].isdigit():
            outcome = cancel_confirmed(session, caller, int(pending[7:])) if yes else Outcome(
                [Say("utter_appointment_kept")])
            return Outcome(outcome.replies, clear + outcome.events)
        if pending.startswith("flow:") and pending[5:].isdigit():
            if caller.person is not None:
                outbox.record_answer(session, int(pending[5:]), caller.person.id, "yes" if yes else "no")
            return Outcome([Say("utter_flow_answer_yes" if yes else "utter_flow_answer_no")], clear)
        if pending == "triage_consent":
            if not yes:
                return Outcome([Say("utter_triage_declined")], clear)
            state = tracker.current_state()
            consented = Tracker.from_dict({**state, "slots": {**tracker.slots, "triage": "consented"}})
            outcome = triage_step(session, caller, consented)
            return Outcome(outcome.replies, clear + [SlotSet("triage", "consented")] + outcome.events)
        return Outcome([Say("utter_ack")], clear)
