"""Production refuses to start without its secrets (naming them, never showing a value); elsewhere
local ones are generated; `hamroh serve` really listens twice."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bot.cli import main
from bot.fakes.serving import ServerThread, free_port
from bot.fakes.telegram_api import FakeTelegram
from bot.settings import REPO_ROOT, Settings, SettingsError, get_settings

ALL = dict(
    secret_key="s3cret-key-value", internal_token="internal-value", engine_token="engine-value",
    public_base_url="https://hamroh.example", telegram_bot_token="123:T", telegram_webhook_secret="tg-value",
    twilio_account_sid="AC1", twilio_auth_token="twilio-value",
)


@pytest.mark.parametrize(
    "unset, missing",
    [
        ([], None),
        (["secret_key"], "HAMROH_SECRET_KEY"),
        (["internal_token", "engine_token"], "HAMROH_INTERNAL_TOKEN, HAMROH_ENGINE_TOKEN"),
        (["public_base_url"], "HAMROH_PUBLIC_BASE_URL"),
        (["telegram_webhook_secret"], "HAMROH_TELEGRAM_WEBHOOK_SECRET"),
        (["twilio_auth_token"], "HAMROH_TWILIO_AUTH_TOKEN"),
        (["telegram_webhook_secret", "telegram_bot_token"], None),  # no Telegram, no secret needed
    ],
)
def test_production_names_every_missing_secret_and_no_value(unset: list[str], missing: str | None) -> None:
    settings = Settings(env="production", **{**ALL, **{name: "" for name in unset}})
    if missing is None:
        assert settings.for_serving() is settings
        return
    with pytest.raises(SettingsError) as refused:
        settings.for_serving()
    assert str(refused.value) == f"production needs {missing} (set in the environment)"
    assert not any(value in str(refused.value) for value in ALL.values() if value)


def test_production_needs_https_in_front() -> None:
    with pytest.raises(SettingsError, match="https://"):
        Settings(env="production", **{**ALL, "public_base_url": "http://hamroh.example"}).for_serving()


def test_outside_production_local_secrets_are_generated_once_and_kept() -> None:
    first, second = Settings().for_serving(), Settings().for_serving()
    for name in ("internal_token", "engine_token", "telegram_webhook_secret"):
        assert len(getattr(first, name)) == 64 and getattr(first, name) == getattr(second, name)
    assert len({first.internal_token, first.engine_token, first.telegram_webhook_secret}) == 3
    assert (REPO_ROOT / "var" / "internal.token").stat().st_mode & 0o077 == 0
    assert Settings(internal_token="given").for_serving().internal_token == "given"


def test_the_two_ports_must_differ() -> None:
    with pytest.raises(SettingsError, match="must differ"):
        Settings(app_port=5055, internal_port=5055).for_serving()


def hamroh(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env}, cwd=REPO_ROOT)


def test_serve_in_production_refuses_to_start(tmp_path: Path) -> None:
    result = hamroh("serve", env={"HAMROH_ENV": "production", "HAMROH_DATABASE_URL": f"sqlite:///{tmp_path}/h.db",
                                  "HAMROH_TWILIO_ACCOUNT_SID": "AC1", "HAMROH_SECRET_KEY": "not-shown-anywhere"})
    assert result.returncode == 1
    assert result.stderr.strip() == ("hamroh: production needs HAMROH_INTERNAL_TOKEN, HAMROH_ENGINE_TOKEN, "
                                     "HAMROH_PUBLIC_BASE_URL, HAMROH_TWILIO_AUTH_TOKEN (set in the environment)")


def test_the_engine_refuses_to_start_without_its_tokens() -> None:
    python = Settings().engine_venv / "bin" / "python"
    env = {key: value for key, value in os.environ.items() if not key.startswith("HAMROH_")}
    result = subprocess.run([str(python), str(REPO_ROOT / "engine" / "serve_engine.py"), "run"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "HAMROH_ENGINE_TOKEN, HAMROH_INTERNAL_TOKEN" in result.stderr


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`hamroh serve` in a child process (no channel configured): its public and internal URLs."""
    public, internal = free_port(), free_port()
    env = {**os.environ, "HAMROH_APP_PORT": str(public), "HAMROH_INTERNAL_PORT": str(internal),
           "HAMROH_INTERNAL_TOKEN": "serve-test-token", "HAMROH_DATABASE_URL": f"sqlite:///{tmp_path}/h.db",
           "HAMROH_DISPATCH_ENABLED": "false", "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=env, cwd=REPO_ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    urls = (f"http://127.0.0.1:{public}", f"http://127.0.0.1:{internal}")
    try:
        deadline = time.monotonic() + 120
        while not _answers(f"{urls[0]}/health"):
            assert process.poll() is None and time.monotonic() < deadline, "hamroh serve did not start"
            time.sleep(0.2)
        yield urls
    finally:
        process.terminate()
        process.wait(timeout=30)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url).status_code == 200
    except httpx.HTTPError:
        return False


def test_serve_listens_twice(served: tuple[str, str]) -> None:
    public, internal = served
    reply = {"response": "utter_thanks", "tracker": {"slots": {"language": "kk"}}}
    token = {"X-Hamroh-Token": "serve-test-token"}
    assert httpx.get(f"{public}/health").status_code == 200
    assert httpx.post(f"{public}/nlg", json=reply, headers=token).status_code == 404
    assert httpx.post(f"{public}/webhook", json=reply, headers=token).status_code == 404
    assert httpx.post(f"{internal}/nlg", json=reply).status_code == 403
    assert httpx.post(f"{internal}/nlg", json=reply, headers=token).status_code == 200
    assert httpx.post(f"{internal}/telegram/webhook", json={}, headers=token).status_code == 404


def test_register_sends_the_generated_secret_serve_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeTelegram()
    with ServerThread(fake.app) as server:
        monkeypatch.delenv("HAMROH_TELEGRAM_WEBHOOK_SECRET", raising=False)
        for key, value in {"HAMROH_TELEGRAM_BOT_TOKEN": "123456:TEST", "HAMROH_PUBLIC_BASE_URL": "https://h.example",
                           "HAMROH_TELEGRAM_API_BASE": server.url}.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        assert main(["telegram", "register"]) == 0
        serving = get_settings().for_serving()
    get_settings.cache_clear()
    sent = fake.sent("setWebhook")[0]["secret_token"]
    assert len(sent) == 64 and sent == serving.telegram_webhook_secret
