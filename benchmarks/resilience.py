"""Resilience: 200 messages from 20 people while (a) the engine is killed for 30 s, (b) the app gets
SIGTERM, (c) the app gets SIGKILL, at random moments. Prints, per scenario, how many messages were
answered exactly once, lost, duplicated, and whether each person's replies kept their order
(`make bench-resilience`).

The app is the real `hamroh serve` in a child process (restarted at once after each signal), on
its own SQLite database (or `--database-url`). Telegram is a local fake Bot API; the engine is a
fake REST channel answering "re: <text>" one message at a time (like one Rasa process), 40 ms
each, in this process: killing it stops its server (connections refused), and when it comes back
it first answers `[]` for 3 s, as Rasa does while no model is loaded. Webhooks are posted like
Telegram does: one person's updates in order, each repeated until the app answers 200.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.fakes.serving import ServerThread, free_port  # noqa: E402
from bot.fakes.telegram_api import FakeTelegram  # noqa: E402

SECRET = "bench-secret"
PEOPLE, PER_PERSON = 20, 10


class Engine:
    """A fake engine: one message at a time, `seconds` each; answers nothing while `empty`."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.empty_until = 0.0
        self.calls = 0
        self._lock: asyncio.Lock | None = None
        self.app = Starlette(routes=[Route("/webhooks/rest/webhook", self.webhook, methods=["POST"])])

    def restarted(self) -> None:
        """Back after a kill: answers nothing for 3 s (no model yet), and a new event loop."""
        self.empty_until = time.monotonic() + 3
        self._lock = None

    async def webhook(self, request: Request) -> JSONResponse:
        body = await request.json()
        self._lock = self._lock or asyncio.Lock()
        async with self._lock:
            await asyncio.sleep(self.seconds)
            self.calls += 1
        if time.monotonic() < self.empty_until:
            return JSONResponse([])
        return JSONResponse([{"recipient_id": body["sender"], "text": f"re: {body['message']}"}])


class App:
    """`hamroh serve` in a child process, started again after each signal."""

    def __init__(self, env: dict[str, str], url: str, log: Path) -> None:
        self.env, self.url, self.log = env, url, log
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        with self.log.open("a") as output:
            self.process = subprocess.Popen([sys.executable, "-m", "bot", "serve"], env=self.env, cwd=REPO,
                                            stdout=output, stderr=output)
        async with httpx.AsyncClient(timeout=2) as http:
            while True:
                try:
                    if (await http.get(f"{self.url}/health")).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)

    async def signal(self, number: int) -> None:
        assert self.process is not None
        self.process.send_signal(number)
        await asyncio.to_thread(self.process.wait)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait()


@dataclass
class Outcome:
    exactly_once: int
    lost: int
    duplicated: int
    people_in_order: int
    faults: int
    seconds: float
    uncertain: int


async def post_person(http: httpx.AsyncClient, url: str, person: int, rng: random.Random) -> None:
    """One person's messages, in order; each update repeated until the app accepts it (as Telegram does)."""
    chat = 7000 + person
    for seq in range(PER_PERSON):
        update = {"update_id": person * 1000 + seq, "message": {
            "message_id": seq, "date": 0, "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "B"}, "text": f"{person}:{seq}"}}
        while True:
            try:
                response = await http.post(f"{url}/telegram/webhook", json=update,
                                           headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
                if response.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
        await asyncio.sleep(rng.uniform(0.2, 1.8))


def count(telegram: FakeTelegram) -> tuple[int, int, int, int]:
    """Exactly once, lost, duplicated, people whose replies came in order."""
    replies = [(int(m["chat_id"]), m["text"]) for m in telegram.sent()]
    seen = Counter(text for _, text in replies)
    expected = [f"re: {p}:{s}" for p in range(PEOPLE) for s in range(PER_PERSON)]
    once = sum(seen[text] == 1 for text in expected)
    lost = sum(seen[text] == 0 for text in expected)
    duplicated = sum(seen[text] > 1 for text in expected)
    in_order = 0
    for person in range(PEOPLE):
        order = [int(text.rsplit(":", 1)[1]) for chat, text in replies if chat == 7000 + person]
        in_order += order == sorted(order)
    return once, lost, duplicated, in_order


def uncertain_rows(database_url: str) -> int:
    from sqlalchemy import func, select

    from bot.db.models import InboundMessage
    from bot.db.session import Database

    database = Database(database_url)
    with database.transaction() as session:
        found = session.scalar(select(func.count()).where(InboundMessage.status == "uncertain"))
    database.dispose()
    return int(found or 0)


async def scenario(name: str, database_url: str, tmp: Path, rng: random.Random, faults: int,
                   outage: float) -> Outcome:
    telegram, engine = FakeTelegram(), Engine(0.04)
    engine_port = free_port()
    with ServerThread(telegram.app) as tg:
        engine_server = ServerThread(engine.app, engine_port).__enter__()
        app_port = free_port()
        env = dict(os.environ, PYTHONPATH=str(REPO), HAMROH_DATABASE_URL=database_url, HAMROH_SECRET_KEY="bench",
                   HAMROH_TELEGRAM_BOT_TOKEN="123456:BENCH", HAMROH_TELEGRAM_WEBHOOK_SECRET=SECRET,
                   HAMROH_TELEGRAM_API_BASE=tg.url, HAMROH_PUBLIC_BASE_URL=f"http://127.0.0.1:{app_port}",
                   HAMROH_APP_PORT=str(app_port), HAMROH_ENGINE_URL=f"http://127.0.0.1:{engine_port}",
                   HAMROH_DISPATCH_ENABLED="false", HAMROH_INBOUND_LEASE_SECONDS="5")
        app = App(env, f"http://127.0.0.1:{app_port}", tmp / f"{name}.log")
        await app.start()
        started = time.monotonic()

        async def inject() -> None:
            nonlocal engine_server
            for _ in range(faults):
                await asyncio.sleep(rng.uniform(1.0, 12.0 / faults))
                if name == "engine":
                    engine_server.__exit__(None, None, None)
                    await asyncio.sleep(outage)
                    engine.restarted()
                    engine_server = ServerThread(engine.app, engine_port).__enter__()
                else:
                    await app.signal(signal.SIGTERM if name == "sigterm" else signal.SIGKILL)
                    await app.start()

        async with httpx.AsyncClient(timeout=10) as http:
            await asyncio.gather(inject(), *(post_person(http, app.url, person, rng) for person in range(PEOPLE)))
        deadline = time.monotonic() + 120
        while count(telegram)[0] + count(telegram)[2] < PEOPLE * PER_PERSON and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        seconds = time.monotonic() - started
        await asyncio.sleep(1)  # anything still on its way
        app.stop()
        engine_server.__exit__(None, None, None)
    once, lost, duplicated, in_order = count(telegram)
    return Outcome(once, lost, duplicated, in_order, faults, seconds, uncertain_rows(database_url))


async def run(database_url: str | None, seed: int, only: list[str]) -> None:
    rng = random.Random(seed)
    runs = {"engine": ("engine killed for 30 s", 1), "sigterm": ("app SIGTERM, restarted", 3),
            "sigkill": ("app SIGKILL, restarted", 3)}
    print(f"resilience benchmark: {PEOPLE * PER_PERSON} messages from {PEOPLE} people per scenario, "
          f"fake engine (40 ms a message, one at a time) and fake Telegram, `hamroh serve` in a child process")
    for name in only:
        what, faults = runs[name]
        with tempfile.TemporaryDirectory() as tmp:
            url = database_url or f"sqlite:///{tmp}/bench.db"
            if database_url:
                reset(database_url)
            outcome = await scenario(name, url, Path(tmp), rng, faults, 30.0)
        print(f"  {what:26} ({outcome.faults} at random moments): exactly once {outcome.exactly_once}/"
              f"{PEOPLE * PER_PERSON}, lost {outcome.lost}, duplicated {outcome.duplicated}, order kept for "
              f"{outcome.people_in_order}/{PEOPLE} people, marked uncertain {outcome.uncertain}, "
              f"all answered after {outcome.seconds:.1f} s", flush=True)


def reset(database_url: str) -> None:
    """Empty the inbound queue of a shared database (PostgreSQL runs)."""
    from sqlalchemy import delete

    from bot.db.models import InboundMessage
    from bot.db.session import Database

    database = Database(database_url)
    database.upgrade()
    with database.transaction() as session:
        session.execute(delete(InboundMessage))
    database.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test "
                                               "(default: a new SQLite file per scenario)")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--only", nargs="*", default=["engine", "sigterm", "sigkill"],
                        choices=["engine", "sigterm", "sigkill"])
    arguments = parser.parse_args()
    asyncio.run(run(arguments.database_url, arguments.seed, arguments.only))
