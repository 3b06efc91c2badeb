"""What an attacker and an operator found, each as a request in and a status and effect out.

Real HTTP on loopback (both listeners of the app), a real database (SQLite, and PostgreSQL when it
is running), fake Telegram, Twilio and engine APIs. The engine is down, so every accepted message
stays in `inbound_messages` exactly as the webhook recorded it.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import pytest
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bot import runtime
from bot.db.models import Handoff, InboundMessage, OutboundMessage
from bot.db.session import Database
from bot.fakes.engine_api import FakeEngine
from bot.fakes.serving import ServerThread, free_port
from bot.fakes.telegram_api import FakeTelegram
from bot.fakes.twilio_api import FakeTwilio
from bot.repositories import identities
from bot.responses.catalog import Catalog
from bot.settings import Settings
from bot.web.app import build_channels, create_app

SECRET = "telegram-secret"
AUTH_TOKEN = "twilio-auth-token"
INTERNAL = "internal-token"
PHONE = "+998901112233"
WORDS = "Maxfiy gap"  # what a person wrote: must never reach a log
CATALOG = Catalog.load("uz")


@dataclass
class Harness:
    url: str
    internal_url: str
    database: Database
    port: int

    def raw(self, request: bytes, internal: bool = False) -> int:
        """Send bytes as they are (headers httpx would refuse to send); return the status code."""
        port = urlsplit(self.internal_url if internal else self.url).port
        with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
            connection.sendall(request)
            answer = b""
            while b"\r\n" not in answer and (chunk := connection.recv(4096)):
                answer += chunk
        return int(answer.split(b" ", 2)[1])

    def telegram(self, update: Any, secret: str | None = SECRET) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        return httpx.post(f"{self.url}/telegram/webhook", json=update, headers=headers)

    def twilio(self, params: dict[str, str], signed_for: str | None = None, path: str = "/twilio/sms",
               headers: dict[str, str] | None = None, key: str = AUTH_TOKEN) -> httpx.Response:
        """POST a form signed for the URL `signed_for` (default: where it is sent)."""
        url = f"{self.url}{path}"
        signature = RequestValidator(key).compute_signature(signed_for or url, params)
        all_headers = {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature,
                       **(headers or {})}
        return httpx.post(url, content=urlencode(params), headers=all_headers)

    def action(self, name: str, token: str | None, internal: bool = True) -> httpx.Response:
        tracker = {"sender_id": "pseudonym", "slots": {}, "latest_message": {}, "events": []}
        body = {"next_action": name, "sender_id": "pseudonym", "tracker": tracker, "domain": {}}
        headers = {"X-Hamroh-Token": token} if token is not None else {}
        return httpx.post(f"{self.internal_url if internal else self.url}/webhook", json=body, headers=headers)

    def recorded(self) -> list[tuple[str, str, str, str]]:
        with self.database.transaction() as session:
            rows = session.scalars(select(InboundMessage).order_by(InboundMessage.id))
            return [(row.channel, row.provider_id, row.address, row.text) for row in rows]

    def handoffs(self) -> int:
        with self.database.transaction() as session:
            return len(session.scalars(select(Handoff)).all())


@pytest.fixture
def serve(database: Database, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """Start the app with both channels and `overrides` of the settings; the actions use `database`.
    The fake engine is down (messages stay pending) unless `engine_up`."""
    monkeypatch.setattr(runtime, "database", lambda: database)
    telegram, twilio, engine = FakeTelegram(), FakeTwilio(), FakeEngine()
    with ServerThread(telegram.app) as tg, ServerThread(twilio.app) as tw, ServerThread(engine.app) as en:

        @contextmanager
        def start(engine_up: bool = False, **overrides: Any) -> Iterator[Harness]:
            engine.down = not engine_up
            port, internal_port = free_port(), free_port()
            values = dict(
                database_url=database.url, secret_key="k", engine_url=en.url, app_port=port,
                internal_port=internal_port, internal_token=INTERNAL, dispatch_enabled=False,
                telegram_bot_token="123456:TEST", telegram_webhook_secret=SECRET, telegram_api_base=tg.url,
                twilio_account_sid="AC" + "0" * 32, twilio_auth_token=AUTH_TOKEN,
                twilio_from_number="+15005550006", twilio_api_base=tw.url, public_base_url="",
            )
            settings = Settings(**{**values, **overrides})
            app = create_app(settings, build_channels(settings, database, CATALOG))
            with ServerThread(app, port, internal_port) as server:
                yield Harness(server.url, settings.internal_url, database, port)

        yield start


def message(update_id: int, text: str = WORDS, user: int = 777, **extra: Any) -> dict[str, Any]:
    return {"update_id": update_id, "message": {
        "message_id": update_id, "date": 0, "chat": {"id": user, "type": "private"}, "text": text,
        "from": {"id": user, "is_bot": False, "first_name": "T"}, **extra}}


def press(update_id: int, data: str) -> dict[str, Any]:
    return {"update_id": update_id, "callback_query": {
        "id": "cb", "chat_instance": "c", "data": data, "from": {"id": 777, "is_bot": False, "first_name": "T"}}}


def sms(sid: str = "SM" + "1" * 32, body: str = WORDS, sender: str = PHONE) -> dict[str, str]:
    return {"MessageSid": sid, "From": sender, "To": "+15005550006", "Body": body, "NumMedia": "0"}


def declared(path: str, length: str, token: str = INTERNAL) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Hamroh-Token: {token}\r\n"
            f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\nContent-Length: {length}\r\n\r\n").encode()


def streamed(path: str, size: int) -> bytes:
    """A chunked body of `size` bytes (no Content-Length), sent without waiting."""
    chunk = b"a" * 8192
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(size // len(chunk)))
    return declared(path, "0").replace(b"Content-Length: 0", b"Transfer-Encoding: chunked") + chunks


NOTHING: list[tuple[str, str, str, str]] = []
#: (name, settings overrides, the request, status, what is recorded afterwards (inbound messages) or a check)
Case = tuple[str, dict[str, Any], Callable[[Harness], int], int, Callable[[Harness], bool]]

ATTACKS: list[Case] = [
    # 1. the action endpoint was public and unauthenticated
    ("the public listener does not serve actions", {},
     lambda h: h.action("action_crisis", None, internal=False).status_code, 404, lambda h: h.handoffs() == 0),
    ("the public listener does not serve replies", {},
     lambda h: httpx.post(f"{h.url}/nlg", json={"response": "utter_greet"}).status_code, 404, lambda h: True),
    ("an action without the token is refused", {},
     lambda h: h.action("action_crisis", None).status_code, 403, lambda h: h.handoffs() == 0),
    ("an action with a wrong token is refused", {},
     lambda h: h.action("action_crisis", "guess").status_code, 403, lambda h: h.handoffs() == 0),
    ("no internal token configured refuses every action", {"internal_token": ""},
     lambda h: h.action("action_crisis", "").status_code, 403, lambda h: h.handoffs() == 0),
    ("the engine, with the token, runs the action", {},
     lambda h: h.action("action_crisis", INTERNAL).status_code, 200, lambda h: h.handoffs() == 1),
    ("20 MB declared to /nlg is refused before it is read", {},
     lambda h: h.raw(declared("/nlg", str(20 * 2**20)), internal=True), 413, lambda h: True),
    ("a body streamed past the internal limit is cut off", {"max_internal_body_bytes": 100_000},
     lambda h: h.raw(streamed("/nlg", 200_000), internal=True), 413, lambda h: True),
    ("a body streamed past the public limit is cut off", {},
     lambda h: h.raw(streamed("/telegram/webhook", 200_000)), 413, lambda h: h.recorded() == NOTHING),
    # 3. misconfiguration failed open
    ("no public base URL: a Twilio request replayed with another Host is refused", {},
     lambda h: h.twilio(sms(), signed_for="http://evil.example/twilio/sms",
                        headers={"Host": "evil.example"}).status_code, 403, lambda h: h.recorded() == NOTHING),
    ("no public base URL: X-Forwarded-* headers are not trusted", {},
     lambda h: h.twilio(sms(), signed_for="https://evil.example/twilio/sms",
                        headers={"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}).status_code,
     403, lambda h: h.recorded() == NOTHING),
    ("no public base URL: signed for the listener's own address is accepted", {},
     lambda h: h.twilio(sms()).status_code, 200, lambda h: [r[0] for r in h.recorded()] == ["sms"]),
    ("a public base URL: signed for it is accepted", {"public_base_url": "https://hamroh.example"},
     lambda h: h.twilio(sms(), signed_for="https://hamroh.example/twilio/sms").status_code, 200,
     lambda h: [r[0] for r in h.recorded()] == ["sms"]),
    ("a public base URL: signed for the local address is refused", {"public_base_url": "https://hamroh.example"},
     lambda h: h.twilio(sms()).status_code, 403, lambda h: h.recorded() == NOTHING),
    ("no Twilio auth token: a signature made with an empty key is refused", {"twilio_auth_token": ""},
     lambda h: h.twilio(sms(), key="").status_code, 403, lambda h: h.recorded() == NOTHING),
    ("no Telegram webhook secret: an update without one is refused", {"telegram_webhook_secret": ""},
     lambda h: h.telegram(message(1), secret=None).status_code, 403, lambda h: h.recorded() == NOTHING),
    ("no Telegram webhook secret: an update with an empty one is refused", {"telegram_webhook_secret": ""},
     lambda h: h.telegram(message(1), secret="").status_code, 403, lambda h: h.recorded() == NOTHING),
    # 4. bad input got 500
    ("NUL characters in a Telegram message are dropped", {},
     lambda h: h.telegram(message(2, "sa\x00lom")).status_code, 200,
     lambda h: h.recorded() == [("telegram", "u2", "777", "salom")]),
    ("NUL characters in an SMS are dropped", {},
     lambda h: h.twilio(sms(body="sa\x00lom")).status_code, 200, lambda h: [r[3] for r in h.recorded()] == ["salom"]),
    ("a lone surrogate in a Telegram message is replaced", {},
     lambda h: httpx.post(f"{h.url}/telegram/webhook", content=json.dumps(message(3, "a\ud800b")).encode(),
                          headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}).status_code, 200,
     lambda h: [r[3] for r in h.recorded()] == ["a?b"]),
    ("a NUL in the sender is refused", {},
     lambda h: h.twilio(sms(sender="+99890\x00")).status_code, 400, lambda h: h.recorded() == NOTHING),
    ("a sender longer than its column is refused", {},
     lambda h: h.twilio(sms(sender="+" + "9" * 32)).status_code, 400, lambda h: h.recorded() == NOTHING),
    ("a MessageSid longer than its column is refused", {},
     lambda h: h.twilio(sms(sid="SM" + "0" * 63)).status_code, 400, lambda h: h.recorded() == NOTHING),
    ("a Telegram user id no account has is ignored", {},
     lambda h: h.telegram(message(4, user=10**40)).status_code, 200, lambda h: h.recorded() == NOTHING),
    ("an update id longer than its column is ignored", {},
     lambda h: h.telegram(message(10**70)).status_code, 200, lambda h: h.recorded() == NOTHING),
    ("a button id with a digit that is not ASCII is ignored", {},
     lambda h: h.telegram(press(5, "p:²")).status_code, 200, lambda h: h.recorded() == NOTHING),
    ("a button id larger than any row id is ignored", {},
     lambda h: h.telegram(press(6, "p:99999999999")).status_code, 200, lambda h: h.recorded() == NOTHING),
    ("a Content-Length of '²' is malformed", {},
     lambda h: h.raw(declared("/telegram/webhook", "²")), 400, lambda h: h.recorded() == NOTHING),
    ("JSON nested 10,000 deep is refused before it is parsed", {},
     lambda h: httpx.post(f"{h.url}/telegram/webhook", content=b"[" * 10_000 + b"]" * 10_000,
                          headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}).status_code, 400,
     lambda h: h.recorded() == NOTHING),
    ("a status callback with a NUL in the sid changes nothing", {},
     lambda h: h.twilio({"MessageSid": "SM\x00", "MessageStatus": "delivered"}, path="/twilio/status").status_code,
     204, lambda h: True),
]


@pytest.mark.parametrize("name, overrides, request_, status, effect", ATTACKS, ids=[case[0] for case in ATTACKS])
def test_attack(serve: Callable[..., Any], caplog: pytest.LogCaptureFixture, name: str, overrides: dict[str, Any],
                request_: Callable[[Harness], int], status: int, effect: Callable[[Harness], bool]) -> None:
    caplog.set_level(logging.INFO)
    with serve(**overrides) as harness:
        assert request_(harness) == status
        assert effect(harness)
    for record in caplog.records:
        assert record.exc_info is None, record.getMessage()
        assert WORDS not in record.getMessage() and PHONE not in record.getMessage()


def test_a_status_callback_with_an_overlong_error_code_changes_nothing(serve: Callable[..., Any]) -> None:
    with serve() as harness:
        with harness.database.transaction() as session:
            identity = identities.identity_for(session, "sms", PHONE)
            session.add(OutboundMessage(channel="sms", identity_id=identity.id, provider_id="SM1", status="queued"))
        params = {"MessageSid": "SM1", "MessageStatus": "failed", "ErrorCode": "3" * 17}
        assert harness.twilio(params, path="/twilio/status").status_code == 204
        with harness.database.transaction() as session:
            row = session.scalars(select(OutboundMessage)).one()
        assert (row.status, row.error_code) == ("queued", None)
        assert harness.twilio({**params, "ErrorCode": "30003"}, path="/twilio/status").status_code == 204
        with harness.database.transaction() as session:
            row = session.scalars(select(OutboundMessage)).one()
        assert (row.status, row.error_code) == ("failed", "30003")
