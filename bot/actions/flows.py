"""Flow messages in the conversation: the dispatcher's trigger renders one, and the wellbeing
rating a person gives in reply is kept for programme monitoring."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from bot import runtime
from bot.actions import pending
from bot.actions.common import Caller, Outcome, Say, ServiceAction, caller_of, entity
from bot.flows.rendering import StepMessage, render_step
from bot.repositories import outbox

LOW_RATING = 2


def flow_message(session: Session, caller: Caller, outbox_id: int) -> StepMessage | None:
    """The flow message of outbox row `outbox_id`, only while it is being sent to this caller's person."""
    if caller.person is None:
        return None
    row = outbox.being_sent_to(session, outbox_id, caller.person.id)
    if row is None:
        return None
    flow = runtime.flow_library().current().get(row.flow)
    step = flow.step(row.step) if flow else None
    if step is None:
        return None
    return render_step(session, runtime.catalog(), step, caller.person, caller.language, row.trigger_key, row.id)


class FlowMessage(Action):
    """`flow_message{"outbox_id"}`: say the flow step; its question (if any) waits for a yes or no."""

    def name(self) -> str:
        return "action_flow_message"

    def _render(self, tracker: Tracker, outbox_id: int) -> StepMessage | None:
        with runtime.database().transaction() as session:
            return flow_message(session, caller_of(session, tracker), outbox_id)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        wanted = entity(tracker, "outbox_id")
        if wanted is None or not wanted.isdigit():
            return []
        message = await asyncio.to_thread(self._render, tracker, int(wanted))
        if message is None:
            return []
        dispatcher.utter_message(text=message.text, buttons=message.buttons)
        return pending.ask(message.question, time.time()) if message.question else []


class RateWellbeing(ServiceAction):
    """`rate_wellbeing{"score", "outbox_id"}`: keep the 1-5 answer; a low one is offered support."""

    def name(self) -> str:
        return "action_rate_wellbeing"

    def work(self, session: Session, caller: Caller, tracker: Tracker) -> Outcome:
        score, outbox_id = entity(tracker, "score"), entity(tracker, "outbox_id")
        if score not in {"1", "2", "3", "4", "5"}:
            return Outcome([Say("utter_clarify")])
        if caller.person is not None and outbox_id is not None and outbox_id.isdigit():
            outbox.record_answer(session, int(outbox_id), caller.person.id, score)
        return Outcome([Say("utter_wellbeing_low" if int(score) <= LOW_RATING else "utter_wellbeing_ok")])
