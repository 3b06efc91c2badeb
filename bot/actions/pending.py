"""The question the bot waits for an answer to (`pending`), and when it was asked (`pending_at`).

A question is open only until the conversation moves on: any message that is not a yes or a
no closes it, and so does time (`QUESTION_LIFETIME`). "Yes" only ever answers the last question.
"""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

#: Seconds a yes/no question stays open.
QUESTION_LIFETIME = 5 * 60
ANSWERS = {"affirm", "deny"}


def ask(question: str, now: float) -> list[EventType]:
    """Events that open `question` (e.g. "cancel:12") at `now` (seconds since the epoch)."""
    return [SlotSet("pending", question), SlotSet("pending_at", now)]


def close() -> list[EventType]:
    """Events that close the open question."""
    return [SlotSet("pending", None), SlotSet("pending_at", None)]


def survives(asked_at: float | None, intent: str | None, now: float) -> bool:
    """Whether an open question is still open after a message with `intent` at `now`."""
    return intent in ANSWERS and asked_at is not None and 0 <= now - asked_at <= QUESTION_LIFETIME


def open_question(tracker: Tracker) -> str:
    """The question waiting for an answer, or "" (expired ones are closed on every message)."""
    return str(tracker.get_slot("pending") or "")


def numbered(question: str, kind: str) -> int | None:
    """The number in a question of `kind`: numbered("cancel:12", "cancel") == 12, else None."""
    prefix = f"{kind}:"
    if question.startswith(prefix) and question[len(prefix):].isdigit():
        return int(question[len(prefix):])
    return None
