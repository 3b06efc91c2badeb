"""Start the engine and the app server as child processes when none is running.

The engine gets the internal listener's URL and token (for actions and replies), its own API
token (`engine/serve_engine.py` passes it to `rasa run --auth-token` without putting it in the
process list), the tracker store's URL, and logs warnings only: its INFO and DEBUG lines can
hold what people wrote.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import urlparse

import httpx

from bot.engine.client import EngineClient, EngineError
from bot.engine.model import ENGINE_DIR, engine_environment, ensure_model
from bot.settings import Settings


async def _app_is_up(settings: Settings) -> bool:
    async with httpx.AsyncClient(timeout=2.0) as http:
        try:
            return (await http.get(f"{settings.app_url}/health")).status_code == 200
        except httpx.HTTPError:
            return False


async def _wait_until(
    check: Callable[[], Awaitable[bool]], process: subprocess.Popen, what: str, timeout: float
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if process.poll() is not None:
            raise EngineError(f"{what} exited with code {process.returncode}")
        if asyncio.get_running_loop().time() > deadline:
            raise EngineError(f"{what} did not start within {timeout:.0f} s")
        await asyncio.sleep(0.5)


def start_app_server(settings: Settings, log: Path) -> subprocess.Popen:
    """Start `hamroh serve` (both listeners) in the background."""
    env = dict(os.environ, HAMROH_APP_HOST=settings.app_host, HAMROH_APP_PORT=str(settings.app_port),
               HAMROH_INTERNAL_HOST=settings.internal_host, HAMROH_INTERNAL_PORT=str(settings.internal_port),
               HAMROH_INTERNAL_TOKEN=settings.internal_token, HAMROH_ENGINE_TOKEN=settings.engine_token,
               HAMROH_ENGINE_URL=settings.engine_url)
    with log.open("w") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"], env=env, stdout=output, stderr=output
        )


def start_engine(settings: Settings, model: Path, log: Path) -> subprocess.Popen:
    """Start the engine's HTTP server with `model` on loopback, calling the app's internal listener.

    `settings` must come from `Settings.for_serving()` (the tokens set)."""
    port = urlparse(settings.engine_url).port or 5005
    env = engine_environment()
    env.update(HAMROH_APP_URL=settings.internal_url, HAMROH_INTERNAL_TOKEN=settings.internal_token,
               HAMROH_ENGINE_TOKEN=settings.engine_token, HAMROH_TRACKER_STORE_URL=settings.engine_tracker_store_url)
    command = [
        str(settings.engine_venv / "bin" / "python"), str(ENGINE_DIR / "serve_engine.py"), "run", "--enable-api",
        "--model", str(model), "--endpoints", "endpoints.yml",
        "--credentials", "credentials.yml", "--interface", "127.0.0.1",
        "--port", str(port), "--quiet",
    ]
    with log.open("w") as output:
        return subprocess.Popen(command, cwd=ENGINE_DIR, env=env, stdout=output, stderr=output)


def _quiet(message: str) -> None:
    """Progress reporter that says nothing."""


@asynccontextmanager
async def running_services(
    settings: Settings, progress: Callable[[str], None] = _quiet
) -> AsyncIterator[EngineClient]:
    """Yield a client for a ready engine, starting the app server and engine if needed.

    In production a missing secret is refused (SettingsError) before anything starts."""
    settings = settings.for_serving()
    started: list[subprocess.Popen] = []
    log_dir = settings.models_dir.parent / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    client = EngineClient(settings.engine_url, settings.engine_token)
    try:
        if not await _app_is_up(settings):
            progress("starting the app server …")
            app = start_app_server(settings, log_dir / "app.log")
            started.append(app)
            await _wait_until(lambda: _app_is_up(settings), app, "the app server", 120)  # imports: 20 s when busy
        if not await client.is_ready():
            progress("preparing the engine's model (training takes about a minute when the data changed) …")
            model = await asyncio.to_thread(ensure_model, settings)
            progress("starting the engine (loading takes up to a minute) …")
            engine = start_engine(settings, model, log_dir / "engine.log")
            started.append(engine)
            await _wait_until(client.is_ready, engine, "the engine", settings.engine_start_timeout)
        yield client
    finally:
        await client.http.aclose()
        for process in reversed(started):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
