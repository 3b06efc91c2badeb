"""Course CSV import (all or nothing, every bad row reported) and export."""

from __future__ import annotations

import csv
from typing import TextIO

from pydantic import ValidationError
from sqlalchemy.orm import Session

from bot.admin.validation import CourseRow, InputError, describe
from bot.db.models import Course
from bot.nlp.languages import LANGUAGES
from bot.nlp.vocabulary import Vocabulary
from bot.repositories.courses import add_course, list_courses

FIXED = ["trade", "city", "instruction_language", "start_date", "duration_weeks", "seats_left", "cost",
         "contact", "requirements"]
COLUMNS = FIXED + [f"title_{tag}" for tag in LANGUAGES] + [f"description_{tag}" for tag in LANGUAGES]


def parse_rows(source: TextIO, vocabulary: Vocabulary) -> list[CourseRow]:
    """Every row validated; raises InputError listing every bad row and field."""
    reader = csv.DictReader(source)
    header = reader.fieldnames or []
    missing = [column for column in ("trade", "city", "title_en", "start_date") if column not in header]
    if missing:
        raise InputError(f"line 1: missing column(s): {', '.join(missing)}")
    rows, problems = [], []
    for line, raw in enumerate(reader, start=2):
        raw = {key: (value or "").strip() for key, value in raw.items() if key}
        try:
            row = CourseRow.model_validate(
                {
                    **{key: raw.get(key, "") for key in FIXED},
                    "title_en": raw.get("title_en", ""),
                    "titles": {tag: raw[f"title_{tag}"] for tag in LANGUAGES if raw.get(f"title_{tag}")},
                    "descriptions": {
                        tag: raw[f"description_{tag}"] for tag in LANGUAGES if raw.get(f"description_{tag}")
                    },
                }
            )
        except ValidationError as error:
            problems += describe(error, line)
            continue
        trade = vocabulary.canonical("trade", row.trade)
        city = vocabulary.canonical("city", row.city)
        if trade is None:
            problems.append(f"line {line}: field 'trade': unknown trade {row.trade!r}")
        if city is None:
            problems.append(f"line {line}: field 'city': unknown city {row.city!r}")
        if not row.title_en:
            problems.append(f"line {line}: field 'title_en': must not be empty")
        if trade and city and row.title_en:
            rows.append(row.model_copy(update={"trade": trade, "city": city}))
    if problems:
        raise InputError("nothing imported:\n" + "\n".join(problems))
    return rows


def import_courses(session: Session, rows: list[CourseRow]) -> list[Course]:
    """Add the validated rows (the caller's transaction makes it all or nothing)."""
    return [
        add_course(
            session,
            trade=row.trade, city=row.city, titles={"en": row.title_en, **row.titles},
            descriptions=row.descriptions, instruction_language=row.instruction_language,
            start_date=row.start_date, duration_weeks=row.duration_weeks, seats_left=row.seats_left,
            cost=row.cost, contact=row.contact, requirements=row.requirements,
        )
        for row in rows
    ]


def export_courses(session: Session, target: TextIO) -> int:
    """Write every course as CSV in the import format; return the count."""
    writer = csv.DictWriter(target, fieldnames=COLUMNS)
    writer.writeheader()
    courses = list_courses(session)
    for course in courses:
        row: dict[str, object] = {column: getattr(course, column) for column in FIXED}
        row.update({f"title_{tag}": title for tag, title in course.titles.items()})
        row.update({f"description_{tag}": text for tag, text in course.descriptions.items()})
        writer.writerow(row)
    return len(courses)
