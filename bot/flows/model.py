"""The flow file format, validated with clear messages (the README in flows/ describes it)."""

from __future__ import annotations

import re
import string
from datetime import time, timedelta

from pydantic import BaseModel, Field, PrivateAttr, field_validator, model_validator

from bot.nlp.languages import LANGUAGES

TRIGGERS = (
    "appointment_scheduled", "appointment_changed", "appointment_cancelled", "referral_created",
    "course_interest_registered", "document_status_changed", "person_enrolled", "monthly",
)
CONDITIONS = ("appointment_scheduled_or_confirmed", "appointment_not_confirmed", "appointment_missed", "document_ready")
BUTTONS = ("confirm", "reschedule", "cancel", "yes", "no", "rating")
PLACEHOLDERS = ("kind", "date", "time", "place", "document")
#: What each trigger can fill in: a placeholder it does not provide would be sent empty.
APPOINTMENT_VALUES = ("kind", "date", "time", "place")
TRIGGER_VALUES = {
    "appointment_scheduled": APPOINTMENT_VALUES, "appointment_changed": APPOINTMENT_VALUES,
    "appointment_cancelled": APPOINTMENT_VALUES, "document_status_changed": ("document",),
}
#: A language whose speakers may get another language's text instead, if a flow says so
#: (`fallback: {kk: ru}`): Russian for Kazakh, Kyrgyz and Tajik speakers, and nothing else.
ALLOWED_FALLBACKS = {"kk": "ru", "ky": "ru", "tg": "ru"}
#: Language names in the caseworkers' messages.
LANGUAGE_NAMES = {"en": "English", "ru": "Russian", "uz": "Uzbek (Latin)", "uz-Cyrl": "Uzbek (Cyrillic)",
                  "kk": "Kazakh", "ky": "Kyrgyz", "tg": "Tajik"}
#: How long after its time a message may still go out when the person had no linked channel.
DEFAULT_EXPIRY = timedelta(days=7)
Location = tuple[str | int, ...]
_OFFSET = re.compile(r"^\s*(-?\d+)\s*(minute|hour|day|week)s?\s*$")
_UNITS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1),
          "week": timedelta(weeks=1)}


def parse_offset(value: str) -> timedelta:
    """`-1 day`, `2 hours`, `30 minutes`, `1 week` as a timedelta."""
    match = _OFFSET.match(str(value))
    if not match:
        raise ValueError(f"offset {value!r}: write a number and minutes, hours, days or weeks, e.g. '-1 day'")
    return int(match.group(1)) * _UNITS[match.group(2)]


def parse_clock(value: str) -> time:
    """`10:00` as a time of day."""
    match = re.match(r"^([01]?\d|2[0-3]):([0-5]\d)$", str(value))
    if not match:
        raise ValueError(f"time {value!r}: write hours and minutes like 10:00")
    return time(int(match.group(1)), int(match.group(2)))


class QuietHours(BaseModel):
    """Local hours when nothing is sent (a message due then waits until they end)."""

    start: time = Field(default=time(21, 0), alias="from")
    end: time = Field(default=time(9, 0), alias="to")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock(cls, value: object) -> time:
        return value if isinstance(value, time) else parse_clock(str(value))


class Step(BaseModel):
    """One planned message of a flow."""

    id: str
    offset: timedelta
    at: time | None = None
    only_if: str | None = None
    if_late: str = "send"
    buttons: list[str] = []
    expires: timedelta = DEFAULT_EXPIRY
    message: dict[str, str]
    #: The flow's `fallback` (set by the flow): language → the language its speakers read instead.
    _fallback: dict[str, str] = PrivateAttr(default_factory=dict)

    @field_validator("offset", mode="before")
    @classmethod
    def _offset(cls, value: object) -> timedelta:
        return value if isinstance(value, timedelta) else parse_offset(str(value))

    @field_validator("expires", mode="before")
    @classmethod
    def _expires(cls, value: object) -> timedelta:
        delta = value if isinstance(value, timedelta) else parse_offset(str(value))
        if delta <= timedelta(0):
            raise ValueError("expires must be a positive time, e.g. '7 days'")
        return delta

    def text_language(self, language: str) -> str | None:
        """The language of the text a speaker of `language` gets: their own, the flow's fallback, or None."""
        if language in self.message:
            return language
        fallback = self._fallback.get(language)
        return fallback if fallback in self.message else None

    @field_validator("at", mode="before")
    @classmethod
    def _at(cls, value: object) -> time | None:
        return None if value is None or isinstance(value, time) else parse_clock(str(value))

    @field_validator("only_if")
    @classmethod
    def _condition(cls, value: str | None) -> str | None:
        if value is not None and value not in CONDITIONS:
            raise ValueError(f"unknown condition {value!r}; use one of {', '.join(CONDITIONS)}")
        return value

    @field_validator("if_late")
    @classmethod
    def _late(cls, value: str) -> str:
        if value not in ("send", "skip"):
            raise ValueError("if_late must be 'send' or 'skip'")
        return value

    @field_validator("buttons", mode="before")
    @classmethod
    def _yes_no(cls, value: object) -> object:
        """YAML reads a bare yes / no as true / false: take them as the buttons they were meant to be."""
        if isinstance(value, list):
            return [{True: "yes", False: "no"}.get(item, item) if isinstance(item, bool) else item for item in value]
        return value

    @field_validator("buttons")
    @classmethod
    def _buttons(cls, value: list[str]) -> list[str]:
        unknown = [button for button in value if button not in BUTTONS]
        if unknown:
            raise ValueError(f"unknown button(s) {', '.join(unknown)}; use {', '.join(BUTTONS)}")
        return value

    @field_validator("message")
    @classmethod
    def _message(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = [tag for tag in value if tag not in LANGUAGES]
        if unknown:
            raise ValueError(f"unknown language tag(s) {', '.join(unknown)}; use {', '.join(LANGUAGES)}")
        if not value:
            raise ValueError("a message needs at least one language")
        for tag, text in value.items():
            names = {name for _, name, _, _ in string.Formatter().parse(text) if name}
            if names - set(PLACEHOLDERS):
                raise ValueError(f"{tag}: unknown placeholder(s) {', '.join(sorted(names - set(PLACEHOLDERS)))}")
        return value


class Flow(BaseModel):
    """A flow: its trigger and steps."""

    name: str
    description: str = ""
    trigger: str
    quiet_hours: QuietHours = QuietHours()
    #: Languages whose speakers get another language's text when a step has none of their own.
    fallback: dict[str, str] = {}
    steps: list[Step]

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.match(r"^[a-z][a-z0-9_]*$", value):
            raise ValueError("a flow name is lower-case letters, digits and _")
        return value

    @field_validator("trigger")
    @classmethod
    def _trigger(cls, value: str) -> str:
        if value not in TRIGGERS:
            raise ValueError(f"unknown trigger {value!r}; use one of {', '.join(TRIGGERS)}")
        return value

    @field_validator("fallback")
    @classmethod
    def _fallback(cls, value: dict[str, str]) -> dict[str, str]:
        for tag, other in value.items():
            if ALLOWED_FALLBACKS.get(tag) != other:
                allowed = ", ".join(f"{k}: {v}" for k, v in ALLOWED_FALLBACKS.items())
                raise ValueError(f"{tag}: {other}: speakers of {tag} are not known to read {other}; allowed: {allowed}")
        return value

    @field_validator("steps")
    @classmethod
    def _some_steps(cls, value: list[Step]) -> list[Step]:
        if not value:
            raise ValueError("a flow needs at least one step")
        return value

    @model_validator(mode="after")
    def _share_fallback(self) -> Flow:
        for step in self.steps:
            step._fallback = dict(self.fallback)
        return self

    def step(self, step_id: str) -> Step | None:
        """The step with this id, if the flow (still) has it."""
        return next((s for s in self.steps if s.id == step_id), None)

    def problems(self) -> list[tuple[Location, str]]:
        """What would break a message, each with where it is in the file: a step id used twice,
        a placeholder the trigger does not fill, a language with no text and no fallback."""
        found: list[tuple[Location, str]] = []
        seen: set[str] = set()
        offered = TRIGGER_VALUES.get(self.trigger, ())
        for index, step in enumerate(self.steps):
            if step.id in seen:
                found.append((("steps", index, "id"), f"step id {step.id!r} is used twice; step ids must be unique"))
            seen.add(step.id)
            for tag, text in step.message.items():
                names = sorted({name for _, name, _, _ in string.Formatter().parse(text) if name} - set(offered))
                if names:
                    fills = ", ".join(f"{{{name}}}" for name in offered) or "nothing"
                    found.append((("steps", index, "message", tag),
                                  f"{', '.join(f'{{{name}}}' for name in names)}: a {self.trigger} flow fills "
                                  f"{fills}; the person would read an empty gap"))
            missing = [tag for tag in LANGUAGES if step.text_language(tag) is None]
            if missing:
                found.append((("steps", index, "message"), f"no text in {', '.join(missing)}: people who read "
                              f"{', '.join(LANGUAGE_NAMES[tag] for tag in missing)} would get a language they may "
                              f"not read (see `fallback` in flows/README.md)"))
        return found

    def fallbacks_used(self) -> dict[str, dict[str, str]]:
        """Per step, the languages whose speakers get the fallback language's text."""
        used = {step.id: {tag: self.fallback[tag] for tag in LANGUAGES
                          if tag not in step.message and step.text_language(tag) is not None}
                for step in self.steps}
        return {step_id: tags for step_id, tags in used.items() if tags}
