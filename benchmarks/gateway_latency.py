"""Gateway latency: webhook-to-reply over loopback with the real engine, beside the same messages
sent straight to the engine's REST channel, in one run. Prints figures (`make bench-gateway`).

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

from bot.engine.services import running_services  # noqa: E402
from bot.fakes.serving import ServerThread, free_port  # noqa: E402
from bot.fakes.telegram_api import FakeTelegram  # noqa: E402
from bot.settings import Settings, get_settings  # noqa: E402

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

    async def handle(self, request):  # type: ignore[no-untyped-def]
        response = await super().handle(request)
        with self.arrived:
            self.arrived.notify_all()
        return response

    def wait_for(self, chat_id: int, count: int, timeout: float = 30) -> None:
        with self.arrived:
            self.arrived.wait_for(lambda: len([m for m in self.sent() if int(m["chat_id"]) == chat_id]) >= count,
                                  timeout)


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
    warm = slice(min(10, rounds // 5), None)
    gateway, direct = gateway[warm], direct[warm]
    print(f"gateway latency benchmark: {len(gateway)} messages after warm-up, real engine, fake Telegram API")
    for name, values in (("webhook to reply (gateway)", gateway), ("engine REST channel directly", direct)):
        print(f"  {name:30} p50 {percentile(values, 0.5):7.1f} ms   p95 {percentile(values, 0.95):7.1f} ms")
    print(f"  gateway overhead                p50 {percentile(gateway, 0.5) - percentile(direct, 0.5):7.1f} ms   "
          f"p95 {percentile(gateway, 0.95) - percentile(direct, 0.95):7.1f} ms   "
          f"(ratio of medians {statistics.median(gateway) / statistics.median(direct):.2f})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    asyncio.run(run(parser.parse_args().rounds))
