"""Flow scheduling and dispatch figures (`make bench-dispatch`). Prints figures; asserts nothing.

- plan:     plan 100,000 reminders (33,334 appointments x 3 steps) through the repositories.
- dispatch: 10,000 due messages to the local fake Telegram and Twilio APIs without rate limits
            (throughput, lag p50/p99 against the due time), then a smaller run with the default
            rate limits (achieved rate against the configured one, busiest one-second window).
- crash:    a 10,000-message run whose dispatcher process is killed with SIGKILL at random moments
            and restarted; counts lost and duplicated messages at the fakes.

The engine is a local fake answering trigger_intent at once, so the figures are the dispatcher's
own (the real engine's cost per message is in `make bench-gateway`).
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
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import func, insert, select  # noqa: E402

from bot.channels.gateway import close_connections  # noqa: E402
from bot.channels.rate_limit import per_second  # noqa: E402
from bot.channels.sms import SmsSender, make_client  # noqa: E402
from bot.channels.telegram import TelegramSender, make_bot  # noqa: E402
from bot.db.models import AppointmentKind, ChannelIdentity, OutboxMessage, Person, PersonKind, utcnow  # noqa: E402
from bot.db.session import Database  # noqa: E402
from bot.engine.client import EngineClient  # noqa: E402
from bot.fakes.engine_api import FakeEngine  # noqa: E402
from bot.fakes.serving import ServerThread  # noqa: E402
from bot.fakes.telegram_api import FakeTelegram  # noqa: E402
from bot.fakes.twilio_api import FakeTwilio  # noqa: E402
from bot.flows.library import FlowLibrary  # noqa: E402
from bot.flows.model import Flow, QuietHours  # noqa: E402
from bot.repositories import appointments  # noqa: E402
from bot.scheduler.dispatcher import Dispatcher, TickReport  # noqa: E402
from bot.settings import Settings  # noqa: E402

FROM_NUMBER = "+15005550006"
SID = "AC" + "0" * 32
FINAL = ("sent", "skipped", "failed", "uncertain", "cancelled")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def new_database(directory: str) -> Database:
    database = Database(f"sqlite:///{directory}/bench.db")
    database.upgrade()
    return database


def add_people(database: Database, count: int, sms_share: float) -> None:
    """`count` returnees in Tashkent, each linked on Telegram or SMS (bulk inserts)."""
    with database.transaction() as session:
        session.execute(insert(Person), [
            {"kind": PersonKind.RETURNEE, "name": f"Sample {n}", "language": ("uz", "ru", "uz-Cyrl")[n % 3],
             "time_zone": "Asia/Tashkent", "country": "UZ", "city": "Namangan"} for n in range(count)])
        ids = list(session.scalars(select(Person.id).order_by(Person.id)))
        session.execute(insert(ChannelIdentity), [
            {"channel": "sms" if n < count * sms_share else "telegram",
             "address": f"+99890{n:07d}" if n < count * sms_share else str(100000 + n),
             "conversation_id": f"bench-{n}", "person_id": person_id, "last_menu": []}
            for n, person_id in enumerate(ids)])


def add_due_messages(database: Database, due: list[datetime]) -> None:
    """One due `document_ready` message per person (the n-th person gets due[n])."""
    with database.transaction() as session:
        ids = list(session.scalars(select(Person.id).order_by(Person.id)))
        session.execute(insert(OutboxMessage), [
            {"person_id": person_id, "flow": "document_ready", "step": "ready", "trigger_key": f"document:{n}",
             "trigger_version": 1, "due_at": when, "not_before": when, "status": "pending", "note": "",
             "attempts": 0, "idempotency_key": f"bench:{n}", "parts_sent": 0}
            for n, (person_id, when) in enumerate(zip(ids, due, strict=False))])


def bench_flows() -> Callable[[], dict[str, Flow]]:
    """The shipped document flow without its condition (no documents here) and without quiet hours
    (a benchmark runs at any hour)."""
    ready = FlowLibrary().current()["document_ready"]
    step = ready.steps[0].model_copy(update={"id": "ready", "only_if": None})
    always = QuietHours.model_validate({"from": "00:00", "to": "00:00"})
    flows = {"document_ready": ready.model_copy(update={"steps": [step], "quiet_hours": always})}
    return lambda: flows


def make_dispatcher(database: Database, urls: dict[str, str], limited: bool, lease: float = 60.0) -> Dispatcher:
    settings = Settings(database_url=database.url, dispatch_lease_seconds=lease,
                        dispatch_batch=500, telegram_chat_interval_seconds=1.0 if limited else 0.001)
    telegram = TelegramSender(make_bot("123456:BENCH", urls["telegram"]), database,
                              per_second(settings.telegram_messages_per_second) if limited else None)
    sms = SmsSender(lambda: make_client(SID, "token", urls["twilio"]), FROM_NUMBER, database, None,
                    per_second(settings.sms_messages_per_second) if limited else None)
    return Dispatcher(database, EngineClient(urls["engine"]), {"telegram": telegram, "sms": sms}, settings,
                      bench_flows())


async def run_until_done(dispatcher: Dispatcher, database: Database, every: float = 0.2) -> TickReport:
    """Tick until every outbox row is final; close the dispatcher's sessions."""
    try:
        return await _ticks(dispatcher, database, every)
    finally:
        await close_connections(dispatcher.engine, dispatcher.senders)


async def _ticks(dispatcher: Dispatcher, database: Database, every: float) -> TickReport:
    total = TickReport()
    while True:
        report = await dispatcher.tick()
        for name in ("sent", "skipped", "waiting", "retried", "failed", "recovered", "uncertain"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        with database.transaction() as session:
            left = session.scalar(select(func.count()).select_from(OutboxMessage)
                                  .where(OutboxMessage.status.not_in(FINAL)))
        if not left:
            return total
        await asyncio.sleep(every)


def fakes() -> tuple[FakeTelegram, FakeTwilio, FakeEngine, list[ServerThread]]:
    telegram, twilio, engine = FakeTelegram(), FakeTwilio(), FakeEngine()
    servers = [ServerThread(telegram.app), ServerThread(twilio.app), ServerThread(engine.app)]
    for server in servers:
        server.__enter__()
    return telegram, twilio, engine, servers


def bench_plan(count: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        database = new_database(tmp)
        add_people(database, 1000, 0.5)
        with database.transaction() as session:
            people_ids = list(session.scalars(select(Person.id)))
        appointments_needed = -(-count // 3)
        start = datetime(2031, 3, 1, 6, tzinfo=timezone.utc)
        began = time.perf_counter()
        for chunk in range(0, appointments_needed, 1000):
            with database.transaction() as session:
                for n in range(chunk, min(chunk + 1000, appointments_needed)):
                    appointments.add_appointment(
                        session, "bench", person_id=people_ids[n % len(people_ids)], kind=AppointmentKind.CASEWORKER,
                        starts_at=start + timedelta(hours=n % 2000), place="Sample office")
        seconds = time.perf_counter() - began
        with database.transaction() as session:
            rows = session.scalar(select(func.count()).select_from(OutboxMessage))
    print(f"plan: {rows:,} outbox rows for {appointments_needed:,} appointments in {seconds:.1f} s "
          f"({rows / seconds:,.0f} rows/s, SQLite)")


def bench_dispatch(count: int, limited_count: int) -> None:
    telegram, twilio, engine, servers = fakes()
    urls = {"telegram": servers[0].url, "twilio": servers[1].url, "engine": servers[2].url}
    with tempfile.TemporaryDirectory() as tmp:
        database = new_database(tmp)
        add_people(database, count, 0.5)
        now = utcnow()
        add_due_messages(database, [now + timedelta(seconds=10 * n / count) for n in range(count)])

        async def unlimited() -> TickReport:
            dispatcher = make_dispatcher(database, urls, limited=False)
            return await run_until_done(dispatcher, database)

        began = time.perf_counter()
        report = asyncio.run(unlimited())
        seconds = time.perf_counter() - began
        with database.transaction() as session:
            sent = list(session.execute(select(OutboxMessage.due_at, OutboxMessage.sent_at)
                                        .where(OutboxMessage.status == "sent")))
        lags = [(sent_at - due_at).total_seconds() for due_at, sent_at in sent]
        print(f"dispatch, no rate limits: {report.sent:,} sent of {count:,} (due over 10 s) in {seconds:.1f} s "
              f"= {report.sent / seconds:,.0f} msg/s; lag after due time p50 {percentile(lags, 0.5) * 1000:.0f} ms, "
              f"p99 {percentile(lags, 0.99) * 1000:.0f} ms; failed {report.failed}")
    for fake in (telegram.calls, telegram.times, twilio.messages, twilio.times):
        fake.clear()
    with tempfile.TemporaryDirectory() as tmp:
        database = new_database(tmp)
        add_people(database, limited_count, 0.1)
        add_due_messages(database, [utcnow()] * limited_count)

        async def limited() -> TickReport:
            return await run_until_done(make_dispatcher(database, urls, limited=True), database)

        began = time.perf_counter()
        report = asyncio.run(limited())
        seconds = time.perf_counter() - began
        settings = Settings()
        for name, stamps, configured in (
            ("telegram", [t for method, t in telegram.times if method == "sendMessage"],
             settings.telegram_messages_per_second),
            ("sms", twilio.times, settings.sms_messages_per_second),
        ):
            busiest = max(sum(1 for t in stamps if start <= t < start + 1.0) for start in stamps)
            achieved = (len(stamps) - 1) / (max(stamps) - min(stamps))
            print(f"dispatch, default rate limits, {name}: {len(stamps):,} messages at {achieved:.1f} msg/s "
                  f"(configured {configured:g}/s); busiest one-second window {busiest}")
        print(f"dispatch, default rate limits: {report.sent:,} sent of {limited_count:,} in {seconds:.1f} s")
    for server in servers:
        server.__exit__(None, None, None)


def bench_crash(count: int, seed: int, kill_after: tuple[float, float]) -> None:
    rng = random.Random(seed)
    telegram, twilio, engine, servers = fakes()
    urls = {"telegram": servers[0].url, "twilio": servers[1].url, "engine": servers[2].url}
    with tempfile.TemporaryDirectory() as tmp:
        database = new_database(tmp)
        add_people(database, count, 0.5)
        add_due_messages(database, [utcnow()] * count)
        kills, began = 0, time.perf_counter()
        command = [sys.executable, __file__, "worker", "--database", database.url,
                   "--telegram", urls["telegram"], "--twilio", urls["twilio"], "--engine", urls["engine"]]
        while True:
            worker = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
            assert worker.stdout is not None
            worker.stdout.readline()  # "ready": imports done (aiogram alone takes seconds), now it dispatches
            try:
                worker.wait(timeout=rng.uniform(*kill_after))
            except subprocess.TimeoutExpired:
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait()
                kills += 1
                continue
            if worker.returncode == 0:
                break
            raise SystemExit(f"worker failed with exit code {worker.returncode}")
        seconds = time.perf_counter() - began
        with database.transaction() as session:
            statuses = Counter(session.scalars(select(OutboxMessage.status)))
            rows = {row.id: row.channel for row in session.scalars(select(OutboxMessage))}
            uncertain = set(session.scalars(select(OutboxMessage.id).where(OutboxMessage.status == "uncertain")))
    arrivals: Counter[int] = Counter()
    by_channel = {"telegram": [p["text"] for m, p in telegram.calls if m == "sendMessage"],
                  "sms": [m["Body"] for m in twilio.messages]}
    for texts in by_channel.values():
        for text in texts:
            arrivals[int(text.split()[1])] += 1
    for channel in ("telegram", "sms"):
        mine = [row_id for row_id, row_channel in rows.items() if row_channel == channel]
        lost = [row_id for row_id in mine if arrivals[row_id] == 0]
        duplicated = sum(1 for row_id in mine if arrivals[row_id] > 1)
        flagged = sum(1 for row_id in lost if row_id in uncertain)
        print(f"crash test, {channel}: {len(mine):,} messages, lost {len(lost)} ({flagged} of them marked "
              f"uncertain), duplicated {duplicated}; uncertain {len(uncertain & set(mine))}")
    print(f"crash test: {count:,} messages, {kills} SIGKILLs, {seconds:.1f} s; final statuses {dict(statuses)}")
    for server in servers:
        server.__exit__(None, None, None)


def worker(args: argparse.Namespace) -> None:
    """One dispatcher process of the crash test: dispatch until nothing is left, then exit 0."""
    database = Database(args.database)
    urls = {"telegram": args.telegram, "twilio": args.twilio, "engine": args.engine}

    async def main() -> None:
        dispatcher = make_dispatcher(database, urls, limited=False, lease=2.0)
        print("ready", flush=True)
        await run_until_done(dispatcher, database, every=0.5)

    asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", default="all", choices=["all", "plan", "dispatch", "crash", "worker"])
    parser.add_argument("--plan", type=int, default=100_000)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--limited", type=int, default=1_000, help="messages in the rate-limited run")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--kill-min", type=float, default=0.2, help="least seconds a dispatcher works before SIGKILL")
    parser.add_argument("--kill-max", type=float, default=3.0)
    parser.add_argument("--database")
    parser.add_argument("--telegram")
    parser.add_argument("--twilio")
    parser.add_argument("--engine")
    args = parser.parse_args()
    if args.what == "worker":
        worker(args)
        return
    if args.what in ("all", "plan"):
        bench_plan(args.plan)
    if args.what in ("all", "dispatch"):
        bench_dispatch(args.count, args.limited)
    if args.what in ("all", "crash"):
        bench_crash(args.count, args.seed, (args.kill_min, args.kill_max))


if __name__ == "__main__":
    main()
