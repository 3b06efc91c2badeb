"""`hamroh admin seed-demo`: SAMPLE data for demos and tests. Nothing here is real."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.admin.times import country_zone
from bot.console import passwords
from bot.db.models import AppointmentKind, AppointmentStatus, Caseworker, Person, PersonKind, Role
from bot.repositories import accounts, appointments, audit, courses, documents, identities, people
from bot.settings import Settings, local_secret

SAMPLE_COURSE_TITLES = Path(__file__).with_name("sample_courses.yml")
DEMO_ADDRESS = "demo"  # `hamroh chat --user demo` is linked to the first sample person
SAMPLE_SECOND_FACTOR = "01.01.1990"

PEOPLE = [
    # name, kind, language, time zone, country, city
    ("Sample Person A (Dilnoza)", "returnee", "uz", "Asia/Tashkent", "UZ", "Tashkent"),
    ("Sample Person B (Мадина)", "returnee", "uz-Cyrl", "Asia/Tashkent", "UZ", "Namangan"),
    ("Sample Person C (Айгуль)", "returnee", "kk", "Asia/Almaty", "KZ", "Shymkent"),
    ("Sample Person D (Жыпара)", "returnee", "ky", "Asia/Bishkek", "KG", "Osh"),
    ("Sample Person E (Нигора)", "returnee", "tg", "Asia/Dushanbe", "TJ", "Khujand"),
    ("Sample Person F (Ольга)", "returnee", "ru", "Asia/Almaty", "KZ", "Almaty"),
    ("Sample Family Member (mother of A)", "family", "uz", "Asia/Tashkent", "UZ", "Tashkent"),
]

COURSES = [
    # trade, city, English title, weeks, seats, cost
    ("tailoring", "Tashkent", "Tailoring and sewing", 12, 8, 0),
    ("cooking", "Tashkent", "Cook's assistant", 8, 0, 0),
    ("computers", "Tashkent", "Computer basics and office work", 6, 12, 0),
    ("welding", "Namangan", "Electric welding", 16, 5, 0),
    ("hairdressing", "Andijan", "Hairdressing", 10, 6, 0),
    ("baking", "Almaty", "Baking and pastry", 8, 10, 0),
    ("electrician", "Shymkent", "Household electrician", 14, 4, 0),
    ("tailoring", "Osh", "Sewing workshop", 12, 7, 0),
    ("driving", "Bishkek", "Driving licence (category B)", 10, 3, 0),
    ("beauty", "Khujand", "Manicure and beauty care", 6, 9, 0),
    ("accounting", "Dushanbe", "Basic accounting with 1C", 12, 6, 0),
    ("welding", "Dushanbe", "Welding for construction", 16, 0, 0),
]

DOCUMENTS = [
    # person index, type, status, note
    (0, "passport", "ready", "Your passport is ready: bring your old certificate when you collect it."),
    (0, "birth_certificate", "in_progress", "The office is checking the documents for your son."),
    (1, "id_card", "submitted", ""),
    (2, "residence_registration", "ready", ""),
    (4, "amnesty", "in_progress", "Your caseworker will explain the next step at your meeting."),
]


#: The SAMPLE console accounts: username -> (role, whose caseworker row; None: a new one).
CONSOLE_ACCOUNTS = {"caseworker.uz": (Role.CASEWORKER, "UZ"), "caseworker.kz": (Role.CASEWORKER, "KZ"),
                    "caseworker.kg": (Role.CASEWORKER, "KG"), "caseworker.tj": (Role.CASEWORKER, "TJ"),
                    "supervisor": (Role.SUPERVISOR, None), "admin": (Role.ADMIN, None),
                    "analyst": (Role.ANALYST, None)}


def demo_password() -> str:
    """The SAMPLE accounts' password: generated once on this machine (var/), never a default."""
    return local_secret("console-demo-password")[:16]


def demo_sign_in(settings: Settings) -> str:
    """Where the console is and how to sign in to the demo (outside production only)."""
    if settings.production:
        return "production: no sample console accounts; create real ones with `hamroh admin caseworkers add`"
    return (f"console: {settings.app_url}/console/ (while `hamroh serve` or `make demo` runs); sign in as "
            f"caseworker.uz, supervisor, admin or analyst with the SAMPLE password {demo_password()}")


def _console_accounts(session: Session, settings: Settings, workers: dict[str, Caseworker]) -> None:
    if settings.production:
        return
    hashed = passwords.hash_password(demo_password())
    for username, (role, country) in CONSOLE_ACCOUNTS.items():
        caseworker = workers[country] if country else people.add_caseworker(
            session, f"Sample {role.value.title()}", "UZ")
        accounts.set_account(session, caseworker, username=username, role=role, password_hash=hashed,
                             team="sample", locale="ru", time_zone=country_zone(caseworker.country), actor="seed")


def seed(session: Session, settings: Settings, now: datetime) -> str:
    """Load the sample data once (a second run changes nothing)."""
    if session.scalar(select(func.count()).select_from(Person)):
        return "the database already has people: sample data not loaded again"
    key = settings.hashing_key()
    workers = {country: people.add_caseworker(session, f"Sample Caseworker {country}", country)
               for country in ("UZ", "KZ", "KG", "TJ")}
    created = []
    for name, kind, language, time_zone, country, city in PEOPLE:
        person = people.add_person(
            session, kind=PersonKind(kind), name=name, language=language, time_zone=time_zone, country=country,
            city=city, caseworker_id=workers[country].id, consent_data=True,
            second_factor_hash=identities.keyed_hash(key, SAMPLE_SECOND_FACTOR),
        )
        created.append(person)
    people.link_family(session, created[-1], created[0], "mother")
    demo = identities.identity_for(session, "terminal", DEMO_ADDRESS)
    demo.person_id = created[0].id
    demo.language = demo.language_override = created[0].language  # as a link code would

    for index, person in enumerate(created[:6]):
        local_day = (now.astimezone(ZoneInfo(person.time_zone)) + timedelta(days=2 + index)).date()
        starts = datetime.combine(local_day, datetime.min.time(), ZoneInfo(person.time_zone)).replace(hour=10)
        appointments.add_appointment(
            session, "seed", person_id=person.id, caseworker_id=person.caseworker_id, kind=AppointmentKind.CASEWORKER,
            starts_at=starts, place=f"Sample office, {person.city}", family_session=index == 0,
        )
        appointments.add_appointment(
            session, "seed", person_id=person.id, caseworker_id=person.caseworker_id,
            kind=AppointmentKind.PSYCHOLOGIST, starts_at=starts + timedelta(days=7, hours=4),
            place="Online (sample)", status=AppointmentStatus.CONFIRMED,
        )
        for day in (1, 3):
            appointments.add_free_slot(session, person.caseworker_id or 0, starts + timedelta(days=day, hours=5))

    today = now.date()
    titles = yaml.safe_load(SAMPLE_COURSE_TITLES.read_text(encoding="utf-8"))
    for number, (trade, city, title, weeks, seats, cost) in enumerate(COURSES):
        courses.add_course(
            session, trade=trade, city=city, titles={tag: f"{name} (sample)" for tag, name in titles[title].items()},
            descriptions={},
            instruction_language="ru" if city in {"Almaty", "Bishkek"} else "uz", start_date=today + timedelta(
                days=10 + 7 * number), duration_weeks=weeks, seats_left=seats, cost=cost,
            contact="Sample training centre (not real)", requirements="",
        )
    for index, type_, status, note in DOCUMENTS:
        documents.set_document_status(session, created[index].id, type_, status, f"Sample office, "
                                      f"{created[index].city}", note, "seed")
    _console_accounts(session, settings, workers)
    audit.record(session, "seed", "sample_data_loaded", "database", None, None)
    return (f"loaded SAMPLE data: {len(created)} people, {len(COURSES)} courses, {len(DOCUMENTS)} documents; "
            f"`hamroh chat --user {DEMO_ADDRESS}` talks as sample person {created[0].id}; "
            f"sample second factor {SAMPLE_SECOND_FACTOR}")


