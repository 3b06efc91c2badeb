"""Course CSV import (all or nothing, every bad row reported) and export, which round-trip:
a row with an id updates that course, a row without one adds a course, `delete` = yes removes it."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from typing import TextIO

from pydantic import ValidationError
from sqlalchemy.orm import Session

from bot.admin.validation import CourseRow, InputError, describe
from bot.db.models import Course
from bot.nlp.languages import LANGUAGES
from bot.nlp.vocabulary import Vocabulary
from bot.repositories.courses import add_course, delete_course, get_course, list_courses, update_course

FIXED = ["trade", "city", "instruction_language", "start_date", "duration_weeks", "seats_left", "cost",
         "contact", "requirements"]
COLUMNS = (["id"] + FIXED + [f"title_{tag}" for tag in LANGUAGES] + [f"description_{tag}" for tag in LANGUAGES]
           + ["delete"])


@dataclass(frozen=True)
class ImportCounts:
    """What an import did."""

    added: int
    updated: int
    deleted: int


@dataclass(frozen=True)
class Line:
    """One valid line of the file: a course to add (no id) or update, or the id of one to delete."""

    number: int
    course_id: int | None
    row: CourseRow | None


def _delete_flag(line: int, value: str) -> bool:
    text = value.lower()
    if text not in ("", "yes", "no"):
        raise InputError(f"line {line}: field 'delete': write yes to delete the course, or leave it empty")
    return text == "yes"


def parse_rows(source: TextIO, vocabulary: Vocabulary) -> list[Line]:
    """Every line validated; raises InputError listing every bad line and field."""
    reader = csv.DictReader(source)
    header = reader.fieldnames or []
    missing = [column for column in ("trade", "city", "title_en", "start_date") if column not in header]
    if missing:
        raise InputError(f"line 1: missing column(s): {', '.join(missing)}")
    lines, problems = [], []
    for number, raw in enumerate(reader, start=2):
        raw = {key: (value or "").strip() for key, value in raw.items() if key}
        try:
            deleting = _delete_flag(number, raw.get("delete", ""))
        except InputError as error:
            problems.append(str(error))
            continue
        if deleting:
            if raw.get("id", "").isdigit():
                lines.append(Line(number, int(raw["id"]), None))
            else:
                problems.append(f"line {number}: field 'id': give the id of the course to delete")
            continue
        try:
            row = CourseRow.model_validate(
                {
                    **{key: raw.get(key, "") for key in FIXED},
                    "id": raw.get("id", ""),
                    "title_en": raw.get("title_en", ""),
                    "titles": {tag: raw[f"title_{tag}"] for tag in LANGUAGES if raw.get(f"title_{tag}")},
                    "descriptions": {
                        tag: raw[f"description_{tag}"] for tag in LANGUAGES if raw.get(f"description_{tag}")
                    },
                }
            )
        except ValidationError as error:
            problems += describe(error, number)
            continue
        trade = vocabulary.canonical("trade", row.trade)
        city = vocabulary.canonical("city", row.city)
        if trade is None:
            problems.append(f"line {number}: field 'trade': unknown trade {row.trade!r}")
        if city is None:
            problems.append(f"line {number}: field 'city': unknown city {row.city!r}")
        if not row.title_en:
            problems.append(f"line {number}: field 'title_en': must not be empty")
        if trade and city and row.title_en:
            lines.append(Line(number, row.id, row.model_copy(update={"trade": trade, "city": city})))
    if problems:
        raise InputError("nothing imported:\n" + "\n".join(problems))
    return lines


def import_courses(session: Session, lines: list[Line], actor: str) -> ImportCounts:
    """Add, update or delete (the caller's transaction makes it all or nothing); an id that names
    no course, or one named twice, is an error for the whole file."""
    problems, seen = [], set()
    for line in lines:
        if line.course_id is None:
            continue
        if line.course_id in seen:
            problems.append(f"line {line.number}: field 'id': course {line.course_id} is on an earlier line too")
        elif session.get(Course, line.course_id) is None:
            problems.append(f"line {line.number}: field 'id': no course with id {line.course_id}")
        seen.add(line.course_id)
    if problems:
        raise InputError("nothing imported:\n" + "\n".join(problems))
    added = updated = deleted = 0
    for line in lines:
        if line.row is None:
            delete_course(session, get_course(session, line.course_id or 0), actor)
            deleted += 1
            continue
        row = line.row
        fields = dict(
            trade=row.trade, city=row.city, titles={"en": row.title_en, **row.titles},
            descriptions=row.descriptions, instruction_language=row.instruction_language,
            start_date=row.start_date, duration_weeks=row.duration_weeks, seats_left=row.seats_left,
            cost=row.cost, contact=row.contact, requirements=row.requirements,
        )
        if line.course_id is None:
            add_course(session, **fields)
            added += 1
        else:
            update_course(session, get_course(session, line.course_id), **fields)
            updated += 1
    return ImportCounts(added, updated, deleted)


def export_courses(session: Session, target: TextIO) -> int:
    """Write every course as CSV in the import format (with its id); return the count."""
    writer = csv.DictWriter(target, fieldnames=COLUMNS)
    writer.writeheader()
    courses = list_courses(session)
    for course in courses:
        row: dict[str, object] = {column: getattr(course, column) for column in ["id", *FIXED]}
        row.update({f"title_{tag}": title for tag, title in course.titles.items()})
        row.update({f"description_{tag}": text for tag, text in course.descriptions.items()})
        writer.writerow(row)
    return len(courses)
