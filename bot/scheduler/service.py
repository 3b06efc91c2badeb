"""APScheduler (3.11) runs the dispatcher tick and the recurring flows, with its jobs kept in the
app's database (a persistent job store): a monthly run missed while the app was down runs once
when it is back.

Jobs are stored as references to the functions below, so they hold no state; the running
dispatcher is registered here when the app starts.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import runtime
from bot.db.models import utcnow
from bot.repositories import outbox, privacy
from bot.scheduler.dispatcher import Dispatcher
from bot.settings import Settings, get_settings

logger = logging.getLogger(__name__)
MONTHLY_GRACE_SECONDS = 20 * 24 * 3600  # a missed monthly run still happens within the month
_dispatchers: list[Dispatcher] = []


async def dispatch() -> None:
    """Scheduler job: send what is due."""
    for dispatcher in _dispatchers:
        report = await dispatcher.tick()
        if report.sent or report.failed or report.uncertain:
            logger.info("dispatch: %s sent, %s skipped, %s waiting, %s retried, %s failed, %s uncertain",
                        report.sent, report.skipped, report.waiting, report.retried, report.failed, report.uncertain)


def plan_monthly() -> int:
    """Scheduler job: plan this month's recurring flows (once per person and month)."""
    now = utcnow()
    month_start = datetime(now.year, now.month, 1, tzinfo=timezone.utc)
    with runtime.database().transaction() as session:
        planned = outbox.plan_monthly(session, runtime.flow_library().current(), month_start, now)
    logger.info("monthly flows planned for %s people", planned)
    return planned


def prune_messages() -> dict[str, int]:
    """Scheduler job: remove message texts older than the retention period (app and engine)."""
    settings = get_settings()
    with runtime.database().transaction() as session, privacy.tracker_session(session, settings) as tracker:
        counts = privacy.prune_messages(session, tracker, utcnow(), settings.message_retention_days)
    logger.info("retention: %s", counts)
    return counts


async def prune_messages_job() -> None:
    """Scheduler job wrapper: pruning runs in a worker thread."""
    await asyncio.to_thread(prune_messages)


async def plan_monthly_job() -> None:
    """Scheduler job wrapper: the planning runs in a worker thread."""
    await asyncio.to_thread(plan_monthly)


def start_scheduler(settings: Settings, dispatcher: Dispatcher) -> AsyncIOScheduler:
    """Start the scheduler in the running event loop with the persistent job store."""
    _dispatchers[:] = [dispatcher]
    store = SQLAlchemyJobStore(url=settings.database_url, tablename="scheduler_jobs")
    scheduler = AsyncIOScheduler(jobstores={"default": store}, timezone=timezone.utc,
                                 job_defaults={"coalesce": True, "max_instances": 1})
    scheduler.start(paused=True)
    # The tick's interval may change with the settings; the monthly job keeps its stored next run.
    scheduler.add_job("bot.scheduler.service:dispatch", "interval", seconds=settings.dispatch_every_seconds,
                      id="dispatch", replace_existing=True, misfire_grace_time=None)
    if scheduler.get_job("plan_monthly") is None:
        scheduler.add_job("bot.scheduler.service:plan_monthly_job", "cron", day=1, hour=0, minute=5,
                          id="plan_monthly", misfire_grace_time=MONTHLY_GRACE_SECONDS)
    scheduler.add_job("bot.scheduler.service:prune_messages_job", "cron", hour=2, minute=30, id="prune_messages",
                      replace_existing=True, misfire_grace_time=24 * 3600)
    scheduler.resume()
    return scheduler


def stop_scheduler(scheduler: AsyncIOScheduler) -> None:
    """Stop running jobs (their next runs stay in the job store)."""
    scheduler.shutdown(wait=False)
    _dispatchers.clear()
