"""Document status, only for a verified identity; by SMS only after the second factor, which the
app asks for and checks (the engine only says that it is needed)."""

from __future__ import annotations

from rasa_sdk import Tracker
from sqlalchemy.orm import Session

from bot import runtime
from bot.actions.common import Caller, Outcome, Say, ServiceAction, entity
from bot.db.models import Document
from bot.repositories import documents, identities

#: Tells the app that the next message answers its date-of-birth question.
AWAITING_SECOND_FACTOR = {"awaiting": "second_factor"}


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
            return Outcome([Say("utter_ask_second_factor")], notes=[AWAITING_SECOND_FACTOR])
        wanted = entity(tracker, "document_type")
        found = documents.disclose_documents(session, caller.person.id, caller.channel, wanted)
        if not found:
            return Outcome([Say("utter_documents_none")])
        lines = "\n".join(describe(caller, document) for document in found)
        return Outcome([Say("utter_documents_status", {"documents": lines})])
