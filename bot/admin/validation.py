"""Validation of what caseworkers type or import: clear messages that name the field (and line)."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ValidationError, field_validator
from pydantic_core import ErrorDetails

from bot.db.models import AppointmentKind, PersonKind
from bot.nlp.languages import LANGUAGES

E164 = re.compile(r"^\+[1-9]\d{7,14}$")
COUNTRIES = ("UZ", "KZ", "KG", "TJ")


class InputError(ValueError):
    """Bad input; the message says which field (and which line) and why."""


#: The validation library's wording replaced by plain words, by its error type.
PLAIN = {
    "int_parsing": "write a whole number, e.g. 12",
    "int_from_float": "write a whole number, e.g. 12",
    "int_type": "write a whole number, e.g. 12",
    "missing": "this field is required",
    "bool_parsing": "write yes or no",
}
DATE_FORMATS = ("%d.%m.%Y", "%Y-%m-%d", "%d/%m/%Y")
TIME_FORMATS = tuple(f"{day} {clock}" for day in DATE_FORMATS for clock in ("%H:%M", "%H.%M")) + ("%Y-%m-%dT%H:%M",)


def _plain(problem: ErrorDetails) -> str:
    return PLAIN.get(problem["type"], problem["msg"].removeprefix("Value error, "))


def describe(error: ValidationError, line: int | None = None) -> list[str]:
    """One message per problem in plain words: `line 3: field 'seats_left': write a whole number`."""
    where = f"line {line}: " if line is not None else ""
    return [
        f"{where}field '{'.'.join(str(part) for part in problem['loc']) or '?'}': {_plain(problem)}"
        for problem in error.errors()
    ]


def parse_date(value: str) -> date:
    """A date as caseworkers write it: 05.12.2026, 2026-12-05 or 05/12/2026."""
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(value.strip(), pattern).date()
        except ValueError:
            continue
    raise ValueError(f"{value!r} is not a date; write it like 05.12.2026 or 2026-12-05")


def parse_local_time(value: str) -> datetime:
    """A local time as caseworkers write it: 05.12.2026 09:00, 2026-12-05 09:00 or 2026-12-05T09:00."""
    compact = " ".join(value.split())
    for pattern in TIME_FORMATS:
        try:
            return datetime.strptime(compact, pattern)
        except ValueError:
            continue
    raise ValueError(f"{value!r} is not a time; write it like 05.12.2026 09:00 or 2026-12-05 09:00")


def check_language(value: str) -> str:
    if value not in LANGUAGES:
        raise ValueError(f"unknown language tag {value!r}; use one of {', '.join(LANGUAGES)}")
    return value


def check_time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Tashkent)") from None
    return value


class PersonInput(BaseModel):
    kind: PersonKind
    name: str
    language: str
    time_zone: str
    country: str
    city: str
    phone: str | None = None
    telegram_user_id: int | None = None
    caseworker_id: int | None = None
    consent_data: bool = False

    _language = field_validator("language")(check_language)
    _time_zone = field_validator("time_zone")(check_time_zone)

    @field_validator("name", "city")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        if value.upper() not in COUNTRIES:
            raise ValueError(f"unknown country {value!r}; use one of {', '.join(COUNTRIES)}")
        return value.upper()

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        compact = re.sub(r"[\s()-]", "", value)
        if not E164.match(compact):
            raise ValueError(f"{value!r} is not a phone number in E.164 form (e.g. +998901234567)")
        return compact


class AppointmentInput(BaseModel):
    person_id: int
    kind: AppointmentKind
    local_time: datetime
    time_zone: str
    place: str
    caseworker_id: int | None = None
    family_session: bool = False

    def starts_at(self, now: datetime) -> datetime:
        """The start (aware, in the person's zone); refuses a time in the past."""
        local = self.local_time.replace(tzinfo=ZoneInfo(self.time_zone))
        if local <= now:
            raise InputError(f"field 'at': {self.local_time:%d.%m.%Y %H:%M} ({self.time_zone}) is in the past")
        return local


class CourseRow(BaseModel):
    id: int | None = None
    trade: str
    city: str
    title_en: str
    instruction_language: str
    start_date: date
    duration_weeks: int
    seats_left: int
    cost: int
    contact: str
    requirements: str = ""
    titles: dict[str, str] = {}
    descriptions: dict[str, str] = {}

    _language = field_validator("instruction_language")(check_language)

    @field_validator("id", mode="before")
    @classmethod
    def _blank_id(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("start_date", mode="before")
    @classmethod
    def _start_date(cls, value: object) -> object:
        return parse_date(value) if isinstance(value, str) else value

    @field_validator("duration_weeks", "seats_left", "cost")
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must not be negative")
        return value
