"""Buttons as numbered options, and a numbered answer back to the button's payload."""

from __future__ import annotations

from typing import Any


def numbered_options(buttons: list[dict[str, Any]]) -> str:
    """SMS style: one line per button, `1 Confirm`, `2 Reschedule` …"""
    return "\n".join(f"{number} {button['title']}" for number, button in enumerate(buttons, 1))


def chosen_payload(answer: str, buttons: list[dict[str, Any]]) -> str | None:
    """The payload of the button numbered `answer` ("1", " 2 "), or None if it is not one."""
    answer = answer.strip()
    if not answer.isdigit():
        return None
    number = int(answer)
    if 1 <= number <= len(buttons):
        return str(buttons[number - 1]["payload"])
    return None
