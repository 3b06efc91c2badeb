"""Keep the conversation's language and channel up to date after every message."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.nlp.langid import Detection
from bot.nlp.sticky import choose_language

CHANNELS = {"telegram", "sms", "terminal"}


def latest_user_metadata(tracker: Tracker) -> dict[str, Any]:
    """The metadata the app sent with the latest user message."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event.get("metadata") or {}
    return {}


def explicit_language(tracker: Tracker) -> str | None:
    """The language chosen from the language menu in the latest message, if any."""
    value = next(tracker.get_latest_entity_values("language"), None)
    return value if isinstance(value, str) else None


def detection_of(parse_data: dict[str, Any]) -> Detection | None:
    """The engine's language detection in a parse result (see engine/components/language.py)."""
    found = parse_data.get("language")
    if not isinstance(found, dict) or "name" not in found:
        return None
    return Detection(found["name"], float(found.get("confidence", 0.0)), int(found.get("words", 0)))


class TrackConversation(Action):
    """Slot mapping action: sets `language` (sticky) and `channel` on every user turn."""

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
        return events


class ChangeLanguage(Action):
    """Confirms a language chosen from the menu, or shows the menu."""

    def name(self) -> str:
        return "action_change_language"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if explicit_language(tracker):
            dispatcher.utter_message(response="utter_language_changed")
        else:
            dispatcher.utter_message(response="utter_choose_language")
        return []
