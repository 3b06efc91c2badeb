"""The inbound queue: no message lost, nobody waits for someone else, several processes on one
database. Real gateways and senders over loopback against the fake engine, Telegram and Twilio
APIs, on SQLite and PostgreSQL; a "process" is a Gateway with its own database connections."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from starlette.requests import Request
from starlette.responses import JSONResponse

from bot.channels.gateway import Gateway, Inbound, close_connections
from bot.channels.sms import SmsSender, make_client
from bot.channels.telegram import TelegramSender, make_bot
from bot.db.models import InboundMessage
from bot.db.session import Database
from bot.engine.client import EngineClient
from bot.fakes.engine_api import FakeEngine
from bot.fakes.serving import ServerThread
from bot.fakes.telegram_api import FakeTelegram
from bot.fakes.twilio_api import FakeTwilio
from bot.repositories.inbound import UNFINISHED
from bot.responses.catalog import Catalog
from bot.settings import Settings
from bot.web.app import build_channels, create_app

CATALOG = Catalog.load("uz")
FROM_NUMBER = "+15005550006"
PHONE = "+998901112233"


class Engine(FakeEngine):
    """Answers "re: <text>"; can answer nothing (no model loaded) or hold messages until released."""

    def __init__(self) -> None:
        super().__init__()
        self.empty = False
        self.held: set[str] = set()  # texts whose engine call waits while they are in here

    async def webhook(self, request: Request) -> JSONResponse:
        if self.down:
            return JSONResponse({"error": "down"}, status_code=503)
        body = await request.json()
        self.received.append(body)
        while body["message"] in self.held:
            await asyncio.sleep(0.02)
        if self.empty:
            return JSONResponse([])
        return JSONResponse([{"recipient_id": body["sender"], "text": f"re: {body['message']}"}])


class Telegram(FakeTelegram):
    """The fake Bot API, refusing chosen chats with 429 (retry after 1 s) until they are removed."""

    def __init__(self) -> None:
        super().__init__()
        self.throttled: set[int] = set()

    async def handle(self, request: Request) -> JSONResponse:
        if request.path_params["method"] == "sendMessage":
            form = await request.form()  # aiogram posts forms
            chat = int(str(form["chat_id"]))
            if chat in self.throttled:
                self.calls.append(("refused", {"chat_id": chat}))
                return JSONResponse({"ok": False, "error_code": 429, "description": "Too Many Requests",
                                     "parameters": {"retry_after": 1}}, status_code=429)
        return await super().handle(request)

    def texts(self, chat: int) -> list[str]:
        return [m["text"] for m in self.sent() if int(m["chat_id"]) == chat]


class Clock:
    def __init__(self) -> None:
        self.shift = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(timezone.utc) + self.shift


@dataclass
class Queue:
    database: Database
    engine: Engine
    telegram: Telegram
    twilio: FakeTwilio
    urls: dict[str, str]
    clock: Clock = field(default_factory=Clock)
    gateways: list[Gateway] = field(default_factory=list)
    databases: list[Database] = field(default_factory=list)
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def gateway(self, database: Database | None = None, **settings: Any) -> Gateway:
        """A gateway ("a process"), started; its own database connections when given."""
        database = database or self.database
        options = {"inbound_poll_seconds": 0.05, "inbound_retry_seconds": 0.05, "inbound_retry_max_seconds": 0.2,
                   **settings}
        config = Settings(database_url=database.url, secret_key="k", **options)
        sms = SmsSender(lambda: make_client("AC" + "0" * 32, "token", self.urls["twilio"]), FROM_NUMBER, database,
                        None)
        senders = {"telegram": TelegramSender(make_bot("123456:TEST", self.urls["telegram"]), database), "sms": sms}
        gateway = Gateway(database, EngineClient(self.urls["engine"]), senders, CATALOG, config, self.clock)
        gateway.start()
        self.gateways.append(gateway)
        return gateway

    def connect(self) -> Database:
        """Another connection pool to the same database (another process's)."""
        self.databases.append(Database(self.database.url))
        return self.databases[-1]

    def send(self, gateway: Gateway, chat: int | str, text: str, channel: str = "telegram") -> None:
        """What a webhook does: record, then wake the gateway."""
        assert gateway.record(Inbound(channel, str(chat), f"p{next(self.ids)}", "text", text))
        gateway.wake()

    def rows(self) -> list[InboundMessage]:
        with self.database.transaction() as session:
            return list(session.scalars(select(InboundMessage).order_by(InboundMessage.id)))

    def statuses(self) -> list[str]:
        return [row.status for row in self.rows()]


async def until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Wait for `condition` (fails only if it never comes)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"never happened: {what}")
        await asyncio.sleep(0.02)


@pytest.fixture
def fakes() -> Iterator[tuple[Engine, Telegram, FakeTwilio, dict[str, str]]]:
    engine, telegram, twilio = Engine(), Telegram(), FakeTwilio()
    with ServerThread(engine.app) as en, ServerThread(telegram.app) as tg, ServerThread(twilio.app) as tw:
        yield engine, telegram, twilio, {"engine": en.url, "telegram": tg.url, "twilio": tw.url}


@pytest.fixture
async def queue(database: Database, fakes: tuple[Engine, Telegram, FakeTwilio, dict[str, str]]) -> AsyncIterator[Queue]:
    engine, telegram, twilio, urls = fakes
    made = Queue(database, engine, telegram, twilio, urls)
    yield made
    for gateway in made.gateways:
        await gateway.stop()
        await close_connections(gateway.engine, gateway.senders)
    for database in made.databases:
        database.dispose()


async def test_an_empty_answer_from_the_engine_is_retried_never_taken_as_the_answer(queue: Queue) -> None:
    gateway = queue.gateway()
    queue.engine.empty = True  # as Rasa with no model, or when a component raised
    queue.send(gateway, 501, "salom")
    await until(lambda: len(queue.engine.received) >= 3, "three attempts")
    [row] = queue.rows()
    assert row.status in ("pending", "processing") and row.last_error == "the engine answered nothing"
    assert queue.telegram.sent() == []
    queue.engine.empty = False
    await until(lambda: queue.statuses() == ["done"], "the answer")
    assert queue.telegram.texts(501) == ["re: salom"]


async def test_one_persons_slow_engine_call_delays_only_that_person(queue: Queue) -> None:
    gateway = queue.gateway()
    queue.engine.held = {"slow"}
    queue.send(gateway, 601, "slow")
    queue.send(gateway, 601, "after slow")
    await until(lambda: len(queue.engine.received) == 1, "the slow call to begin")
    for chat in range(602, 612):
        queue.send(gateway, chat, f"hello {chat}")
    await until(lambda: all(queue.telegram.texts(chat) == [f"re: hello {chat}"] for chat in range(602, 612)),
                "the others answered while one call is slow")
    assert queue.telegram.texts(601) == []
    assert "after slow" not in [body["message"] for body in queue.engine.received]  # one at a time, in order
    queue.engine.held = set()
    await until(lambda: queue.telegram.texts(601) == ["re: slow", "re: after slow"], "the slow person, in order")


async def test_a_429_for_one_chat_delays_only_that_chat(queue: Queue) -> None:
    gateway = queue.gateway()
    queue.telegram.throttled = {701}
    queue.send(gateway, 701, "first")
    queue.send(gateway, 701, "second")
    await until(lambda: len(queue.telegram.sent("refused")) >= 1, "the 429")
    for chat in range(702, 712):
        queue.send(gateway, chat, f"hi {chat}")
    await until(lambda: all(queue.telegram.texts(chat) == [f"re: hi {chat}"] for chat in range(702, 712)),
                "the other chats answered during the 429s")
    assert queue.telegram.texts(701) == []
    queue.telegram.throttled = set()
    await until(lambda: queue.telegram.texts(701) == ["re: first", "re: second"], "the throttled chat, in order")
    assert [body["message"] for body in queue.engine.received].count("first") == 1  # the kept reply was resent


async def test_an_engine_outage_loses_nothing_and_webhooks_do_not_spend_attempts(queue: Queue) -> None:
    gateway = queue.gateway(inbound_retry_seconds=3600, inbound_retry_max_seconds=3600)
    queue.engine.down = True
    queue.send(gateway, 801, "m0")
    await until(lambda: queue.rows()[0].status == "pending" and queue.rows()[0].attempts == 1, "the first failure")
    for number in range(1, 20):  # twenty webhooks while the first message waits for its retry
        queue.send(gateway, 800 + number % 4, f"m{number}")
    await until(lambda: sum(row.attempts for row in queue.rows()) == 4, "one attempt for each person's first")
    await asyncio.sleep(0.3)  # the webhooks' wake-ups have been handled
    rows = queue.rows()
    assert rows[0].attempts == 1 and sum(row.attempts for row in rows) == 4
    assert set(queue.statuses()) == {"pending"}
    queue.engine.down = False
    queue.clock.shift = timedelta(hours=23)  # the retries are due; still worth answering
    await until(lambda: set(queue.statuses()) == {"done"}, "every message answered")
    assert queue.telegram.texts(801) == ["re: m0"] + [f"re: m{n}" for n in range(1, 20) if n % 4 == 1]
    for chat in (800, 802, 803):
        assert queue.telegram.texts(chat) == [f"re: m{n}" for n in range(1, 20) if 800 + n % 4 == chat]
    assert len(queue.telegram.sent()) == 20


async def test_a_message_is_retried_until_it_is_no_longer_worth_answering(queue: Queue) -> None:
    gateway = queue.gateway(inbound_answer_within_hours=24)
    queue.engine.down = True
    queue.send(gateway, 851, "hello")
    await until(lambda: queue.rows()[0].attempts >= 3, "retries")
    assert queue.statuses() != ["expired"]
    queue.clock.shift = timedelta(hours=25)
    await until(lambda: queue.statuses() == ["expired"], "expired after a day")
    assert queue.telegram.sent() == []


async def test_two_processes_on_one_database_answer_each_message_once_in_order(queue: Queue) -> None:
    first, second = queue.gateway(), queue.gateway(queue.connect())
    for number in range(100):
        queue.send(first if number % 2 else second, 900 + number % 10, f"n{number}")
    await until(lambda: set(queue.statuses()) == {"done"}, "every message answered")
    with queue.database.transaction() as session:
        handled_by = set(session.scalars(select(InboundMessage.claimed_by)))
    assert handled_by == {None}  # finished messages hold no claim
    for chat in range(900, 910):
        assert queue.telegram.texts(chat) == [f"re: n{n}" for n in range(100) if n % 10 == chat - 900]
    assert sorted(body["message"] for body in queue.engine.received) == sorted(f"n{n}" for n in range(100))


async def test_stop_gives_back_what_it_holds_and_the_next_process_answers_it(queue: Queue) -> None:
    gateway = queue.gateway(inbound_shutdown_seconds=0.1)
    queue.engine.held = {f"q{n}" for n in range(5)}
    for number in range(5):
        queue.send(gateway, 950 + number, f"q{number}")
    queue.send(gateway, 950, "later")
    await until(lambda: len(queue.engine.received) == 5, "five engine calls in flight")
    await gateway.stop()
    queue.gateways.remove(gateway)
    assert queue.statuses() == ["pending"] * 6
    assert all(row.claimed_by is None for row in queue.rows())
    queue.engine.held = set()
    queue.gateway()
    await until(lambda: set(queue.statuses()) == {"done"}, "answered by the next process")
    assert queue.telegram.texts(950) == ["re: q0", "re: later"]
    assert all(queue.telegram.texts(950 + n)[:1] == [f"re: q{n}"] for n in range(5))
    assert len(queue.telegram.sent()) == 6


def _crashed(database: Database, message_id: int, **values: Any) -> None:
    """Leave a message as a process that was killed would: claimed long ago by someone else."""
    long_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    with database.transaction() as session:
        session.execute(update(InboundMessage).where(InboundMessage.id == message_id)
                        .values(claimed_by="dead:1:x", claimed_at=long_ago, **values))


async def test_a_killed_processs_messages_are_taken_over_without_duplicates(queue: Queue) -> None:
    gateway = queue.gateway(inbound_lease_seconds=30)
    await gateway.stop()  # recorded, not yet handled
    queue.gateways.clear()
    two_parts = [{"text": "part one", "buttons": []}, {"text": "part two", "buttons": []}]
    queue.send(gateway, 1001, "asked")  # processing: the engine may not have answered: asked again
    queue.send(gateway, 1002, "kept")  # sending, one part accepted: only the second part goes
    queue.send(gateway, 1003, "unknown")  # delivering on Telegram: nobody can tell: uncertain
    queue.send(gateway, PHONE, "arrived", "sms")  # delivering by SMS, in Twilio's log: done
    queue.send(gateway, "+998900000000", "lost", "sms")  # delivering by SMS, not in the log: sent
    sms_reply = [{"text": "sms answer", "buttons": []}]
    _crashed(queue.database, 1, status="processing")
    _crashed(queue.database, 2, status="sending", replies=two_parts, parts_sent=1)
    _crashed(queue.database, 3, status="delivering", replies=two_parts, parts_sent=0)
    _crashed(queue.database, 4, status="delivering", replies=sms_reply, parts_sent=0)
    _crashed(queue.database, 5, status="delivering", replies=sms_reply, parts_sent=0)
    queue.twilio.accepted.append({"sid": "SM1", "to": PHONE, "from": FROM_NUMBER, "body": "sms answer",
                                  "status": "sent", "date_created": "Mon, 01 Jan 2035 00:00:00 +0000"})
    queue.gateway(inbound_lease_seconds=30)
    await until(lambda: not set(queue.statuses()) & set(UNFINISHED), "the takeover")
    assert queue.statuses() == ["done", "done", "uncertain", "done", "done"]
    assert [body["message"] for body in queue.engine.received] == ["asked"]
    assert queue.telegram.texts(1001) == ["re: asked"]
    assert queue.telegram.texts(1002) == ["part two"]
    assert queue.telegram.texts(1003) == []
    assert [m["To"] for m in queue.twilio.messages] == ["+998900000000"]


def test_the_app_server_gives_back_what_it_holds_when_it_shuts_down(
        tmp_path: Any, fakes: tuple[Engine, Telegram, FakeTwilio, dict[str, str]]) -> None:
    """What SIGTERM does to `hamroh serve`: uvicorn's graceful shutdown runs the lifespan's end."""
    engine, telegram, _, urls = fakes
    database = Database(f"sqlite:///{tmp_path / 'app.db'}")
    database.upgrade()
    settings = Settings(database_url=database.url, secret_key="k", engine_url=urls["engine"],
                        telegram_bot_token="123456:TEST", telegram_webhook_secret="s",
                        telegram_api_base=urls["telegram"], dispatch_enabled=False, inbound_shutdown_seconds=0.1)
    engine.held = {"held"}
    with ServerThread(create_app(settings, build_channels(settings, database, CATALOG))) as app:
        update = {"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"},
                                              "from": {"id": 5, "is_bot": False, "first_name": "T"}, "text": "held"}}
        assert httpx.post(f"{app.url}/telegram/webhook", json=update,
                          headers={"X-Telegram-Bot-Api-Secret-Token": "s"}).status_code == 200
        deadline = time.monotonic() + 30
        while not engine.received and time.monotonic() < deadline:
            time.sleep(0.02)
        assert engine.received
    with database.transaction() as session:
        row = session.scalars(select(InboundMessage)).one()
    assert (row.status, row.claimed_by, row.attempts) == ("pending", None, 1)
    assert telegram.sent() == []
    database.dispose()
