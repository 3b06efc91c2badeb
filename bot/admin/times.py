"""Times as caseworkers read them: local time with its zone, never bare UTC."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

#: The zone of a caseworker's country (for records of people whose own zone is unknown).
COUNTRY_ZONES = {"UZ": "Asia/Tashkent", "KZ": "Asia/Almaty", "KG": "Asia/Bishkek", "TJ": "Asia/Dushanbe"}


def local(moment: datetime | None, zone: str) -> str:
    """`05.12.2026 09:00 Asia/Tashkent` (the format caseworkers type), or `-`."""
    if moment is None:
        return "-"
    return f"{moment.astimezone(ZoneInfo(zone)):%d.%m.%Y %H:%M} {zone}"


def country_zone(country: str) -> str:
    """The time zone of a caseworker's country (UTC for one we do not know)."""
    return COUNTRY_ZONES.get(country.upper(), "UTC")
