"""Vocational courses: search by trade and city in any language or script, details, interest."""

from __future__ import annotations

from rasa_sdk import Tracker
from sqlalchemy.orm import Session

from bot import runtime
from bot.actions.common import Caller, Outcome, Say, ServiceAction, entity
from bot.db.models import Course
from bot.repositories import courses
from bot.repositories.people import NotFound
from bot.responses.menus import payload

#: The longest unknown trade quoted back, so nobody can make the bot repeat a long text.
QUOTED = 24


def wanted(tracker: Tracker, name: str) -> str | None:
    """A canonical trade or city from the message's entity, or from any word in it."""
    vocabulary = runtime.vocabulary()
    found = entity(tracker, name)
    if found:
        return vocabulary.canonical(name, found) or (found if found in vocabulary.values(name) else None)
    return vocabulary.find(name, tracker.latest_message.get("text") or "")


def unknown_trade(tracker: Tracker) -> str | None:
    """A trade the message names that no course has, so the person is told rather than shown other
    trades: one the entity extractor found and the vocabulary does not know, or what a short request
    says besides its city ("pastry chef Tashkent"). Cut to `QUOTED` characters: it is quoted back."""
    if wanted(tracker, "trade") is not None:
        return None
    found = entity(tracker, "trade") or runtime.vocabulary().unknown_trade(tracker.latest_message.get("text") or "")
    return found[:QUOTED].strip() if found else None


def title(caller: Caller, course: Course) -> str:
    return course.titles.get(caller.language) or course.titles.get("en") or course.trade


def city_name(caller: Caller, course: Course) -> str:
    """The course's city as the person's language writes it."""
    return runtime.catalog().word(caller.language, "city", course.city, fallback=course.city)


def course_by_id(session: Session, tracker: Tracker) -> Course | None:
    course_id = entity(tracker, "course_id")
    if course_id is None or not course_id.isdigit():
        return None
    try:
        return courses.get_course(session, int(course_id))
    except NotFound:
        return None


class SearchCourses(ServiceAction):
    """`ask_courses`: the best few matches (short enough for SMS), or one course's details."""

    def name(self) -> str:
        return "action_courses"

    def work(self, session: Session, caller: Caller, tracker: Tracker) -> Outcome:
        course = course_by_id(session, tracker)
        if course is not None:
            cost = runtime.catalog().word(caller.language, "free") if course.cost == 0 else str(course.cost)
            values = {
                "title": title(caller, course), "city": city_name(caller, course),
                "start": course.start_date.strftime("%d.%m.%Y"), "weeks": str(course.duration_weeks),
                "seats": str(course.seats_left), "cost": cost, "contact": course.contact,
            }
            choices = [{"key": "register", "payload": payload("register_course_interest", course_id=course.id)}]
            return Outcome([Say("utter_course_details", values, choices)])
        trade, city = wanted(tracker, "trade"), wanted(tracker, "city")
        unknown = unknown_trade(tracker)
        if unknown is not None:
            in_city = courses.search(session, None, city, caller.now.date()) if city else []
            if in_city:
                return listing(caller, "utter_courses_trade_unknown_city", in_city, trade=unknown)
            return Outcome([Say("utter_courses_trade_unknown", {"trade": unknown})])
        if trade is None and city is None:
            return Outcome([Say("utter_courses")])
        found = courses.search(session, trade, city, caller.now.date())
        if found:
            return listing(caller, "utter_courses_found", found)
        if trade is not None and city is not None:  # the same trade elsewhere, other trades in that city
            nearby = courses.search(session, trade, None, caller.now.date(), limit=2)
            nearby += [c for c in courses.search(session, None, city, caller.now.date(), limit=2) if c not in nearby]
            if nearby:
                return listing(caller, "utter_courses_alternatives", nearby)
        return Outcome([Say("utter_courses_none")])


def listing(caller: Caller, reply: str, found: list[Course], **values: str) -> Outcome:
    """A numbered list of courses, each with a button for its details."""
    lines = "\n".join(
        f"{n}. {title(caller, c)} - {city_name(caller, c)}, {c.start_date:%d.%m}" for n, c in enumerate(found, 1)
    )
    choices = [{"title": f"{n}. {title(caller, c)}"[:40], "payload": payload("ask_courses", course_id=c.id)}
               for n, c in enumerate(found, 1)]
    return Outcome([Say(reply, {"courses": lines, **values}, choices)])


class RegisterCourseInterest(ServiceAction):
    """Records interest (in a course, or a trade/city) for the caseworker and confirms it."""

    def name(self) -> str:
        return "action_register_course_interest"

    def work(self, session: Session, caller: Caller, tracker: Tracker) -> Outcome:
        if caller.person is None:
            return Outcome([Say("utter_not_linked")])
        course = course_by_id(session, tracker)
        trade, city = wanted(tracker, "trade"), wanted(tracker, "city")
        if course is None and trade is None and city is None:
            return Outcome([Say("utter_courses")])
        courses.register_interest(session, caller.person.id, course, trade, city)
        return Outcome([Say("utter_course_interest")])
