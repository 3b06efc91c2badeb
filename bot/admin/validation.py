"""Validation of what caseworkers type or import: clear messages that name the field (and line)."""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ValidationError, field_validator

from bot.db.models import AppointmentKind, PersonKind
from bot.nlp.languages import LANGUAGES

E164 = re.compile(r"^\+[1-9]\d{7,14}$")
COUNTRIES = ("UZ", "KZ", "KG", "TJ")


class InputError(ValueError):
    """Bad input; the message says which field (and which line) and why."""


def describe(error: ValidationError, line: int | None = None) -> list[str]:
    """One message per problem: `line 3: field 'phone': …`."""
    where = f"line {line}: " if line is not None else ""
    return [
        f"{where}field '{'.'.join(str(part) for part in problem['loc']) or '?'}': {problem['msg']}"
        for problem in error.errors()
    ]


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
        """The start in UTC; refuses a time in the past."""
        local = self.local_time.replace(tzinfo=ZoneInfo(self.time_zone))
        if local <= now:
            raise InputError(f"field 'at': {self.local_time:%Y-%m-%d %H:%M} is in the past")
        return local


class CourseRow(BaseModel):
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

    @field_validator("duration_weeks", "seats_left", "cost")
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must not be negative")
        return value
