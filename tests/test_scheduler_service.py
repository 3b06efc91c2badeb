"""APScheduler runs the dispatcher tick and the monthly planning, with its jobs kept in the database."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from unittest import mock

from sqlalchemy import text

from bot.db.models import PersonKind
from bot.db.session import Database
from bot.flows.library import FlowLibrary
from bot.repositories import outbox, people
from bot.scheduler import service
from bot.settings import Settings


class CountingDispatcher:
    def __init__(self) -> None:
        self.ticks = 0

    async def tick(self) -> object:
        self.ticks += 1
        return mock.Mock(sent=0, failed=0, uncertain=0)


async def test_jobs_are_persisted_and_the_monthly_run_keeps_its_stored_time(database: Database) -> None:
    settings = Settings(database_url=database.url, dispatch_every_seconds=0.2)
    dispatcher = CountingDispatcher()
    scheduler = service.start_scheduler(settings, dispatcher)  # type: ignore[arg-type]
    await asyncio.sleep(0.7)
    monthly = scheduler.get_job("plan_monthly").next_run_time
    service.stop_scheduler(scheduler)
    assert dispatcher.ticks >= 2
    assert (monthly.day, monthly.hour, monthly.minute) == (1, 0, 5)
    with database.engine.connect() as connection:
        stored = set(connection.execute(text("SELECT id FROM scheduler_jobs")).scalars())
    assert stored == {"dispatch", "plan_monthly", "prune_messages"}
    scheduler = service.start_scheduler(settings, dispatcher)  # as if the app was down when the month began:
    scheduler.pause()  # the stored job says its run was due two days ago
    scheduler.modify_job("plan_monthly", next_run_time=datetime.now(timezone.utc) - timedelta(days=2))
    service.stop_scheduler(scheduler)
    with mock.patch.object(service, "plan_monthly_job") as planned:
        scheduler = service.start_scheduler(settings, dispatcher)  # type: ignore[arg-type]
        await asyncio.sleep(0.5)
        service.stop_scheduler(scheduler)
    assert planned.await_count == 1  # the missed run happens once, when the app is back


def test_monthly_planning_is_once_per_person_and_month_and_needs_consent(database: Database) -> None:
    flows = FlowLibrary().current()
    month = datetime(2031, 5, 1, tzinfo=timezone.utc)
    with database.transaction() as session:
        consenting = people.add_person(session, kind=PersonKind.RETURNEE, name="A", language="uz-Cyrl",
                                       time_zone="Asia/Tashkent", country="UZ", city="Namangan", consent_data=True)
        people.add_person(session, kind=PersonKind.RETURNEE, name="B", language="ru", time_zone="Asia/Almaty",
                          country="KZ", city="Almaty", consent_data=False)
        people.add_person(session, kind=PersonKind.FAMILY, name="C", language="kk", time_zone="Asia/Almaty",
                          country="KZ", city="Almaty", consent_data=True)
    with database.transaction() as session:
        assert outbox.plan_monthly(session, flows, month, month) == 1
        assert outbox.plan_monthly(session, flows, month, month) == 0
        [row] = [m for m in outbox.list_outbox(session) if m.flow == "monthly_wellbeing"]
        assert (row.person_id, row.trigger_key) == (consenting.id, "monthly:2031-05")
        assert row.due_at == datetime(2031, 5, 1, 6, 0, tzinfo=timezone.utc)  # 11:00 in Tashkent
