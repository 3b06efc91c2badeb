"""The real engine: its API needs the token, its log holds no message text, and a conversation
survives a restart (the tracker store is the app's database)."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest

from bot.engine.client import EngineClient
from bot.engine.model import ensure_model
from bot.engine.services import start_engine
from bot.fakes.serving import free_port

from .conftest import Services

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(
    "method, path",
    [("GET", "/conversations/someone/tracker"), ("POST", "/conversations/someone/trigger_intent"),
     ("DELETE", "/model"), ("GET", "/status"), ("POST", "/model/parse")],
)
@pytest.mark.parametrize("token", [None, "guess"])
def test_the_engine_api_refuses_requests_without_its_token(
    services: Services, method: str, path: str, token: str | None
) -> None:
    params = {"token": token} if token is not None else {}
    response = httpx.request(method, f"{services.settings.engine_url}{path}", params=params, json={"name": "greet"})
    assert response.status_code == 401
    assert services.parse("salom")  # the model is still loaded


def test_the_app_reads_a_tracker_with_the_token(services: Services) -> None:
    token = services.settings.for_serving().engine_token
    response = httpx.get(f"{services.settings.engine_url}/conversations/someone/tracker", params={"token": token})
    assert response.status_code == 200


def test_the_engine_log_holds_no_message_text(services: Services) -> None:
    marker = f"zebra{uuid.uuid4().hex[:10]}"
    assert services.send(uuid.uuid4().hex, f"salom {marker} qalaysiz", channel="telegram", hint="uz")
    log = services.settings.models_dir.parent / "logs" / "engine.log"
    assert log.exists()
    assert marker not in log.read_text(encoding="utf-8", errors="replace")


def test_a_conversation_survives_an_engine_restart(services: Services, tmp_path: Path) -> None:
    conversation = uuid.uuid4().hex
    services.send(conversation, "salom", channel="sms", hint="ky")  # a new conversation takes the hint
    settings = services.settings.for_serving().model_copy(update={"engine_url": f"http://127.0.0.1:{free_port()}"})
    fresh = start_engine(settings, ensure_model(settings), tmp_path / "engine.log")  # knows nothing in memory
    try:
        asyncio.run(_wait_until_ready(settings.engine_url, settings.engine_token, fresh))
        tracker = httpx.get(f"{settings.engine_url}/conversations/{conversation}/tracker",
                            params={"token": settings.engine_token}).json()
    finally:
        fresh.terminate()
        fresh.wait(timeout=30)
    assert tracker["slots"]["language"] == "ky"
    assert tracker["slots"]["channel"] == "sms"
    assert "salom" in [event.get("text") for event in tracker["events"] if event["event"] == "user"]


async def _wait_until_ready(url: str, token: str, process: subprocess.Popen) -> None:
    async with EngineClient(url, token) as client:
        while not await client.is_ready():
            assert process.poll() is None, "the second engine exited"
            await asyncio.sleep(0.5)
