"""What every service action shares: who is writing, in which language, and how to answer.

An action's `work` runs in a worker thread inside one database transaction (never on the
action server's event loop) and returns what to say; `run` sends it.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from bot import runtime
from bot.db.models import ChannelIdentity, FamilyLink, Person, PersonKind, utcnow
from bot.nlp.intent_rules import CLEAR_CONFIDENCE
from bot.repositories import identities, people
from bot.settings import get_settings

#: Channels on which a caseworker can write back to the person.
REACHABLE_CHANNELS = {"telegram", "sms"}


@dataclass
class Caller:
    """The person behind a conversation, as far as verified."""

    conversation_id: str
    channel: str
    language: str
    identity: ChannelIdentity | None
    person: Person | None
    family: FamilyLink | None
    now: datetime
    #: What the person wrote ("" for a button or a message the app sent on their behalf).
    message: str = ""

    @property
    def is_family(self) -> bool:
        return self.person is not None and self.person.kind is PersonKind.FAMILY

    @property
    def reachable(self) -> bool:
        """True if a caseworker can write back on this account or phone."""
        return self.identity is not None and self.identity.channel in REACHABLE_CHANNELS

    def local(self, moment: datetime) -> str:
        """A time as the person reads it: day.month hour:minute in their time zone."""
        zone = ZoneInfo(self.person.time_zone) if self.person else ZoneInfo("UTC")
        return moment.astimezone(zone).strftime("%d.%m %H:%M")


@dataclass
class Say:
    """One reply: a catalog name, values for its placeholders and extra buttons."""

    name: str
    values: dict[str, str] = field(default_factory=dict)
    choices: list[dict[str, str]] = field(default_factory=list)


@dataclass
class Outcome:
    """What an action says and which events it returns to the engine."""

    replies: list[Say]
    events: list[EventType] = field(default_factory=list)
    #: Notes for the app after the replies (e.g. {"awaiting": "second_factor"}), never shown.
    notes: list[dict[str, Any]] = field(default_factory=list)


def entity(tracker: Tracker, name: str) -> str | None:
    """The latest message's value of entity `name`, if any."""
    value = next(tracker.get_latest_entity_values(name), None)
    return str(value) if value is not None else None


def written(tracker: Tracker) -> str:
    """The text of the latest message, or "" when it was a button payload (`/intent{…}`)."""
    text = str((tracker.latest_message or {}).get("text") or "")
    return "" if text.startswith("/") else text


def intent_confidence(tracker: Tracker) -> float:
    """The classifier's confidence in the latest message's intent."""
    return float(((tracker.latest_message or {}).get("intent") or {}).get("confidence") or 0.0)


def clearly_asked(tracker: Tracker) -> bool:
    """A button (or the app) sent the intent, or the classifier is sure of it: only then does a
    state-changing intent act without asking (CLEAR_CONFIDENCE)."""
    return not written(tracker) or intent_confidence(tracker) >= CLEAR_CONFIDENCE


def caller_of(session: Session, tracker: Tracker) -> Caller:
    """Look up who is writing (the conversation id is the engine's sender id)."""
    settings = get_settings()
    identity = identities.identity_by_conversation(session, tracker.sender_id)
    person = people.get_person(session, identity.person_id) if identity and identity.person_id else None
    family = people.family_link(session, person.id) if person else None
    return Caller(
        conversation_id=tracker.sender_id,
        channel=(identity.channel if identity else tracker.get_slot("channel")) or "terminal",
        language=tracker.get_slot("language") or settings.default_language,
        identity=identity,
        person=person,
        family=family,
        now=utcnow(),
        message=written(tracker),
    )


class ServiceAction(Action, ABC):
    """Base of the service actions: subclasses implement `name` and `work`."""

    @abstractmethod
    def name(self) -> str:
        """The action's name in the domain."""

    @abstractmethod
    def work(self, session: Session, caller: Caller, tracker: Tracker) -> Outcome:
        """What to say (and which events), decided inside one database transaction."""

    def _in_transaction(self, tracker: Tracker) -> Outcome:
        with runtime.database().transaction() as session:
            return self.work(session, caller_of(session, tracker), tracker)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        outcome = await asyncio.to_thread(self._in_transaction, tracker)
        for reply in outcome.replies:
            dispatcher.utter_message(response=reply.name, values=reply.values, choices=reply.choices)
        for note in outcome.notes:
            dispatcher.utter_message(json_message=note)
        return outcome.events
