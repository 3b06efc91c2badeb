"""Keep the conversation's language, channel and open question up to date after every message."""

from __future__ import annotations

import time
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions import pending
from bot.nlp.langid import Detection
from bot.nlp.sticky import choose_language, is_language

CHANNELS = {"telegram", "sms", "terminal"}


def latest_user_metadata(tracker: Tracker) -> dict[str, Any]:
    """The metadata the app sent with the latest user message."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event.get("metadata") or {}
    return {}


def explicit_language(tracker: Tracker) -> str | None:
    """A language chosen with the latest message: from the language menu, or set by the app
    (`language_explicit`: the record's language after a link or a caseworker's change)."""
    value = next(tracker.get_latest_entity_values("language"), None)
    if is_language(value):
        return str(value)
    value = latest_user_metadata(tracker).get("language_explicit")
    return str(value) if is_language(value) else None


def detection_of(parse_data: dict[str, Any]) -> Detection | None:
    """The engine's language detection in a parse result (see engine/components/language.py)."""
    found = parse_data.get("language")
    if not isinstance(found, dict) or "name" not in found:
        return None
    return Detection(found["name"], float(found.get("confidence", 0.0)), int(found.get("words", 0)))


class TrackConversation(Action):
    """Slot mapping action, run on every user message: sets `language` (sticky) and `channel`,
    and closes the open question unless this message is a yes or no to it in time."""

    def name(self) -> str:
        return "action_track_conversation"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        metadata = latest_user_metadata(tracker)
        current = tracker.get_slot("language")
        language = choose_language(
            current,
            detection_of(tracker.latest_message or {}),
            hint=metadata.get("language_hint"),
            explicit=explicit_language(tracker),
        )
        events: list[EventType] = []
        if language != current:
            events.append(SlotSet("language", language))
        channel = metadata.get("channel")
        if channel in CHANNELS and channel != tracker.get_slot("channel"):
            events.append(SlotSet("channel", channel))
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        if tracker.get_slot("pending") and not pending.survives(tracker.get_slot("pending_at"), intent, time.time()):
            events += pending.close()
        return events


class ChangeLanguage(Action):
    """Confirms a language chosen from the menu, or shows the menu."""

    def name(self) -> str:
        return "action_change_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if next(tracker.get_latest_entity_values("language"), None):
            dispatcher.utter_message(response="utter_language_changed")
        else:
            dispatcher.utter_message(response="utter_choose_language")
        return []
