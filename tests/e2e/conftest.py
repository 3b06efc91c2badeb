"""End-to-end fixtures: the real app server and the real engine on loopback ports."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from bot.engine.client import EngineClient
from bot.engine.services import running_services
from bot.settings import Settings

from ..conftest import free_port


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
        return self.run(self.client.send(conversation, text, metadata))  # type: ignore[no-any-return]

    def parse(self, text: str) -> dict[str, Any]:
        assert self.client is not None
        return self.run(self.client.parse(text))  # type: ignore[no-any-return]

    def env(self) -> dict[str, str]:
        """Environment for a `hamroh` subprocess that should use these services."""
        return dict(
            os.environ,
            HAMROH_ENGINE_URL=self.settings.engine_url,
            HAMROH_APP_PORT=str(self.settings.app_port),
        )

    def hamroh(self, *args: str, stdin: str) -> str:
        result = subprocess.run(
            [sys.executable, "-m", "bot", *args], input=stdin, capture_output=True, text=True,
            env=self.env(), timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    settings = Settings(engine_url=f"http://127.0.0.1:{free_port()}", app_port=free_port())
    running = Services(settings)
    running.start()
    yield running
    running.stop()
