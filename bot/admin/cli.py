"""`hamroh admin`: caseworkers manage people, appointments, courses, documents, referrals and handoffs.

Every command is one transaction: it is written whole or not at all, and what it prints is
printed only after it is written (a closed pipe, `| head`, ends the output quietly).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import secrets
import sys
from collections.abc import Callable
from contextlib import redirect_stdout
from datetime import datetime, timedelta
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.orm import Session

from bot import runtime
from bot.admin import courses_csv
from bot.admin.times import country_zone, local
from bot.admin.validation import (
    AppointmentInput,
    InputError,
    PersonInput,
    check_language,
    check_time_zone,
    describe,
    parse_local_time,
)
from bot.console import passwords
from bot.console.i18n import BABEL_LOCALES
from bot.db.models import (
    AppointmentKind,
    AppointmentStatus,
    Caseworker,
    ChannelIdentity,
    HandoffStatus,
    OutboxMessage,
    Person,
    PersonKind,
    ReferralStatus,
    Role,
    utcnow,
)
from bot.db.session import Database
from bot.nlp.vocabulary import Vocabulary
from bot.repositories import (
    accounts,
    appointments,
    audit,
    conversations,
    courses,
    documents,
    identities,
    outbox,
    people,
    privacy,
    support,
)
from bot.repositories.people import NotFound
from bot.repositories.privacy import tracker_session
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


def _person_line(session: Session, p: Person) -> str:
    linked = ", ".join(i.channel for i in identities.linked_identities(session, p.id)) or "none"
    return (f"{p.id:>4}  {p.kind.value:<8}  {p.language:<7}  {p.city:<12}  {p.name}  "
            f"[linked: {linked}; opted out: {'yes' if p.opted_out else 'no'}]")


def people_list(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    for p in people.list_people(session):
        print(_person_line(session, p))


def people_search(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    found = people.search_people(session, args.text)
    for p in found:
        print(_person_line(session, p))
    if not found:
        print("nobody found (a name or part of it, or at least four digits of a phone)")


def _account(identity: ChannelIdentity, now: datetime, zone: str) -> str:
    state = []
    if identities.is_locked(identity, now):
        state.append(f"locked until {local(identity.locked_until, zone)}")
    elif identity.failed_attempts:
        state.append(f"{identity.failed_attempts} wrong attempt(s)")
    if identity.opted_out:
        state.append("opted out")
    if identity.unreachable:
        state.append("blocked the bot")
    return f"account {identity.id}: {identity.channel} {identity.address}" + (f" ({', '.join(state)})" if state else "")


def people_show(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    p = people.get_person(session, args.id)
    link = people.family_link(session, p.id)
    print(f"person {p.id}: {p.name} ({p.kind.value}), language {p.language}, {p.city} {p.country}, {p.time_zone}")
    print(f"  phone {p.phone or '-'}, telegram {'linked' if p.telegram_user_id else '-'}, "
          f"second factor {'set' if p.second_factor_hash else 'not set'}, consent {p.consent_data}, "
          f"opted out {p.opted_out}, caseworker {p.caseworker_id or '-'}")
    for identity in identities.linked_identities(session, p.id):
        print(f"  {_account(identity, utcnow(), p.time_zone)}")
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
    if args.language is not None:
        identities.set_record_language(session, p)  # the conversation switches with the next message
    if args.second_factor:
        p.second_factor_hash = identities.keyed_hash(settings.hashing_key(), args.second_factor)
    audit.record(session, ACTOR, "person_edited", "person", p.id, p.id,
                 fields=sorted(k for k, v in changes.items() if v is not None))
    print(f"updated person {p.id}")


def people_erase(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    if not args.yes:
        raise InputError("erasing a person cannot be undone: add --yes to confirm")
    with tracker_session(session, settings) as tracker:
        counts = privacy.erase_person(session, tracker, args.id, ACTOR)
    removed = ", ".join(f"{count} {what}" for what, count in counts.items() if count) or "nothing else"
    print(f"erased person {args.id}: name, phone, Telegram id, second factor; removed {removed}")


def messages_prune(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    with tracker_session(session, settings) as tracker:
        counts = privacy.prune_messages(session, tracker, utcnow(), settings.message_retention_days)
    print(f"message texts older than {settings.message_retention_days} days removed: "
          + ", ".join(f"{count} {what}" for what, count in counts.items()))


def people_link_code(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    person = people.get_person(session, args.id)
    lifetime = timedelta(hours=settings.link_code_hours)
    code = identities.issue_link_code(session, settings.hashing_key(), person, utcnow(), lifetime, ACTOR)
    print(f"link code for person {person.id}: {code} (valid {settings.link_code_hours} h, once)")
    print(f"  Telegram: /start {code}    SMS: LINK {code}")


def caseworkers_add(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    caseworker = people.add_caseworker(session, args.name, args.country.upper())
    print(f"added caseworker {caseworker.id}")
    if args.username:
        _console_account(session, caseworker, args)


def _new_password(args: argparse.Namespace) -> tuple[str, bool]:
    """The password from stdin (--password-stdin), else a generated one to hand over once."""
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        problem = passwords.too_weak(password)
        if problem:
            raise InputError(problem)
        return password, False
    return secrets.token_urlsafe(12), True


def _console_account(session: Session, caseworker: Caseworker, args: argparse.Namespace) -> None:
    username = args.username.strip().lower()
    if not re.fullmatch(r"[a-z0-9._-]{3,64}", username):
        raise InputError("a username is 3 to 64 letters a-z, digits, '.', '_' or '-'")
    other = accounts.by_username(session, username)
    if other is not None and other.id != caseworker.id:
        raise InputError(f"the username {username} is taken")
    if args.locale not in BABEL_LOCALES:
        raise InputError(f"--locale: one of {', '.join(BABEL_LOCALES)}")
    password, generated = _new_password(args)
    accounts.set_account(session, caseworker, username=username, role=Role(args.role),
                         password_hash=passwords.hash_password(password), team=args.team, locale=args.locale,
                         time_zone=args.time_zone or country_zone(caseworker.country), actor=ACTOR)
    print(f"console account {username} ({args.role}) for caseworker {caseworker.id}")
    if generated:
        print(f"  password (shown once, hand it over in person): {password}")


def caseworkers_account(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    _console_account(session, people.get_caseworker(session, args.id), args)


def caseworkers_reset(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    caseworker = people.get_caseworker(session, args.id)
    if caseworker.username is None:
        raise InputError(f"caseworker {caseworker.id} has no console account: use 'caseworkers account'")
    password, generated = _new_password(args)
    accounts.reset_password(session, caseworker, passwords.hash_password(password), ACTOR)
    print(f"new password for {caseworker.username}; every session signed out, the lock lifted")
    if generated:
        print(f"  password (shown once, hand it over in person): {password}")


def caseworkers_disable(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    caseworker = people.get_caseworker(session, args.id)
    accounts.disable(session, caseworker, ACTOR)
    print(f"caseworker {caseworker.id} can no longer sign in; every session signed out")


def caseworkers_list(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    counts: dict[int, int] = {}
    for p in people.list_people(session):
        if p.caseworker_id is not None:
            counts[p.caseworker_id] = counts.get(p.caseworker_id, 0) + 1
    for c in people.list_caseworkers(session):
        print(f"{c.id:>4}  {c.country}  {c.name}  ({counts.get(c.id, 0)} people)")


def accounts_list(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    now = utcnow()
    for identity in identities.list_identities(session, now, args.locked, args.person):
        person = identities.person_of(session, identity)
        owner = f"person {person.id}" if person else "not linked"
        zone = person.time_zone if person else "UTC"
        print(f"{_account(identity, now, zone)}  [{owner}]")


def _identity(session: Session, account_id: int) -> ChannelIdentity:
    try:
        return identities.identity_by_id(session, account_id)
    except LookupError:
        raise NotFound(f"no account with id {account_id} (see `hamroh admin accounts list`)") from None


def accounts_unlock(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    identity = _identity(session, args.id)
    identities.unlock(session, identity, ACTOR)
    print(f"account {identity.id} ({identity.channel}) is unlocked: the person may try again")


def accounts_unlink(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    identity = _identity(session, args.id)
    person = identities.unlink(session, identity, ACTOR)
    print(f"account {identity.id} ({identity.channel}) no longer reaches person {person.id}; "
          f"issue a new link code for their new {identity.channel} account: people link-code {person.id}")


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


def _zones(session: Session) -> dict[int, str]:
    """Each person's time zone, by id."""
    return {p.id: p.time_zone for p in people.list_people(session)}


def appointments_list(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    zones = _zones(session)
    for a in appointments.list_appointments(session, args.person):
        print(f"{a.id:>4}  person {a.person_id:<4} {local(a.starts_at, zones[a.person_id])}  {a.kind.value:<15} "
              f"{a.status.value:<20} {a.place}")


def appointments_move(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    appointment = appointments.get_appointment(session, args.id)
    person = people.get_person(session, appointment.person_id)
    data = _validated(AppointmentInput, person_id=person.id, kind=appointment.kind, local_time=args.at,
                      time_zone=person.time_zone, place=appointment.place)
    appointments.move(session, appointment, data.starts_at(utcnow()), ACTOR)
    print(f"appointment {appointment.id} moved to {local(appointment.starts_at, person.time_zone)}; "
          f"its reminders are planned again")


def appointments_status(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    appointment = appointments.get_appointment(session, args.id)
    appointments.set_status(session, appointment, AppointmentStatus(args.status), ACTOR)
    print(f"appointment {appointment.id} is now {args.status}")


def appointments_free_slot(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    caseworker = people.get_caseworker(session, args.caseworker)
    zone = args.time_zone or country_zone(caseworker.country)
    data = _validated(AppointmentInput, person_id=0, kind="caseworker", local_time=args.at, time_zone=zone,
                      place="-")
    starts_at = data.starts_at(utcnow())
    try:
        slot = appointments.add_free_slot(session, caseworker.id, starts_at)
    except ValueError:
        raise InputError(f"caseworker {caseworker.id} already offers {local(starts_at, zone)}") from None
    print(f"added free slot {slot.id} at {local(slot.starts_at, zone)}")


def courses_import(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    vocabulary = Vocabulary.from_nlu_data(REPO_ROOT / "nlu_data")
    with open(args.file, encoding="utf-8", newline="") as source:
        lines = courses_csv.parse_rows(source, vocabulary)
    done = courses_csv.import_courses(session, lines, ACTOR)
    audit.record(session, ACTOR, "courses_imported", "course", None, None, added=done.added, updated=done.updated,
                 deleted=done.deleted)
    print(f"imported: {done.added} added, {done.updated} updated, {done.deleted} deleted")


def courses_export(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    if args.file == "-":
        courses_csv.export_courses(session, sys.stdout)
        return
    with open(args.file, "w", encoding="utf-8", newline="") as target:
        count = courses_csv.export_courses(session, target)
    print(f"exported {count} courses to {args.file}")


def courses_list(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    for c in courses.list_courses(session):
        print(f"{c.id:>4}  {c.city:<10} {c.trade:<13} {c.start_date:%d.%m.%Y}  seats {c.seats_left:<3} "
              f"{c.titles.get('en', '')}")


def courses_delete(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    course = courses.get_course(session, args.id)
    courses.delete_course(session, course, ACTOR)
    print(f"deleted course {args.id}")


def courses_interests(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    zones = _zones(session)
    for i in courses.interests(session):
        print(f"{i.id:>4}  person {i.person_id:<4} course {i.course_id or '-':<4} {i.trade or '-':<13} "
              f"{i.city or '-':<10} {local(i.created_at, zones[i.person_id])}")


def documents_set(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    person = people.get_person(session, args.person)
    document = documents.set_document_status(session, person.id, args.type, args.status, args.office,
                                             args.note, ACTOR)
    catalog = runtime.catalog()
    print(f"document {document.id} ({args.type}) of person {person.id} is now {args.status}; the person reads: "
          f"{catalog.word(person.language, 'document_type', args.type)}: "
          f"{catalog.word(person.language, 'document_status', args.status)}")


def documents_list(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    person = people.get_person(session, args.person)
    found = documents.list_documents(session, person.id)
    for d in found:
        print(f"{d.id:>4}  {d.type:<22} {d.status:<12} {d.office}  (updated {local(d.updated_at, person.time_zone)})"
              + (f"\n      note: {d.note}" if d.note else ""))
    if not found:
        print(f"person {person.id} has no documents recorded")


def _reader(session: Session, args: argparse.Namespace) -> Caseworker:
    return people.get_caseworker(session, args.caseworker)


def _who(person: Person | None) -> str:
    return f"person {person.id} {person.name}" if person else "not linked to a record"


def _reach(session: Session, reader: Caseworker, entity: str, entity_id: int, person: Person | None,
           identity_id: int | None, allowed: bool) -> str:
    """How to reach the person, for a caseworker who may read it (audited); else who may."""
    if not allowed:
        return f"      details: for their caseworker (caseworker {person.caseworker_id if person else '-'})"
    support.record_reading(session, reader, entity, entity_id, person.id if person else None)
    identity = support.reach(session, identity_id)
    return f"      reach on: {identity.channel} {identity.address}" if identity else "      reach on: unknown"


def referrals_list(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    reader = _reader(session, args)
    for r in support.list_referrals(session):
        person = people.get_person(session, r.person_id) if r.person_id else None
        zone = person.time_zone if person else country_zone(reader.country)
        flag = "CRISIS " if r.crisis else ""
        print(f"{r.id:>4}  {flag}{r.status.value:<10} {r.concern:<12} urgency {r.urgency:<9} "
              f"{r.specialist_gender}/{r.mode}, language {r.language}  {local(r.created_at, zone)}")
        print(f"      {_who(person)}")
        allowed = support.may_read(reader, person, r.crisis)
        print(_reach(session, reader, "referral", r.id, person, r.identity_id, allowed))


def referrals_update(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    support.update_referral(session, args.id, ReferralStatus(args.status), ACTOR)
    print(f"referral {args.id} is now {args.status}")


def _handoff(session: Session, reader: Caseworker, handoff_id: int) -> tuple[Person | None, bool]:
    """Print one handoff; return its person and whether the reader may read the details."""
    h = support.get_handoff(session, handoff_id)
    person = people.get_person(session, h.person_id) if h.person_id else None
    zone = person.time_zone if person else country_zone(reader.country)
    urgent = h.priority == "urgent"
    print(f"{h.id:>4}  {h.priority.upper() if urgent else h.priority:<7} {h.status.value:<9} {h.reason:<14} "
          f"language {h.language or '-':<8} {local(h.created_at, zone)}")
    print(f"      {_who(person)}")
    allowed = support.may_read(reader, person, urgent)
    print(_reach(session, reader, "handoff", h.id, person, h.identity_id, allowed))
    if allowed:
        print(f"      wrote: {h.message or '-'}")
    return person, allowed


def handoffs_list(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    reader = _reader(session, args)
    for h in support.list_handoffs(session):
        _handoff(session, reader, h.id)


def handoffs_show(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    reader = _reader(session, args)
    person, allowed = _handoff(session, reader, args.id)
    identity = support.reach(session, support.get_handoff(session, args.id).identity_id)
    if not allowed or identity is None:
        return
    zone = person.time_zone if person else country_zone(reader.country)
    print(f"  recent messages from {identity.channel} {identity.address} (oldest first; replies are not stored):")
    for m in conversations.recent_inbound(session, identity.channel, identity.address):
        print(f"    {local(m.received_at, zone)}  {m.text if m.kind != 'unsupported' else '(not text)'}")


def handoffs_update(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    support.update_handoff(session, args.id, HandoffStatus(args.status), ACTOR)
    print(f"handoff {args.id} is now {args.status}")


def _trigger(row: OutboxMessage) -> str:
    """`appointment:1` version 3 → `appointment 1, changed 2 times`."""
    kind, _, key = row.trigger_key.partition(":")
    changes = row.trigger_version - 1
    return f"{kind.replace('_', ' ')} {key}" + (f", changed {changes} time(s)" if changes else "")


def outbox_list(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    zones = _zones(session)
    rows = outbox.list_outbox(session, args.person, args.status, everything=args.all)
    for m in rows:
        tried = f", {m.attempts} attempt(s)" if m.attempts else ""
        error = f" (last error: {m.last_error})" if m.last_error else ""
        print(f"{m.id:>5}  person {m.person_id:<4} {m.flow}/{m.step}  for {_trigger(m)}  "
              f"due {local(m.due_at, zones[m.person_id])}  {m.status}{' by ' + m.channel if m.channel else ''}"
              f"{tried}{': ' + m.note if m.note else ''}{error}")
    if not args.all and not args.status:
        hidden = len(outbox.list_outbox(session, args.person)) - len(rows)
        print(f"{len(rows)} upcoming or with a problem; {hidden} sent, cancelled or not needed (--all shows them)")


def outbox_answers(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    zones = _zones(session)
    answers = outbox.list_answers(session, args.flow)
    for a in answers:
        print(f"{local(a.created_at, zones[a.person_id])}  person {a.person_id:<4} {a.flow}/{a.step:<18} {a.answer}")
    ratings = [int(a.answer) for a in answers if a.answer.isdigit()]
    if ratings:
        print(f"{len(ratings)} rating(s), mean {sum(ratings) / len(ratings):.2f}, "
              f"1-2 (hard): {sum(r <= 2 for r in ratings)}")


def seed_demo(session: Session, args: argparse.Namespace, settings: Settings) -> None:
    from bot.admin.seed import demo_sign_in, seed

    print(seed(session, settings, utcnow()))
    print(demo_sign_in(settings))


def _local_time(value: str) -> datetime:
    try:
        return parse_local_time(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _time_zone(value: str) -> str:
    try:
        return check_time_zone(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


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
    command(p, "list", people_list, "list people, with their linked channels and whether they opted out")
    command(p, "search", people_search, "find people by name or phone").add_argument(
        "text", help="a name or part of it (any case), or at least four digits of a phone or Telegram id")
    command(p, "show", people_show, "show one person and their linked accounts").add_argument("id", type=int)
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
    erase = command(p, "erase", people_erase, "remove a person's personal data everywhere (cannot be undone)")
    erase.add_argument("id", type=int)
    erase.add_argument("--yes", action="store_true", help="confirm: this cannot be undone")

    m = groups.add_parser("messages", help="what people wrote").add_subparsers(required=True, metavar="ACTION")
    command(m, "prune", messages_prune, "blank message texts older than HAMROH_MESSAGE_RETENTION_DAYS now "
            "(the app does it every night)")

    c = groups.add_parser("caseworkers", help="caseworkers").add_subparsers(required=True, metavar="ACTION")
    cw = command(c, "add", caseworkers_add, "add a caseworker (with --username, a console account)")
    cw.add_argument("--name", required=True)
    cw.add_argument("--country", required=True)
    _account_options(cw, username_required=False)
    command(c, "list", caseworkers_list, "list caseworkers (the ids --caseworker takes)")
    ca = command(c, "account", caseworkers_account, "give a caseworker a console account, or change it")
    ca.add_argument("id", type=int)
    _account_options(ca, username_required=True)
    cr = command(c, "reset", caseworkers_reset, "a new console password: unlocks, signs out every session")
    cr.add_argument("id", type=int)
    cr.add_argument("--password-stdin", action="store_true", help="read it from stdin instead of generating one")
    command(c, "disable", caseworkers_disable, "no more console access (sessions end at once)").add_argument(
        "id", type=int)

    i = groups.add_parser("accounts", help="Telegram accounts and phones: unlock, unlink").add_subparsers(
        required=True, metavar="ACTION")
    il = command(i, "list", accounts_list, "Telegram accounts and phones that wrote, and whose they are")
    il.add_argument("--person", type=int)
    il.add_argument("--locked", action="store_true", help="only those locked after wrong codes or dates of birth")
    command(i, "unlock", accounts_unlock, "lift the lock after wrong link codes or dates of birth").add_argument(
        "id", type=int)
    command(i, "unlink", accounts_unlink, "a lost or stolen phone or Telegram account loses access").add_argument(
        "id", type=int)

    a = groups.add_parser("appointments", help="appointments and free slots").add_subparsers(
        required=True, metavar="ACTION")
    aa = command(a, "add", appointments_add, "add an appointment (local time of the person)")
    aa.add_argument("--person", type=int, required=True)
    aa.add_argument("--kind", required=True, choices=[k.value for k in AppointmentKind])
    aa.add_argument("--at", required=True, type=_local_time, help="the person's local time: '05.12.2026 09:00'")
    aa.add_argument("--place", required=True)
    aa.add_argument("--caseworker", type=int)
    aa.add_argument("--family-session", action="store_true", help="family members may be reminded too")
    command(a, "list", appointments_list, "list appointments").add_argument("--person", type=int)
    st = command(a, "status", appointments_status, "set an appointment's status")
    st.add_argument("id", type=int)
    st.add_argument("status", choices=[s.value for s in AppointmentStatus])
    mv = command(a, "move", appointments_move, "move an appointment to another time (reminders planned again)")
    mv.add_argument("id", type=int)
    mv.add_argument("--at", required=True, type=_local_time, help="the person's local time: '05.12.2026 09:00'")
    fs = command(a, "free-slot", appointments_free_slot, "offer a caseworker's free slot for rescheduling")
    fs.add_argument("--caseworker", type=int, required=True)
    fs.add_argument("--at", required=True, type=_local_time, help="local time: '05.12.2026 09:00'")
    fs.add_argument("--time-zone", type=_time_zone, help="default: the caseworker's country's")

    k = groups.add_parser("courses", help="vocational courses").add_subparsers(required=True, metavar="ACTION")
    command(k, "import", courses_import, "import courses from CSV (all or nothing): rows with an id update that "
            "course, rows without one are added, delete=yes deletes").add_argument("file", type=Path)
    command(k, "export", courses_export, "export courses as CSV ('-' for stdout)").add_argument("file")
    command(k, "list", courses_list, "list courses")
    command(k, "delete", courses_delete, "delete a course").add_argument("id", type=int)
    command(k, "interests", courses_interests, "people who asked to join a course (newest first)")

    d = groups.add_parser("documents", help="document status").add_subparsers(required=True, metavar="ACTION")
    ds = command(d, "set", documents_set, "set a document's status")
    ds.add_argument("--person", type=int, required=True)
    ds.add_argument("--type", required=True, help="e.g. passport, id_card (the catalog's document types)")
    ds.add_argument("--status", required=True, help="submitted, in_progress, ready, issued or rejected")
    ds.add_argument("--office", required=True)
    ds.add_argument("--note", default="", help="what the person may read about it")
    command(d, "list", documents_list, "one person's documents").add_argument("--person", type=int, required=True)

    r = groups.add_parser("referrals", help="psychological support referrals").add_subparsers(
        required=True, metavar="ACTION")
    command(r, "list", referrals_list, "list referrals (crisis first)").add_argument(
        "--caseworker", type=int, required=True, help="who is reading (contact details are for the person's own "
        "caseworker, anyone's for a crisis or a person with none)")
    ru = command(r, "update", referrals_update, "set a referral's status")
    ru.add_argument("id", type=int)
    ru.add_argument("status", choices=[s.value for s in ReferralStatus])

    h = groups.add_parser("handoffs", help="requests to talk to a person").add_subparsers(
        required=True, metavar="ACTION")
    reader_help = ("who is reading (what the person wrote and how to reach them are for the person's own "
                   "caseworker, anyone's when urgent or the person has none)")
    command(h, "list", handoffs_list, "list handoffs (urgent first)").add_argument(
        "--caseworker", type=int, required=True, help=reader_help)
    hs = command(h, "show", handoffs_show, "one handoff and the person's recent messages")
    hs.add_argument("id", type=int)
    hs.add_argument("--caseworker", type=int, required=True, help=reader_help)
    hu = command(h, "update", handoffs_update, "set a handoff's status")
    hu.add_argument("id", type=int)
    hu.add_argument("status", choices=[s.value for s in HandoffStatus])

    o = groups.add_parser("outbox", help="planned flow messages and what happened to them").add_subparsers(
        required=True, metavar="ACTION")
    ol = command(o, "list", outbox_list, "planned messages still to go and those with a problem, by due time")
    ol.add_argument("--person", type=int)
    ol.add_argument("--all", action="store_true", help="also the sent, cancelled and not needed ones")
    ol.add_argument("--status", choices=["pending", "sending", "delivering", "sent", "skipped", "cancelled",
                                         "failed", "uncertain"])
    oa = command(o, "answers", outbox_answers, "answers to flow messages (yes/no, the 1-5 wellbeing rating)")
    oa.add_argument("--flow", help="e.g. monthly_wellbeing")

    command(groups, "seed-demo", seed_demo, "load the SAMPLE demo data (people, courses, appointments, documents)")


def _account_options(parser: argparse.ArgumentParser, username_required: bool) -> None:
    parser.add_argument("--username", required=username_required, help="the console sign-in name")
    parser.add_argument("--role", choices=[role.value for role in Role], default=Role.CASEWORKER.value)
    parser.add_argument("--team", default="", help="a supervisor sees the people of their team's caseworkers")
    parser.add_argument("--locale", default="ru", help="the console's language: " + ", ".join(BABEL_LOCALES))
    parser.add_argument("--time-zone", help="the console's time zone (default: the country's)")
    parser.add_argument("--password-stdin", action="store_true", help="read the password from stdin "
                        "instead of generating one")


def run_admin(args: argparse.Namespace) -> int:
    """Run one admin command in one transaction, print its output after the commit; print errors
    clearly and return 2 on bad input."""
    settings = get_settings()
    if settings.database_url.startswith("sqlite:///"):
        Path(settings.database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    database = Database(settings.database_url)
    output = io.StringIO()
    try:
        database.upgrade()
        with redirect_stdout(output), database.transaction() as session:
            args.handler(session, args, settings)
    except (InputError, NotFound, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        database.dispose()
    _write(output.getvalue())
    return 0


def _write(text: str) -> None:
    """Print what a committed command said; a reader that went away (`| head`) ends it quietly."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # Python flushes stdout once more at exit: send that to /dev/null rather than fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
