"""The channel test harness: the app server with both channels, a fake Telegram Bot API, a fake
Twilio API and a fake engine, all real HTTP servers on loopback, and a real SQLite database."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bot.console.app import create_console
from bot.db.models import InboundMessage
from bot.db.session import Database
from bot.fakes.engine_api import FakeEngine
from bot.fakes.serving import ServerThread, free_port
from bot.fakes.telegram_api import FakeTelegram
from bot.fakes.twilio_api import FakeTwilio
from bot.repositories.inbound import UNFINISHED
from bot.responses.catalog import Catalog
from bot.settings import Settings
from bot.web.app import build_channels, create_app

SECRET = "webhook-secret"
AUTH_TOKEN = "twilio-auth-token"
CATALOG = Catalog.load("uz")
TEXT_ONLY = CATALOG.render("utter_text_only", "uz").text


@dataclass
class Harness:
    url: str
    database: Database
    telegram: FakeTelegram
    twilio: FakeTwilio
    engine: FakeEngine

    def telegram_update(self, update: dict[str, Any], secret: str | None = SECRET) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        return httpx.post(f"{self.url}/telegram/webhook", json=update, headers=headers)

    def sms(self, params: dict[str, str], sign: bool = True, path: str = "/twilio/sms") -> httpx.Response:
        url = f"{self.url}{path}"
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if sign:
            headers["X-Twilio-Signature"] = RequestValidator(AUTH_TOKEN).compute_signature(url, params)
        return httpx.post(url, content=urlencode(params), headers=headers)

    def settle(self) -> None:
        """Wait until no inbound message is unfinished (processing runs after the webhook answered)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with self.database.transaction() as session:
                pending = session.scalars(select(InboundMessage).where(InboundMessage.status.in_(UNFINISHED))).all()
            if not pending and not self.engine.down:
                time.sleep(0.2)
                return
            if self.engine.down:
                time.sleep(0.5)
                return
            time.sleep(0.05)
        raise AssertionError("messages still pending")


@pytest.fixture(params=[False])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    telegram, twilio, engine = FakeTelegram(), FakeTwilio(), FakeEngine()
    with ServerThread(telegram.app) as tg, ServerThread(twilio.app) as tw, ServerThread(engine.app) as en:
        port = free_port()
        settings = Settings(
            database_url=f"sqlite:///{tmp_path / 'hamroh.db'}", secret_key="k", engine_url=en.url,
            telegram_bot_token="123456:TEST", telegram_webhook_secret=SECRET, telegram_api_base=tg.url,
            twilio_account_sid="AC" + "0" * 32, twilio_auth_token=AUTH_TOKEN, twilio_from_number="+15005550006",
            twilio_api_base=tw.url, public_base_url=f"http://127.0.0.1:{port}", app_port=port,
            telegram_polling=request.param,
        )
        database = Database(settings.database_url)
        database.upgrade()
        channels = build_channels(settings, database, CATALOG)
        assert channels is not None
        console = create_console(settings, database, senders=channels.gateway.senders, catalog=CATALOG)
        with ServerThread(create_app(settings, channels, console), port) as app:
            yield Harness(app.url, database, telegram, twilio, engine)
        database.dispose()


def message(
    update_id: int, text: str | None = "salom", user: int = 777, language_code: str | None = None, **extra: Any
) -> dict[str, Any]:
    sender: dict[str, Any] = {"id": user, "is_bot": False, "first_name": "T"}
    if language_code:
        sender["language_code"] = language_code
    body: dict[str, Any] = {"message_id": update_id, "date": 0, "chat": {"id": user, "type": "private"},
                            "from": sender, **extra}
    if text is not None:
        body["text"] = text
    return {"update_id": update_id, "message": body}


def sms(sid: str, body: str = "salom", sender: str = "+998901112233", **extra: str) -> dict[str, str]:
    return {"MessageSid": sid, "From": sender, "To": "+15005550006", "Body": body, "NumMedia": "0", **extra}
