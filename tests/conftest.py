"""Shared fixtures: the app's web server on a loopback port, and real databases."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from bot.db.session import Database
from bot.fakes.serving import ServerThread, free_port
from bot.settings import Settings
from bot.web.app import create_app

from .admin_harness import admin_cli  # noqa: F401 (a fixture for the caseworker CLI tests)
from .channel_harness import harness  # noqa: F401 (a fixture for the channel tests)
from .console_harness import console_site  # noqa: F401 (a fixture for the console tests)

INTERNAL_TOKEN = "internal-test-token"


@pytest.fixture(scope="session")
def app_url() -> Iterator[str]:
    """Base URL of the app server's internal listener (actions and replies), running in a thread.
    Requests need the header X-Hamroh-Token: INTERNAL_TOKEN."""
    port, internal_port = free_port(), free_port()
    settings = Settings(app_port=port, internal_port=internal_port, internal_token=INTERNAL_TOKEN)
    with ServerThread(create_app(settings), port, internal_port):
        yield settings.internal_url


POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_database() -> Iterator[Database]:
    """A throw-away PostgreSQL database, or a visible skip when no server is running."""
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        connection = admin.connect()
    except OperationalError:
        admin.dispose()
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432: PostgreSQL variant skipped")
    name = f"hamroh_test_{uuid.uuid4().hex[:12]}"
    with connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database = Database(POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}")
    try:
        database.upgrade()
        yield database
    finally:
        database.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database: a SQLite file, and PostgreSQL when it is running."""
    if request.param == "postgres":
        yield from _postgres_database()
        return
    database = Database(f"sqlite:///{tmp_path / 'hamroh.db'}")
    database.upgrade()
    yield database
    database.dispose()
