"""The console on a real loopback server over a real database, with accounts of every role and a
clock the test can move (sessions, lockout)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import pytest

from bot.console import passwords
from bot.console.app import create_console
from bot.console.auth import Accounts
from bot.db.models import Person, PersonKind, Role, utcnow
from bot.db.session import Database
from bot.fakes.serving import ServerThread, free_port
from bot.repositories import accounts, people
from bot.settings import Settings
from bot.web.app import create_app

PASSWORD = "correct horse battery staple"
#: The console's hashing key (link codes) and bot username (Telegram links) in the tests.
SECRET_KEY = "console-test-secret"
BOT_USERNAME = "hamroh_sample_bot"
#: username -> (role, team)
STAFF = {
    "aziza": (Role.CASEWORKER, "north"),
    "bobur": (Role.CASEWORKER, "north"),
    "chinara": (Role.CASEWORKER, "south"),
    "sardor": (Role.SUPERVISOR, "north"),
    "admin": (Role.ADMIN, ""),
    "anvar": (Role.ANALYST, ""),
}


@dataclass
class Clock:
    now: datetime = field(default_factory=utcnow)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class ConsoleSite:
    url: str
    database: Database
    clock: Clock
    caseworkers: dict[str, int]
    people: dict[str, int]
    settings: Settings

    def client(self) -> httpx.Client:
        """A browser-like client: keeps cookies, sends the console's Origin on every request."""
        return httpx.Client(base_url=self.url, headers={"origin": self.url}, timeout=10)

    @contextmanager
    def signed_in(self, username: str) -> Iterator[httpx.Client]:
        """A client signed in as `username`."""
        with self.client() as client:
            response = client.post("/console/login", data={"username": username, "password": PASSWORD})
            assert response.status_code == 303, response.text
            yield client


def _person(database: Database, name: str, caseworker_id: int | None, kind: PersonKind = PersonKind.RETURNEE) -> int:
    with database.transaction() as session:
        person: Person = people.add_person(session, kind=kind, name=name, language="ru", time_zone="Asia/Tashkent",
                                           country="UZ", city="Toshkent", caseworker_id=caseworker_id)
        session.flush()
        return person.id


@pytest.fixture
def console_site(database: Database, tmp_path: object) -> Iterator[ConsoleSite]:
    """The console on loopback with every role's account (password PASSWORD) and SAMPLE people:
    Aziza's returnee and his mother (linked to him, no caseworker of her own), Chinara's returnee."""
    caseworkers = {}
    with database.transaction() as session:
        hashed = passwords.hash_password(PASSWORD)
        for username, (role, team) in STAFF.items():
            caseworker = people.add_caseworker(session, f"{username.title()} SAMPLE", "UZ")
            accounts.set_account(session, caseworker, username=username, role=role, password_hash=hashed,
                                 team=team, locale="en", time_zone="Asia/Tashkent", actor="test")
            caseworkers[username] = caseworker.id
    own = _person(database, "Jasur SAMPLE", caseworkers["aziza"])
    mother = _person(database, "Gulnora SAMPLE", None, PersonKind.FAMILY)
    with database.transaction() as session:
        people.link_family(session, people.get_person(session, mother), people.get_person(session, own), "mother")
    other = _person(database, "Timur SAMPLE", caseworkers["chinara"])
    clock = Clock()
    port, internal_port = free_port(), free_port()
    settings = Settings(app_port=port, internal_port=internal_port, internal_token="t", database_url=database.url,
                        secret_key=SECRET_KEY, telegram_bot_username=BOT_USERNAME)
    console = create_console(settings, database, Accounts(database, settings, clock))
    with ServerThread(create_app(settings, None, console), port, internal_port):
        yield ConsoleSite(f"http://127.0.0.1:{port}", database, clock, caseworkers,
                          {"own": own, "mother": mother, "other": other}, settings)


def add_account(database: Database, username: str, role: Role = Role.CASEWORKER, team: str = "north",
                locale: str = "en") -> int:
    """A console account (password PASSWORD) on a new SAMPLE caseworker row; its id."""
    with database.transaction() as session:
        caseworker = people.add_caseworker(session, f"{username.title()} SAMPLE", "UZ")
        accounts.set_account(session, caseworker, username=username, role=role,
                             password_hash=passwords.hash_password(PASSWORD), team=team, locale=locale,
                             time_zone="Asia/Tashkent", actor="test")
        return caseworker.id
