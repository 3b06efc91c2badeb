"""Document status, only for a verified identity; by SMS only after the second factor."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from bot import runtime
from bot.actions.common import Caller, Outcome, Say, ServiceAction, caller_of, entity
from bot.db.models import Document
from bot.repositories import documents, identities
from bot.settings import get_settings


def describe(caller: Caller, document: Document) -> str:
    catalog = runtime.catalog()
    kind = catalog.word(caller.language, "document_type", document.type, fallback=document.type)
    status = catalog.word(caller.language, "document_status", document.status, fallback=document.status)
    line = f"- {kind}: {status} ({document.office})"
    return f"{line}. {document.note}" if document.note else line


class DocumentStatus(ServiceAction):
    """`check_document_status`. An unverified caller learns nothing, not even whether records exist."""

    def name(self) -> str:
        return "action_documents"

    def work(self, session: Session, caller: Caller, tracker: Tracker) -> Outcome:
        identity = caller.identity
        if identity is None or caller.person is None:
            return Outcome([Say("utter_documents")])
        if caller.is_family:
            return Outcome([Say("utter_documents_family")])
        if identities.is_locked(identity, caller.now):
            return Outcome([Say("utter_verification_locked")])
        if not identities.is_verified(identity, caller.now):
            return Outcome([], [SlotSet("second_factor", None), FollowupAction("second_factor_form")])
        wanted = entity(tracker, "document_type")
        found = documents.disclose_documents(session, caller.person.id, caller.channel, wanted)
        if not found:
            return Outcome([Say("utter_documents_none")])
        lines = "\n".join(describe(caller, document) for document in found)
        return Outcome([Say("utter_documents_status", {"documents": lines})])


class ValidateSecondFactor(FormValidationAction):
    """Checks the date of birth (or other second factor) given by SMS; five misses lock for an hour."""

    def name(self) -> str:
        return "validate_second_factor_form"

    def _check(self, tracker: Tracker, answer: str) -> str:
        with runtime.database().transaction() as session:
            caller = caller_of(session, tracker)
            if caller.identity is None:
                return "wrong"
            key = get_settings().hashing_key()
            return identities.check_second_factor(session, key, caller.identity, answer, caller.now)

    async def validate_second_factor(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if not value:  # the slot was just cleared to ask the question: nothing was answered yet
            return {"second_factor": None}
        result = await asyncio.to_thread(self._check, tracker, str(value))
        if result == "verified":
            return {"second_factor": "verified"}
        if result == "locked":
            dispatcher.utter_message(response="utter_verification_locked")
            return {"second_factor": "locked"}
        dispatcher.utter_message(response="utter_second_factor_wrong")
        return {"second_factor": None}
