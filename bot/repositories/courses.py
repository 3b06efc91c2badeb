"""Vocational courses and people's interest in them."""

from __future__ import annotations

from datetime import date

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from bot.db.models import Course, CourseInterest
from bot.repositories import audit
from bot.repositories.people import NotFound
from bot.scheduler.events import on_event


def search(session: Session, trade: str | None, city: str | None, today: date, limit: int = 3) -> list[Course]:
    """The best few courses for a canonical trade and/or city: open seats first, soonest start."""
    query = select(Course).where(Course.start_date >= today)
    if trade:
        query = query.where(Course.trade == trade)
    if city:
        query = query.where(Course.city == city)
    query = query.order_by(case((Course.seats_left > 0, 0), else_=1), Course.start_date, Course.id).limit(limit)
    return list(session.scalars(query))


def get_course(session: Session, course_id: int) -> Course:
    """The course with `course_id`, or NotFound."""
    course = session.get(Course, course_id)
    if course is None:
        raise NotFound(f"no course with id {course_id}")
    return course


def list_courses(session: Session) -> list[Course]:
    """All courses by city, trade and start."""
    return list(session.scalars(select(Course).order_by(Course.city, Course.trade, Course.start_date)))


def add_course(session: Session, **fields: object) -> Course:
    """Add a course (validated by the caller)."""
    course = Course(**fields)
    session.add(course)
    session.flush()
    return course


def update_course(session: Session, course: Course, **fields: object) -> Course:
    """Change a course's fields (validated by the caller)."""
    for name, value in fields.items():
        setattr(course, name, value)
    session.flush()
    return course


def delete_course(session: Session, course: Course, actor: str) -> None:
    """Remove a course; interests in it keep their trade and city; audited."""
    session.execute(update(CourseInterest).where(CourseInterest.course_id == course.id).values(course_id=None))
    audit.record(session, actor, "course_deleted", "course", course.id, None)
    session.delete(course)
    session.flush()


def register_interest(
    session: Session, person_id: int, course: Course | None, trade: str | None, city: str | None
) -> CourseInterest:
    """Record that a person is interested (in one course, or in a trade/city) for their caseworker."""
    interest = CourseInterest(
        person_id=person_id,
        course_id=course.id if course else None,
        trade=course.trade if course else trade,
        city=course.city if course else city,
    )
    session.add(interest)
    session.flush()
    audit.record(session, f"person:{person_id}", "course_interest", "course_interest", interest.id, person_id)
    on_event(session, "course_interest_registered", person_id, f"course_interest:{interest.id}")
    return interest


def interests(session: Session) -> list[CourseInterest]:
    """All recorded interests, newest first."""
    return list(session.scalars(select(CourseInterest).order_by(CourseInterest.id.desc())))
