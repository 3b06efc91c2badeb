"""End-to-end fixtures: the real app server and the real engine on loopback ports."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.db.session import Database
from bot.engine.client import EngineClient
from bot.engine.services import running_services
from bot.fakes.serving import ServerThread, free_port
from bot.fakes.telegram_api import FakeTelegram
from bot.fakes.twilio_api import FakeTwilio
from bot.repositories import identities
from bot.settings import Settings, get_settings


class Services:
    """A running app server and engine, driven from synchronous tests."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.loop = asyncio.new_event_loop()
        self.client: EngineClient | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self.loop.run_until_complete, args=(self._main(),), daemon=True)

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        try:
            async with running_services(self.settings) as client:
                self.client = client
                self._ready.set()
                await self._stop.wait()
        except BaseException as error:  # reported to the test thread
            self._error = error
            self._ready.set()

    def start(self) -> None:
        self._thread.start()
        self._ready.wait(timeout=900)
        if self._error is not None:
            raise self._error
        assert self.client is not None, "services did not start in time"

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=60)

    def run(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=120)

    def send(self, conversation: str, text: str, channel: str = "terminal", hint: str | None = None) -> list[dict]:
        assert self.client is not None
        metadata = {"channel": channel, "language_hint": hint}
        replies = self.run(self.client.send(conversation, text, metadata))
        return [reply for reply in replies if "custom" not in reply]  # the language note is not a message

    def parse(self, text: str) -> dict[str, Any]:
        assert self.client is not None
        return self.run(self.client.parse(text))  # type: ignore[no-any-return]

    @property
    def database(self) -> Database:
        """The app's database (the test process opens its own connection)."""
        return Database(get_settings().database_url)

    def conversation(self, channel: str, address: str, person_id: int | None = None) -> str:
        """The conversation id of a channel address, linked to `person_id` if given."""
        with self.database.transaction() as session:
            identity = identities.identity_for(session, channel, address)
            if person_id is not None:
                identity.person_id = person_id
            return identity.conversation_id

    def env(self) -> dict[str, str]:
        """Environment for a `hamroh` subprocess that should use these services."""
        return dict(
            os.environ,
            HAMROH_ENGINE_URL=self.settings.engine_url,
            HAMROH_APP_PORT=str(self.settings.app_port),
            HAMROH_INTERNAL_PORT=str(self.settings.internal_port),
        )

    def hamroh(self, *args: str, stdin: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
            env=self.env(), timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout


@dataclass
class Fakes:
    """The fake Telegram and Twilio APIs the app server sends to."""

    telegram: FakeTelegram
    twilio: FakeTwilio
    telegram_url: str
    twilio_url: str


@pytest.fixture(scope="session")
def fakes() -> Iterator[Fakes]:
    with fake_providers() as running:
        yield running


CHANNEL_ENV = {
    "HAMROH_TELEGRAM_BOT_TOKEN": "123456:E2E", "HAMROH_TELEGRAM_WEBHOOK_SECRET": "e2e-secret",
    "HAMROH_TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "HAMROH_TWILIO_AUTH_TOKEN": "e2e-auth",
    "HAMROH_TWILIO_FROM_NUMBER": "+15005550006",
}


@contextmanager
def started_services(database_dir: Path, fakes: Fakes) -> Iterator[Services]:
    """The app server (with a fresh SQLite database in `database_dir` holding the sample data, and
    both channels pointed at the fakes) and the engine; the environment is restored afterwards."""
    database_url = f"sqlite:///{database_dir / 'hamroh.db'}"
    app_port = free_port()
    env = {
        "HAMROH_DATABASE_URL": database_url, "HAMROH_SECRET_KEY": "e2e-test-key", **CHANNEL_ENV,
        "HAMROH_TELEGRAM_API_BASE": fakes.telegram_url, "HAMROH_TWILIO_API_BASE": fakes.twilio_url,
        "HAMROH_PUBLIC_BASE_URL": f"http://127.0.0.1:{app_port}",
        "HAMROH_DISPATCH_ENABLED": "false",  # flow tests run their own dispatcher with a controlled clock
    }
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    get_settings.cache_clear()
    settings = Settings(engine_url=f"http://127.0.0.1:{free_port()}", app_port=app_port, internal_port=free_port())
    seeded = subprocess.run([sys.executable, "-m", "bot", "admin", "seed-demo"], capture_output=True, text=True)
    assert seeded.returncode == 0, seeded.stderr
    running = Services(settings)
    running.start()
    try:
        yield running
    finally:
        running.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        get_settings.cache_clear()


@contextmanager
def fake_providers() -> Iterator[Fakes]:
    """The fake Telegram and Twilio APIs on loopback ports."""
    telegram, twilio = FakeTelegram(), FakeTwilio()
    with ServerThread(telegram.app) as tg, ServerThread(twilio.app) as tw:
        yield Fakes(telegram, twilio, tg.url, tw.url)


@pytest.fixture(scope="session")
def services(tmp_path_factory: pytest.TempPathFactory, fakes: Fakes) -> Iterator[Services]:
    """The app server and the engine, shared by every end-to-end test."""
    with started_services(tmp_path_factory.mktemp("db"), fakes) as running:
        yield running
