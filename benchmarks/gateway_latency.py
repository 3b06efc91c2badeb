"""Gateway latency: webhook-to-reply over loopback with the real engine, beside the same messages
sent straight to the engine's REST channel, in one run. Prints figures (`make bench-gateway`).

Then a crowd: 50 people sending 10 messages each at once, through the gateway and straight to
the engine (each person's messages one after another, the people at once): throughput and
reply p50/p95 from the moment all were sent; then the same crowd with one person's chat
refused once by Telegram with 429 (retry after 5 s), to show that it delays only that person.
A reply through the gateway counts when its message is marked done (`finished_at`, after the
provider accepted its last part).

Telegram goes to a local fake Bot API; the app server and engine are started as for the demo.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import select  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402

from bot.db.models import InboundMessage  # noqa: E402
from bot.db.session import Database  # noqa: E402
from bot.engine.client import EngineClient  # noqa: E402
from bot.engine.services import running_services  # noqa: E402
from bot.fakes.serving import ServerThread, free_port  # noqa: E402
from bot.fakes.telegram_api import FakeTelegram  # noqa: E402
from bot.repositories.inbound import UNFINISHED  # noqa: E402
from bot.settings import Settings, get_settings  # noqa: E402

os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
PEOPLE, EACH = 50, 10

MESSAGES = ["/greet", "salom", "kurslar bormi", "спасибо", "/help", "rahmat"]
SECRET = "bench-secret"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class WatchedTelegram(FakeTelegram):
    """The fake Bot API, with a way to wait for the next message to one chat."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived = threading.Condition()
        self.throttle_once: set[int] = set()  # chats whose next message gets 429, retry after 5 s

    async def handle(self, request: Request) -> JSONResponse:
        if request.path_params["method"] == "sendMessage" and self.throttle_once:
            chat = int(str((await request.form())["chat_id"]))
            if chat in self.throttle_once:
                self.throttle_once.discard(chat)
                return JSONResponse({"ok": False, "error_code": 429, "description": "Too Many Requests",
                                     "parameters": {"retry_after": 5}}, status_code=429)
        response = await super().handle(request)
        with self.arrived:
            self.arrived.notify_all()
        return response

    def wait_for(self, chat_id: int, count: int, timeout: float = 30) -> None:
        with self.arrived:
            self.arrived.wait_for(lambda: len([m for m in self.sent() if int(m["chat_id"]) == chat_id]) >= count,
                                  timeout)


async def crowd_direct(engine: EngineClient, run: int) -> tuple[float, list[float]]:
    """The crowd straight to the engine: throughput (messages/s) and each reply's time since the start."""
    started = time.perf_counter()
    replied: list[float] = []

    async def person(number: int) -> None:
        for seq in range(EACH):
            await engine.send(f"crowd{run}-{number}", MESSAGES[seq % len(MESSAGES)],
                              {"channel": "telegram", "language_hint": "uz"})
            replied.append(time.perf_counter() - started)

    await asyncio.gather(*(person(number) for number in range(PEOPLE)))
    return PEOPLE * EACH / max(replied), replied


async def crowd_gateway(http: httpx.AsyncClient, settings: Settings, database: Database,
                        run: int) -> tuple[float, list[float], dict[int, list[float]]]:
    """The crowd through the webhook: throughput, each reply's time since the start, and per chat."""
    first_update = run * 100_000
    chats = [str(9000 + run * 100 + number) for number in range(PEOPLE)]
    started = time.time()

    async def person(number: int) -> None:
        chat = 9000 + run * 100 + number
        for seq in range(EACH):
            update = {"update_id": first_update + number * EACH + seq, "message": {
                "message_id": seq, "date": 0, "chat": {"id": chat, "type": "private"},
                "from": {"id": chat, "is_bot": False, "first_name": "B"}, "text": MESSAGES[seq % len(MESSAGES)]}}
            await http.post(f"{settings.app_url}/telegram/webhook", json=update,
                            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})

    await asyncio.gather(*(person(number) for number in range(PEOPLE)))
    while True:
        with database.transaction() as session:
            query = (select(InboundMessage.address, InboundMessage.status, InboundMessage.finished_at)
                     .where(InboundMessage.channel == "telegram", InboundMessage.address.in_(chats)))
            rows = session.execute(query).all()
        if len(rows) == PEOPLE * EACH and all(status not in UNFINISHED for _, status, _ in rows):
            break
        await asyncio.sleep(0.2)
    per_chat: dict[int, list[float]] = {}
    for address, _, finished in rows:
        per_chat.setdefault(int(address), []).append(finished.timestamp() - started if finished else 1e9)
    replied = [seconds for times in per_chat.values() for seconds in times]
    return PEOPLE * EACH / max(replied), replied, per_chat


def figures(values: list[float]) -> str:
    return f"p50 {percentile(values, 0.5):6.2f} s   p95 {percentile(values, 0.95):6.2f} s"


async def run(rounds: int) -> None:
    telegram = WatchedTelegram()
    with ServerThread(telegram.app) as fake, tempfile.TemporaryDirectory() as tmp:
        app_port = free_port()
        os.environ.update(
            HAMROH_DATABASE_URL=f"sqlite:///{tmp}/bench.db", HAMROH_SECRET_KEY="bench",
            HAMROH_TELEGRAM_BOT_TOKEN="123456:BENCH", HAMROH_TELEGRAM_WEBHOOK_SECRET=SECRET,
            HAMROH_TELEGRAM_API_BASE=fake.url, HAMROH_PUBLIC_BASE_URL=f"http://127.0.0.1:{app_port}",
        )
        get_settings.cache_clear()
        settings = Settings(engine_url=f"http://127.0.0.1:{free_port()}", app_port=app_port,
                            internal_port=free_port())
        async with running_services(settings, progress=lambda m: print(m, file=sys.stderr)) as engine:
            async with httpx.AsyncClient(timeout=30) as http:
                gateway, direct = [], []
                for number in range(rounds):
                    text = MESSAGES[number % len(MESSAGES)]
                    chat = 5000 + number % 20
                    before = len([m for m in telegram.sent() if int(m["chat_id"]) == chat])
                    update = {"update_id": number + 1, "message": {
                        "message_id": number, "date": 0, "chat": {"id": chat, "type": "private"},
                        "from": {"id": chat, "is_bot": False, "first_name": "B"}, "text": text}}
                    started = time.perf_counter()
                    await http.post(f"{settings.app_url}/telegram/webhook", json=update,
                                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
                    await asyncio.to_thread(telegram.wait_for, chat, before + 1)
                    gateway.append((time.perf_counter() - started) * 1000)
                    started = time.perf_counter()
                    await engine.send(f"direct-{chat}", text, {"channel": "telegram", "language_hint": "uz"})
                    direct.append((time.perf_counter() - started) * 1000)
                database = Database(os.environ["HAMROH_DATABASE_URL"])
                crowd = [await crowd_direct(engine, 1), await crowd_gateway(http, settings, database, 2)]
                telegram.throttle_once = {9000 + 3 * 100}
                throttled = await crowd_gateway(http, settings, database, 3)
                database.dispose()
    warm = slice(min(10, rounds // 5), None)
    gateway, direct = gateway[warm], direct[warm]
    print(f"gateway latency benchmark: {len(gateway)} messages after warm-up, real engine, fake Telegram API")
    for name, values in (("webhook to reply (gateway)", gateway), ("engine REST channel directly", direct)):
        print(f"  {name:30} p50 {percentile(values, 0.5):7.1f} ms   p95 {percentile(values, 0.95):7.1f} ms")
    print(f"  gateway overhead                p50 {percentile(gateway, 0.5) - percentile(direct, 0.5):7.1f} ms   "
          f"p95 {percentile(gateway, 0.95) - percentile(direct, 0.95):7.1f} ms   "
          f"(ratio of medians {statistics.median(gateway) / statistics.median(direct):.2f})")
    (direct_rate, direct_times), (gateway_rate, gateway_times, _) = crowd
    print(f"crowd: {PEOPLE} people sending {EACH} messages each at once ({PEOPLE * EACH} messages), real engine")
    print(f"  engine REST channel directly   {direct_rate:6.1f} msg/s   reply {figures(direct_times)}")
    print(f"  through the gateway            {gateway_rate:6.1f} msg/s   reply {figures(gateway_times)}   "
          f"({100 * gateway_rate / direct_rate:.0f}% of the engine's own throughput)")
    rate, _, per_chat = throttled
    refused = per_chat.pop(9300)
    others = [seconds for times in per_chat.values() for seconds in times]
    print(f"  one chat refused with 429 (retry after 5 s): {rate:6.1f} msg/s; the other {PEOPLE - 1} people "
          f"reply {figures(others)}; that person's replies {min(refused):.2f}-{max(refused):.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    asyncio.run(run(parser.parse_args().rounds))
