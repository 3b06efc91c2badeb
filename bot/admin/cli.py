"""`hamroh admin`: caseworkers manage people, appointments, courses, documents, referrals and handoffs.

Every command is one transaction: it is written whole or not at all.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.orm import Session

from bot.admin import courses_csv
from bot.admin.validation import AppointmentInput, InputError, PersonInput, check_language, describe
from bot.db.models import AppointmentKind, AppointmentStatus, HandoffStatus, PersonKind, ReferralStatus, utcnow
from bot.db.session import Database
from bot.nlp.vocabulary import Vocabulary
from bot.repositories import appointments, audit, documents, identities, outbox, people, support
from bot.repositories.people import NotFound
from bot.settings import REPO_ROOT, Settings, get_settings

ACTOR = "caseworker"
Handler = Callable[[Session, argparse.Namespace, Settings], None]


def _validated(model: type, **fields: object):  # type: ignore[no-untyped-def]
    try:
        return model(**{k: v for k, v in fields.items() if v is not None})
    except ValidationError as error:
        raise InputError("\n".join(describe(error))) from None


def people_add(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    data = _validated(
        PersonInput, kind=args.kind, name=args.name, language=args.language, time_zone=args.time_zone,
        country=args.country, city=args.city, phone=args.phone, telegram_user_id=args.telegram_id,
        caseworker_id=args.caseworker, consent_data=args.consent,
    )
    if data.caseworker_id is not None:
        people.get_caseworker(session, data.caseworker_id)
    person = people.add_person(session, **data.model_dump())
    if args.second_factor:
        person.second_factor_hash = identities.keyed_hash(settings.hashing_key(), args.second_factor)
    if args.returnee is not None:
        if person.kind is not PersonKind.FAMILY:
            raise InputError("field 'returnee': only a family member links to a returnee")
        people.link_family(session, person, people.get_person(session, args.returnee), args.relation)
    audit.record(session, ACTOR, "person_added", "person", person.id, person.id)
    print(f"added person {person.id}")


def people_list(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    for p in people.list_people(session):
        print(f"{p.id:>4}  {p.kind.value:<8}  {p.language:<7}  {p.city:<12}  {p.name}")


def people_show(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    p = people.get_person(session, args.id)
    link = people.family_link(session, p.id)
    print(f"person {p.id}: {p.name} ({p.kind.value}), language {p.language}, {p.city} {p.country}, {p.time_zone}")
    print(f"  phone {p.phone or '-'}, telegram {'linked' if p.telegram_user_id else '-'}, "
          f"second factor {'set' if p.second_factor_hash else 'not set'}, consent {p.consent_data}, "
          f"opted out {p.opted_out}, caseworker {p.caseworker_id or '-'}")
    if link:
        print(f"  family of person {link.returnee_id} ({link.relation}); shares family appointments "
              f"{link.share_family_appointments}, general information {link.share_general_information}")


def people_edit(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    p = people.get_person(session, args.id)
    current = PersonInput.model_validate(p, from_attributes=True).model_dump()
    changes = {"language": args.language, "time_zone": args.time_zone, "city": args.city, "phone": args.phone,
               "caseworker_id": args.caseworker, "consent_data": args.consent}
    data = _validated(PersonInput, **{**current, **{k: v for k, v in changes.items() if v is not None}})
    for field, value in data.model_dump().items():
        setattr(p, field, value)
    if args.second_factor:
        p.second_factor_hash = identities.keyed_hash(settings.hashing_key(), args.second_factor)
    audit.record(session, ACTOR, "person_edited", "person", p.id, p.id,
                 fields=sorted(k for k, v in changes.items() if v is not None))
    print(f"updated person {p.id}")


def people_link_code(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    person = people.get_person(session, args.id)
    lifetime = timedelta(hours=settings.link_code_hours)
    code = identities.issue_link_code(session, settings.hashing_key(), person, utcnow(), lifetime)
    print(f"link code for person {person.id}: {code} (valid {settings.link_code_hours} h, once)")
    print(f"  Telegram: /start {code}    SMS: LINK {code}")


def caseworkers_add(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    caseworker = people.add_caseworker(session, args.name, args.country.upper())
    print(f"added caseworker {caseworker.id}")


def appointments_add(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    person = people.get_person(session, args.person)
    data = _validated(
        AppointmentInput, person_id=person.id, kind=args.kind, local_time=args.at, time_zone=person.time_zone,
        place=args.place, caseworker_id=args.caseworker or person.caseworker_id, family_session=args.family_session,
    )
    if data.caseworker_id is not None:
        people.get_caseworker(session, data.caseworker_id)
    appointment = appointments.add_appointment(
        session, ACTOR, person_id=person.id, kind=data.kind, starts_at=data.starts_at(utcnow()), place=data.place,
        caseworker_id=data.caseworker_id, family_session=data.family_session,
    )
    print(f"added appointment {appointment.id}")


def appointments_list(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    for a in appointments.list_appointments(session, args.person):
        print(f"{a.id:>4}  person {a.person_id:<4} {a.starts_at:%Y-%m-%d %H:%M} UTC  {a.kind.value:<15} "
              f"{a.status.value:<20} {a.place}")


def appointments_status(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    appointment = appointments.get_appointment(session, args.id)
    appointments.set_status(session, appointment, AppointmentStatus(args.status), ACTOR)
    print(f"appointment {appointment.id} is now {args.status}")


def appointments_free_slot(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    caseworker = people.get_caseworker(session, args.caseworker)
    local = _validated(AppointmentInput, person_id=0, kind="caseworker", local_time=args.at,
                       time_zone=args.time_zone, place="-")
    slot = appointments.add_free_slot(session, caseworker.id, local.starts_at(utcnow()))
    print(f"added free slot {slot.id}")


def courses_import(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    vocabulary = Vocabulary.from_nlu_data(REPO_ROOT / "nlu_data")
    with open(args.file, encoding="utf-8", newline="") as source:
        rows = courses_csv.parse_rows(source, vocabulary)
    added = courses_csv.import_courses(session, rows)
    audit.record(session, ACTOR, "courses_imported", "course", None, None, count=len(added))
    print(f"imported {len(added)} courses")


def courses_export(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    if args.file == "-":
        courses_csv.export_courses(session, sys.stdout)
        return
    with open(args.file, "w", encoding="utf-8", newline="") as target:
        count = courses_csv.export_courses(session, target)
    print(f"exported {count} courses to {args.file}")


def courses_list(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    from bot.repositories.courses import list_courses

    for c in list_courses(session):
        print(f"{c.id:>4}  {c.city:<10} {c.trade:<13} {c.start_date}  seats {c.seats_left:<3} {c.titles.get('en', '')}")


def courses_interests(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    from bot.repositories.courses import interests

    for i in interests(session):
        print(f"{i.id:>4}  person {i.person_id:<4} course {i.course_id or '-':<4} {i.trade or '-':<13} "
              f"{i.city or '-':<10} {i.created_at:%Y-%m-%d %H:%M}")


def documents_set(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    person = people.get_person(session, args.person)
    document = documents.set_document_status(session, person.id, args.type, args.status, args.office,
                                             args.note, ACTOR)
    print(f"document {document.id} ({args.type}) of person {person.id} is now {args.status}")


def referrals_list(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    for r in support.list_referrals(session):
        flag = "CRISIS " if r.crisis else ""
        print(f"{r.id:>4}  {flag}{r.status.value:<10} person {r.person_id or '-'}  {r.concern:<12} "
              f"urgency {r.urgency:<9} {r.specialist_gender}/{r.mode}/{r.language}  {r.created_at:%Y-%m-%d %H:%M}")


def referrals_update(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    support.update_referral(session, args.id, ReferralStatus(args.status), ACTOR)
    print(f"referral {args.id} is now {args.status}")


def handoffs_list(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    for h in support.list_handoffs(session):
        print(f"{h.id:>4}  {h.priority:<7} {h.status.value:<9} person {h.person_id or '-'}  {h.reason:<14} "
              f"{h.created_at:%Y-%m-%d %H:%M}")


def handoffs_update(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    support.update_handoff(session, args.id, HandoffStatus(args.status), ACTOR)
    print(f"handoff {args.id} is now {args.status}")


def outbox_list(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    for m in outbox.list_outbox(session, args.person, args.status):
        due = f"{m.due_at:%Y-%m-%d %H:%M} UTC" if m.due_at else "-"
        tried = f" attempts {m.attempts}" if m.attempts else ""
        error = f" (last error: {m.last_error})" if m.last_error else ""
        print(f"{m.id:>5}  person {m.person_id:<4} {m.flow}/{m.step:<18} {m.trigger_key}#{m.trigger_version:<3} "
              f"{due:<20} {m.status:<9}{m.channel or '':<9} {m.note}{tried}{error}")


def outbox_answers(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    answers = outbox.list_answers(session, args.flow)
    for a in answers:
        print(f"{a.created_at:%Y-%m-%d %H:%M} UTC  person {a.person_id:<4} {a.flow}/{a.step:<18} {a.answer}")
    ratings = [int(a.answer) for a in answers if a.answer.isdigit()]
    if ratings:
        print(f"{len(ratings)} rating(s), mean {sum(ratings) / len(ratings):.2f}, "
              f"1-2 (hard): {sum(r <= 2 for r in ratings)}")


def seed_demo(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    from bot.admin.seed import seed

    print(seed(session, settings, utcnow()))


def _local_time(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M")
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a time like 2026-12-01 10:30") from None


def _language(value: str) -> str:
    try:
        return check_language(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_admin_parser(commands: argparse._SubParsersAction) -> None:
    """Register `hamroh admin …` and its subcommands."""
    admin = commands.add_parser("admin", help="caseworker tools: people, appointments, courses, documents …")
    groups = admin.add_subparsers(dest="group", required=True, metavar="GROUP")

    def command(
        group: argparse._SubParsersAction, name: str, handler: Handler, help: str
    ) -> argparse.ArgumentParser:
        parser = group.add_parser(name, help=help)
        parser.set_defaults(handler=handler)
        return parser

    p = groups.add_parser("people", help="returnees and family members").add_subparsers(required=True, metavar="ACTION")
    add = command(p, "add", people_add, "add a person")
    add.add_argument("--kind", required=True, choices=[k.value for k in PersonKind])
    add.add_argument("--name", required=True)
    add.add_argument("--language", required=True, type=_language)
    add.add_argument("--time-zone", required=True, help="e.g. Asia/Tashkent, Asia/Almaty, Asia/Bishkek")
    add.add_argument("--country", required=True, help="UZ, KZ, KG or TJ")
    add.add_argument("--city", required=True)
    add.add_argument("--phone", help="E.164, e.g. +998901234567")
    add.add_argument("--telegram-id", type=int)
    add.add_argument("--caseworker", type=int)
    add.add_argument("--second-factor", help="e.g. date of birth 05.03.1990 (only a hash is kept)")
    add.add_argument("--consent", action="store_true", help="the person consented to data processing")
    add.add_argument("--returnee", type=int, help="for a family member: the returnee's person id")
    add.add_argument("--relation", default="family")
    command(p, "list", people_list, "list people")
    command(p, "show", people_show, "show one person").add_argument("id", type=int)
    edit = command(p, "edit", people_edit, "change a person's details")
    edit.add_argument("id", type=int)
    edit.add_argument("--language", type=_language)
    edit.add_argument("--time-zone")
    edit.add_argument("--city")
    edit.add_argument("--phone")
    edit.add_argument("--caseworker", type=int)
    edit.add_argument("--second-factor")
    edit.add_argument("--consent", action=argparse.BooleanOptionalAction, default=None)
    command(p, "link-code", people_link_code, "issue a one-time link code").add_argument("id", type=int)

    c = groups.add_parser("caseworkers", help="caseworkers").add_subparsers(required=True, metavar="ACTION")
    cw = command(c, "add", caseworkers_add, "add a caseworker")
    cw.add_argument("--name", required=True)
    cw.add_argument("--country", required=True)

    a = groups.add_parser("appointments", help="appointments and free slots").add_subparsers(
        required=True, metavar="ACTION")
    aa = command(a, "add", appointments_add, "add an appointment (local time of the person)")
    aa.add_argument("--person", type=int, required=True)
    aa.add_argument("--kind", required=True, choices=[k.value for k in AppointmentKind])
    aa.add_argument("--at", required=True, type=_local_time, help="local time: 'YYYY-MM-DD HH:MM'")
    aa.add_argument("--place", required=True)
    aa.add_argument("--caseworker", type=int)
    aa.add_argument("--family-session", action="store_true", help="family members may be reminded too")
    command(a, "list", appointments_list, "list appointments").add_argument("--person", type=int)
    st = command(a, "status", appointments_status, "set an appointment's status")
    st.add_argument("id", type=int)
    st.add_argument("status", choices=[s.value for s in AppointmentStatus])
    fs = command(a, "free-slot", appointments_free_slot, "offer a caseworker's free slot for rescheduling")
    fs.add_argument("--caseworker", type=int, required=True)
    fs.add_argument("--at", required=True, type=_local_time)
    fs.add_argument("--time-zone", required=True)

    k = groups.add_parser("courses", help="vocational courses").add_subparsers(required=True, metavar="ACTION")
    command(k, "import", courses_import, "import courses from CSV (all or nothing)").add_argument("file", type=Path)
    command(k, "export", courses_export, "export courses as CSV ('-' for stdout)").add_argument("file")
    command(k, "list", courses_list, "list courses")
    command(k, "interests", courses_interests, "people who asked to join a course (newest first)")

    d = groups.add_parser("documents", help="document status").add_subparsers(required=True, metavar="ACTION")
    ds = command(d, "set", documents_set, "set a document's status")
    ds.add_argument("--person", type=int, required=True)
    ds.add_argument("--type", required=True)
    ds.add_argument("--status", required=True)
    ds.add_argument("--office", required=True)
    ds.add_argument("--note", default="", help="what the person may read about it")

    r = groups.add_parser("referrals", help="psychological support referrals").add_subparsers(
        required=True, metavar="ACTION")
    command(r, "list", referrals_list, "list referrals (crisis first)")
    ru = command(r, "update", referrals_update, "set a referral's status")
    ru.add_argument("id", type=int)
    ru.add_argument("status", choices=[s.value for s in ReferralStatus])

    h = groups.add_parser("handoffs", help="requests to talk to a person").add_subparsers(
        required=True, metavar="ACTION")
    command(h, "list", handoffs_list, "list handoffs (urgent first)")
    hu = command(h, "update", handoffs_update, "set a handoff's status")
    hu.add_argument("id", type=int)
    hu.add_argument("status", choices=[s.value for s in HandoffStatus])

    o = groups.add_parser("outbox", help="planned flow messages and what happened to them").add_subparsers(
        required=True, metavar="ACTION")
    ol = command(o, "list", outbox_list, "list planned messages by due time")
    ol.add_argument("--person", type=int)
    ol.add_argument("--status", choices=["pending", "sending", "delivering", "sent", "skipped", "cancelled",
                                         "failed", "uncertain"])
    oa = command(o, "answers", outbox_answers, "answers to flow messages (yes/no, the 1-5 wellbeing rating)")
    oa.add_argument("--flow", help="e.g. monthly_wellbeing")

    command(groups, "seed-demo", seed_demo, "load the SAMPLE demo data (people, courses, appointments, documents)")


def run_admin(args: argparse.Namespace) -> int:
    """Run one admin command in one transaction; print errors clearly and return 2 on bad input."""
    settings = get_settings()
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    database = Database(settings.database_url)
    try:
        database.upgrade()
        with database.transaction() as session:
            args.handler(session, args, settings)
    except (InputError, NotFound, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        database.dispose()
    return 0
