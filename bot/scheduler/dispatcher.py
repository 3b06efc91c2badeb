"""The dispatcher: due flow messages go out through the engine and the channel senders.

A message is sent by triggering the intent `flow_message` in the person's conversation (so that a
reply such as "1" continues it), then delivering the engine's messages with the channel's sender.

Crash safety: every state change is its own short transaction, in this order

    pending ─claim→ sending ─(the engine renders)─ before each provider call, with the engine's
            messages kept in the row→ delivering ─provider accepted→ sending … → sent

so a dispatcher killed at any moment leaves a row that says how far it got. Once its claim is
older than the lease, a `sending` row (no provider call in flight) is resumed where it stopped:
the engine's messages (if it got that far) and the parts already accepted are in the row. A `delivering` row (a provider
call may have been in flight) is checked with the provider: Twilio's message log says whether it
arrived; Telegram cannot tell, so the row becomes `uncertain` rather than risk a duplicate.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.channels.gateway import Delivery, Sender
from bot.channels.rate_limit import PerAddressLimits, sending
from bot.db.models import ChannelIdentity, utcnow
from bot.db.session import Database
from bot.engine.client import EngineClient, EngineError
from bot.flows.model import Flow
from bot.repositories import identities, outbox
from bot.scheduler.eligibility import Target, decide
from bot.settings import Settings

logger = logging.getLogger(__name__)
FLOW_INTENT = "flow_message"
OUTCOMES = {
    Delivery.UNREACHABLE: ("failed", "unreachable: the person blocked the bot"),
    Delivery.OPTED_OUT: ("skipped", "the provider says the person unsubscribed"),
    Delivery.FAILED: ("failed", "the provider refused the message"),
}


@dataclass(frozen=True)
class Job:
    """A claimed row: where it goes, and how far an earlier attempt got."""

    outbox_id: int
    target: Target
    rendered: list[dict[str, Any]] | None
    parts_sent: int


@dataclass
class TickReport:
    """What one dispatcher run did (counts of rows)."""

    sent: int = 0
    skipped: int = 0
    waiting: int = 0
    retried: int = 0
    failed: int = 0
    recovered: int = 0
    uncertain: int = 0


class Dispatcher:
    """Claims due outbox rows and delivers them; one instance per process."""

    def __init__(
        self, database: Database, engine: EngineClient, senders: dict[str, Sender], settings: Settings,
        flows: Callable[[], dict[str, Flow]], clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.database = database
        self.engine = engine
        self.senders = senders
        self.settings = settings
        self.flows = flows
        self.clock = clock
        self.chat_limits = {"telegram": PerAddressLimits(1, settings.telegram_chat_interval_seconds)}
        self._slots = asyncio.Semaphore(settings.dispatch_concurrency)
        self._lock = asyncio.Lock()

    async def tick(self) -> TickReport:
        """Recover abandoned claims, then send everything that is due (batch after batch)."""
        report = TickReport()
        async with self._lock:
            await self.recover(report)
            while True:
                jobs, examined = await asyncio.to_thread(self._claim_batch, report)
                await asyncio.gather(*(self._deliver(job, report) for job in jobs))
                if examined < self.settings.dispatch_batch:
                    return report

    # Claiming ------------------------------------------------------------------------------------

    def _claim_batch(self, report: TickReport) -> tuple[list[Job], int]:
        now = self.clock()
        flows = self.flows()
        jobs = []
        with self.database.transaction() as session:
            rows = outbox.due_for_dispatch(session, now, self.settings.dispatch_batch)
            for row in rows:
                decision = decide(session, row, flows, set(self.senders), self.settings.default_language, now)
                if decision.action == "skip":
                    outbox.set_outcome(row, "skipped", decision.note)
                    report.skipped += 1
                elif decision.action == "wait" and decision.until is not None:
                    outbox.defer(row, decision.until, decision.note)
                    report.waiting += 1
                elif decision.target is not None:
                    outbox.claim(row, decision.target.channel, now)
                    jobs.append(Job(row.id, decision.target, row.rendered, row.parts_sent))
        return jobs, len(rows)

    # Delivering ----------------------------------------------------------------------------------

    async def _deliver(self, job: Job, report: TickReport) -> None:
        async with self._slots:
            try:
                rendered = job.rendered if job.rendered is not None else await self._render(job)
                if not rendered:
                    await asyncio.to_thread(self._finish, job.outbox_id, "failed", "the engine returned no message")
                    report.failed += 1
                    return
                await self._send_parts(job, rendered, report)
            except EngineError as error:
                await asyncio.to_thread(self._retry, job.outbox_id, str(error), report)
            except Exception as error:  # a bug or an unexpected provider failure must not stop the others
                logger.exception("outbox message %s failed", job.outbox_id)
                await asyncio.to_thread(self._after_unexpected, job.outbox_id, error.__class__.__name__, report)

    async def _render(self, job: Job) -> list[dict[str, Any]]:
        """Ask the engine for the message, in the person's conversation (kept in the row when sending)."""
        entities = {"outbox_id": str(job.outbox_id), "language": job.target.language}
        messages = await self.engine.trigger_intent(job.target.conversation_id, FLOW_INTENT, entities)
        return [{"text": m.get("text") or "", "buttons": m.get("buttons") or []}
                for m in messages if m.get("text") or m.get("buttons")]

    async def _send_parts(self, job: Job, rendered: list[dict[str, Any]], report: TickReport) -> None:
        sender = self.senders[job.target.channel]
        limits = self.chat_limits.get(job.target.channel)
        for index in range(job.parts_sent, len(rendered)):
            part = rendered[index]
            async with sending(limits.limiter(job.target.address) if limits is not None else None):
                await asyncio.to_thread(self._mark_delivering, job.outbox_id, rendered)
                delivery = await sender.send(job.target.identity_id, job.target.address, part["text"],
                                             part["buttons"])
            if delivery is Delivery.RETRY:
                await asyncio.to_thread(self._retry, job.outbox_id, "the channel failed for now", report)
                return
            if delivery is not Delivery.SENT:
                status, note = OUTCOMES[delivery]
                await asyncio.to_thread(self._finish, job.outbox_id, status, note)
                report.failed += status == "failed"
                report.skipped += status == "skipped"
                return
            await asyncio.to_thread(self._part_sent, job.outbox_id, job.target.identity_id, rendered)
        report.sent += 1

    # Recovering ----------------------------------------------------------------------------------

    async def recover(self, report: TickReport) -> None:
        """Resume or settle rows whose dispatcher stopped (claim older than the lease)."""
        stale = await asyncio.to_thread(self._stale)
        for outbox_id, status, channel, address, rendered, parts_sent, claimed_at in stale:
            if status == "sending" or not rendered:
                await asyncio.to_thread(self._resume, outbox_id, parts_sent)
                report.recovered += 1
                continue
            sender = self.senders.get(channel or "")
            part = rendered[parts_sent]
            arrived = None if sender is None else await sender.delivered_since(
                address, part["text"], part["buttons"], claimed_at)
            if arrived is None:
                await asyncio.to_thread(
                    self._finish, outbox_id, "uncertain",
                    f"the dispatcher stopped while sending and {channel} cannot tell whether it arrived: "
                    "not sent again, to avoid a duplicate")
                report.uncertain += 1
            else:
                await asyncio.to_thread(self._resume, outbox_id, parts_sent + arrived, len(rendered))
                report.recovered += 1

    def _stale(self) -> list[tuple[int, str, str | None, str, list[dict[str, Any]] | None, int, datetime]]:
        before = self.clock() - timedelta(seconds=self.settings.dispatch_lease_seconds)
        with self.database.transaction() as session:
            found = []
            for row in outbox.stale_claims(session, before):
                address = next((identity.address for identity in identities.linked_identities(session, row.person_id)
                                if identity.channel == row.channel), "")
                found.append((row.id, row.status, row.channel, address, row.rendered, row.parts_sent,
                              row.claimed_at or before))
            return found

    # State changes (each its own transaction) ----------------------------------------------------

    def _mark_delivering(self, outbox_id: int, rendered: list[dict[str, Any]]) -> None:
        """From here a provider call may be in flight; the engine's messages are kept for a resume."""
        with self.database.transaction() as session:
            row = outbox.get_row(session, outbox_id)
            row.status = "delivering"
            if row.rendered is None:
                row.rendered = rendered

    def _part_sent(self, outbox_id: int, identity_id: int, rendered: list[dict[str, Any]]) -> None:
        with self.database.transaction() as session:
            row = outbox.get_row(session, outbox_id)
            row.parts_sent += 1
            if row.parts_sent < len(rendered):
                row.status = "sending"
                return
            row.status, row.sent_at, row.note = "sent", self.clock(), ""
            identity = session.get(ChannelIdentity, identity_id)
            buttons = rendered[-1]["buttons"]
            if identity is not None and buttons:  # so that a reply "1" means the first button
                identity.last_menu = [str(button["payload"]) for button in buttons]

    def _resume(self, outbox_id: int, parts_sent: int, total: int | None = None) -> None:
        with self.database.transaction() as session:
            row = outbox.get_row(session, outbox_id)
            row.parts_sent = parts_sent
            if total is not None and parts_sent >= total:
                outbox.set_outcome(row, "sent", "confirmed in the provider's log after the dispatcher stopped")
                row.sent_at = self.clock()
            else:
                outbox.defer(row, self.clock(), "resumed after the dispatcher stopped")

    def _retry(self, outbox_id: int, error: str, report: TickReport) -> None:
        with self.database.transaction() as session:
            row = outbox.get_row(session, outbox_id)
            if row.attempts >= self.settings.dispatch_max_attempts:
                outbox.set_outcome(row, "failed", f"gave up after {row.attempts} attempts", error)
                report.failed += 1
                return
            pause = min(self.settings.dispatch_retry_seconds * 2 ** (row.attempts - 1), 3600.0)
            outbox.defer(row, self.clock() + timedelta(seconds=pause * random.uniform(1.0, 1.2)),
                         f"will retry (attempt {row.attempts} failed)")
            row.last_error = error[:200]
            report.retried += 1

    def _after_unexpected(self, outbox_id: int, error: str, report: TickReport) -> None:
        """Retry, unless a provider call may have gone out: then recovery asks the provider, as after a crash."""
        with self.database.transaction() as session:
            row = outbox.get_row(session, outbox_id)
            if row.status == "delivering":
                row.last_error = error[:200]
                return
        self._retry(outbox_id, error, report)

    def _finish(self, outbox_id: int, status: str, note: str) -> None:
        with self.database.transaction() as session:
            outbox.set_outcome(outbox.get_row(session, outbox_id), status, note)
