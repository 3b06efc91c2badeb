"""The person page and what a caseworker changes there: link codes, linked channels, appointments
and documents, with the person's planned and past flow messages and their flow answers.

Every page and change is limited to the viewer's caseload (anyone else's id gives 404 and an audit
entry) and every change is audited with the caseworker as its actor. Bad input re-renders the page
with a message (400); a form older than the record it changes (another caseworker, a double
submit) changes nothing (409).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import segno
from babel.dates import format_skeleton
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot import runtime
from bot.admin.validation import AppointmentInput, InputError, parse_local_time
from bot.console import i18n
from bot.console.access import Can
from bot.db.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Caseworker,
    ChannelIdentity,
    OutboxMessage,
    Person,
    utcnow,
)
from bot.flows.rendering import render_step
from bot.repositories import appointments, audit, caseload, documents, identities, outbox, people, support
from bot.scheduler.eligibility import choose_target
from bot.web.limits import decimal

if TYPE_CHECKING:
    from bot.console.app import Console, Visit

#: Past flow messages shown (newest first).
PAST_MESSAGES = 50
#: Appointments further ahead than this are a typing mistake (and beyond what flows plan for).
FURTHEST_AHEAD = timedelta(days=2 * 366)
KINDS = {kind.value: kind for kind in AppointmentKind}
#: What the status buttons may set.
STATUS_CHOICES = {"cancelled": AppointmentStatus.CANCELLED, "attended": AppointmentStatus.ATTENDED,
                  "missed": AppointmentStatus.MISSED}
#: The confirmations shown after a change (anything else in `?done=` is ignored).
DONE = frozenset({"appointment_added", "appointment_moved", "appointment_cancelled", "appointment_attended",
                  "appointment_missed", "document_saved", "channel_unlinked"})
MAX_PLACE, MAX_OFFICE, MAX_NOTE = 200, 200, 1000
#: Telegram's deep links carry this command: the person's app sends `/start <code>`.
DEEP_LINK = "https://t.me/{bot}?start={code}"
#: A Telegram bot's username (anything else in the setting is a mistake, not a link to show).
BOT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")


class Refused(Exception):
    """A change not made: `problem` names the message shown; 400 bad input, 409 a stale form, 404
    something that is not this person's."""

    def __init__(self, problem: str, status: int = 400) -> None:
        super().__init__(problem)
        self.problem = problem
        self.status = status


@dataclass(frozen=True)
class Moment:
    """A time as the person lives it (their zone named) and, if the clock reads differently there,
    as the caseworker does."""

    theirs: str
    yours: str  # "" when both clocks read the same
    iso: str


@dataclass(frozen=True)
class FlowMessage:
    """One outbox row as the caseworker reads it: when, in which language, what it says."""

    row: OutboxMessage
    due: Moment | None  # the time it was planned for
    goes: Moment | None  # planned: when it goes out (later than `due` once deferred); None: waits for a channel
    sent: Moment | None
    language: str
    text: str  # "" for a cancelled message (what it would have said no longer applies)


def exact(moment: datetime, zone: str, language: str) -> str:
    """`Sat, Dec 5, 2026, 09:00 (Asia/Tashkent, UTC+5)`: the day, the 24-hour time and the zone."""
    local = moment.astimezone(ZoneInfo(zone))
    offset = local.utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign, hours, rest = "+" if minutes >= 0 else "-", abs(minutes) // 60, abs(minutes) % 60
    utc = f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")
    day = format_skeleton("yMMMEd", local, locale=i18n.BABEL_LOCALES[i18n.supported(language)])
    return f"{day}, {local:%H:%M} ({zone}, {utc})"


def moment(at: datetime, person: Person, viewer: Caseworker) -> Moment:
    """`at` in the person's time and, if it differs, the caseworker's."""
    theirs = at.astimezone(ZoneInfo(person.time_zone))
    mine = at.astimezone(ZoneInfo(viewer.time_zone))
    same = theirs.replace(tzinfo=None) == mine.replace(tzinfo=None)
    return Moment(exact(at, person.time_zone, viewer.locale),
                  "" if same else exact(at, viewer.time_zone, viewer.locale), at.isoformat())


def flow_messages(session: Session, person: Person, viewer: Caseworker,
                  default_language: str) -> tuple[list[FlowMessage], list[FlowMessage]]:
    """The person's planned flow messages (soonest first) and past ones (newest first), each with
    its send time and its text as the dispatcher would send it (the text sent, once it was)."""
    target = choose_target(session, person, {"telegram", "sms"}, default_language).target
    language = target.language if target else person.language or default_language
    flows, catalog = runtime.flow_library().current(), runtime.catalog()

    def text(row: OutboxMessage) -> str:
        if row.rendered:
            return "\n".join(str(part.get("text") or "") for part in row.rendered)
        flow = flows.get(row.flow)
        step = flow.step(row.step) if flow else None
        if step is None or row.status == "cancelled":
            return ""
        return render_step(session, catalog, step, person, language, row.trigger_key, row.id).text

    def when(at: datetime | None) -> Moment | None:
        return moment(at, person, viewer) if at else None

    upcoming, past = [], []
    for row in outbox.list_outbox(session, person.id):
        if row.status in outbox.UPCOMING:
            goes = None if row.note == outbox.WAITING_FOR_CHANNEL else when(row.not_before or row.due_at)
            upcoming.append(FlowMessage(row, when(row.due_at), goes, None, language, text(row)))
        else:
            past.append(row)
    upcoming.sort(key=lambda message: (message.row.not_before or message.row.due_at or utcnow(), message.row.id))
    past.sort(key=lambda row: (row.sent_at or row.due_at or row.updated_at, row.id), reverse=True)
    done = [FlowMessage(row, when(row.due_at), None, when(row.sent_at), language, text(row))
            for row in past[:PAST_MESSAGES]]
    return upcoming, done


def qr_svg(link: str) -> str:
    """The link as a QR code, inline SVG (made here: no image file, no outside service)."""
    return str(segno.make(link, error="m").svg_inline(scale=5, dark="#000", light="#fff"))


def routes(console: Console) -> list[Route]:
    """/people/{id} and its changes: link code, unlink, appointments, documents."""

    def home(visit: Visit, person_id: int, done: str = "") -> Response:
        target = f"{console.prefix(visit.request)}/people/{person_id}"
        return RedirectResponse(target + (f"?done={done}" if done else ""), status_code=303)

    def field(visit: Visit, name: str, limit: int = 100) -> str:
        value = str((visit.form or FormData()).get(name) or "").strip()
        if len(value) > limit:
            raise Refused("too_long")
        return value

    def within(session: Session, visit: Visit) -> Person | None:
        """The person of the URL if the viewer may see them, else None, audited as a denied guess."""
        person_id = decimal(str(visit.request.path_params["person_id"]), 12)
        person = caseload.visible_person(session, visit.account, person_id) if person_id else None
        if person is None:
            audit.record(session, visit.actor, "person_denied", "person", person_id, None)
        return person

    def word(visit: Visit) -> Callable[[str, str], str]:
        catalog = runtime.catalog()
        return lambda group, key: catalog.word(i18n.supported(visit.account.locale), group, key, fallback=key)

    def context(session: Session, visit: Visit, person: Person) -> dict[str, Any]:
        family = people.family_link(session, person.id)
        upcoming, past = flow_messages(session, person, visit.account, console.settings.default_language)
        return {
            "person": person,
            "channels": identities.linked_identities(session, person.id),
            "family": family,
            "returnee": people.get_person(session, family.returnee_id) if family else None,
            "relatives": people.relatives(session, person.id),
            "appointments": [(a, moment(a.starts_at, person, visit.account))
                             for a in appointments.list_appointments(session, person.id)],
            "documents": documents.list_documents(session, person.id),
            "referrals": support.referrals_of(session, person.id),
            "handoffs": support.handoffs_of(session, person.id),
            "upcoming": upcoming,
            "past": past,
            "answers": [(answer, moment(answer.created_at, person, visit.account))
                        for answer in outbox.list_answers(session, person_id=person.id)],
            "kinds": list(KINDS),
            "document_types": documents.choices("document_type"),
            "document_statuses": documents.choices("document_status"),
            "active": appointments.ACTIVE,
            "now": utcnow(),
            "word": word(visit),
        }

    def show(visit: Visit, status_code: int = 200, problem: str = "", values: dict[str, str] | None = None
             ) -> Response:
        with console.database.transaction() as session:
            person = within(session, visit)
            if person is None:
                return console.error(visit, 404)
            audit.record(session, visit.actor, "person_viewed", "person", person.id, person.id)
            page = context(session, visit, person)
        done = visit.request.query_params.get("done", "")
        return console.render(visit, "person.html", status_code, problem=problem, values=values or {},
                              done=done if done in DONE else "", **page)

    def change(act: Callable[[Session, Visit, Person], str]) -> Callable[[Visit], Response]:
        """A POST that changes the person's record: within the caseload, then back to the page with
        a confirmation, or the page again with what was wrong (nothing changed)."""

        def handler(visit: Visit) -> Response:
            try:
                with console.database.transaction() as session:
                    person = within(session, visit)
                    if person is None:
                        return console.error(visit, 404)
                    person_id, done = person.id, act(session, visit, person)
            except Refused as refused:
                if refused.status == 404:
                    return console.error(visit, 404)
                values = {key: str(value) for key, value in (visit.form or {}).items() if key != "csrf"}
                return show(visit, refused.status, refused.problem, values)
            return home(visit, person_id, done)

        return handler

    def link_code(visit: Visit) -> Response:
        with console.database.transaction() as session:
            person = within(session, visit)
            if person is None:
                return console.error(visit, 404)
            now = utcnow()
            lifetime = timedelta(hours=console.settings.link_code_hours)
            code = identities.issue_link_code(session, console.settings.hashing_key(), person, now, lifetime,
                                              visit.actor)
            expires = moment(now + lifetime, person, visit.account)
        bot_name = console.settings.telegram_bot_username.strip().lstrip("@")
        link = DEEP_LINK.format(bot=bot_name, code=code) if BOT_NAME.fullmatch(bot_name) else ""
        return console.render(visit, "link_code.html", person=person, code=code, link=link,
                              qr=qr_svg(link) if link else "", expires=expires)

    def linked_identity(session: Session, visit: Visit, person: Person) -> ChannelIdentity:
        """The account of the URL, only if it is (or was, 409) linked to this person."""
        number = decimal(str(visit.request.path_params["identity_id"]), 12)
        try:
            identity = identities.identity_by_id(session, number) if number else None
        except LookupError:
            identity = None
        if identity is None or identity.person_id not in (None, person.id):
            raise Refused("not_found", 404)
        if identity.person_id is None:
            raise Refused("channel_gone", 409)
        return identity

    def confirm_unlink(visit: Visit) -> Response:
        try:
            with console.database.transaction() as session:
                person = within(session, visit)
                if person is None:
                    return console.error(visit, 404)
                identity = linked_identity(session, visit, person)
        except Refused as refused:
            return console.error(visit, 404) if refused.status == 404 else show(visit, refused.status, refused.problem)
        return console.render(visit, "unlink.html", person=person, identity=identity)

    def unlink(session: Session, visit: Visit, person: Person) -> str:
        identities.unlink(session, linked_identity(session, visit, person), visit.actor)
        return "channel_unlinked"

    def starts_at(person: Person, date: str, time: str, kind: AppointmentKind, place: str) -> datetime:
        """The appointment's start from the person's local date and time (validated as the CLI does)."""
        if not date or not time:
            raise Refused("time_missing")
        try:
            local = parse_local_time(f"{date} {time}")
        except ValueError:
            raise Refused("time_unreadable") from None
        data = AppointmentInput(person_id=person.id, kind=kind, local_time=local, time_zone=person.time_zone,
                                place=place)
        now = utcnow()
        try:
            start = data.starts_at(now)
        except InputError:
            raise Refused("time_past") from None
        if start - now > FURTHEST_AHEAD:
            raise Refused("time_far")
        return start

    def add_appointment(session: Session, visit: Visit, person: Person) -> str:
        kind, place = KINDS.get(field(visit, "kind")), field(visit, "place", MAX_PLACE)
        if kind is None:
            raise Refused("kind_unknown")
        if not place:
            raise Refused("place_missing")
        start = starts_at(person, field(visit, "date"), field(visit, "time"), kind, place)
        if any(a.kind is kind and a.starts_at == start and a.place == place and a.status in appointments.ACTIVE
               for a in appointments.list_appointments(session, person.id)):
            raise Refused("duplicate", 409)
        appointments.add_appointment(session, visit.actor, person_id=person.id, kind=kind,
                                     starts_at=start, place=place, caseworker_id=person.caseworker_id,
                                     family_session=field(visit, "family_session") == "yes")
        return "appointment_added"

    def appointment_of(session: Session, visit: Visit, person: Person) -> Appointment:
        """The appointment of the URL, only if it is this person's and the form saw it as it is now."""
        number = decimal(str(visit.request.path_params["appointment_id"]), 12)
        appointment = session.get(Appointment, number) if number else None
        if appointment is None or appointment.person_id != person.id:
            raise Refused("not_found", 404)
        if field(visit, "updated") != appointment.updated_at.isoformat():
            raise Refused("stale", 409)
        return appointment

    def move_appointment(session: Session, visit: Visit, person: Person) -> str:
        appointment = appointment_of(session, visit, person)
        start = starts_at(person, field(visit, "date"), field(visit, "time"), appointment.kind, appointment.place)
        try:
            appointments.move(session, appointment, start, visit.actor)
        except ValueError:  # cancelled or attended: nothing was changed
            raise Refused("appointment_closed") from None
        return "appointment_moved"

    def appointment_status(session: Session, visit: Visit, person: Person) -> str:
        appointment = appointment_of(session, visit, person)
        wanted = STATUS_CHOICES.get(field(visit, "status"))
        if wanted is None:
            raise Refused("status_unknown")
        if wanted is AppointmentStatus.CANCELLED and appointment.status not in appointments.ACTIVE:
            raise Refused("appointment_closed")
        if wanted is not AppointmentStatus.CANCELLED:
            if appointment.status in (AppointmentStatus.CANCELLED, wanted):
                raise Refused("appointment_closed")
            if appointment.starts_at > utcnow():
                raise Refused("not_yet")
        appointments.set_status(session, appointment, wanted, visit.actor)
        return f"appointment_{wanted.value}"

    def set_document(session: Session, visit: Visit, person: Person) -> str:
        type_, status = field(visit, "type"), field(visit, "status")
        office, note = field(visit, "office", MAX_OFFICE), field(visit, "note", MAX_NOTE)
        if type_ not in documents.choices("document_type"):
            raise Refused("document_type_unknown")
        if status not in documents.choices("document_status"):
            raise Refused("document_status_unknown")
        if not office:
            raise Refused("office_missing")
        existing = next((d for d in documents.list_documents(session, person.id) if d.type == type_), None)
        seen = field(visit, "updated")
        if existing is not None and not seen:
            raise Refused("document_exists", 409)
        if seen != (existing.updated_at.isoformat() if existing else ""):
            raise Refused("stale", 409)
        documents.set_document_status(session, person.id, type_, status, office, note, visit.actor)
        return "document_saved"

    read, edit = Can.READ_PEOPLE, Can.EDIT_PEOPLE
    base = "/people/{person_id}"
    return [
        Route(base, console.page(read, show)),
        Route(f"{base}/link-code", console.page(edit, link_code), methods=["POST"]),
        Route(f"{base}/channels/{{identity_id}}/unlink", console.page(edit, confirm_unlink)),
        Route(f"{base}/channels/{{identity_id}}/unlink", console.page(edit, change(unlink)), methods=["POST"]),
        Route(f"{base}/appointments", console.page(edit, change(add_appointment)), methods=["POST"]),
        Route(f"{base}/appointments/{{appointment_id}}/move", console.page(edit, change(move_appointment)),
              methods=["POST"]),
        Route(f"{base}/appointments/{{appointment_id}}/status", console.page(edit, change(appointment_status)),
              methods=["POST"]),
        Route(f"{base}/documents", console.page(edit, change(set_document)), methods=["POST"]),
    ]

