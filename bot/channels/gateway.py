"""The channel gateway: every inbound message is recorded first, then handled by a pool of workers.

Each sender's messages are handled one at a time, in arrival order; different senders at once
(at most `inbound_concurrency` per process), so a slow engine call, a retry or a provider's 429
for one person delays only that person. What one message gets is decided by the inbound chain
(`bot/channels/inbound.py`); the gateway keeps its replies in the row, then sends them.

A message's life, each step its own short transaction, the claim renewed while it is held:

    pending ─claim→ processing ─the chain answered, replies kept→ sending ─before each provider
            call→ delivering ─accepted→ sending … → done

- Engine down, an empty answer from the engine (Rasa answers `[]` when processing failed or no
  model is loaded), a network or provider failure: pending again with backoff, for as long as
  the message is worth answering (`inbound_answer_within_hours`), then `expired`. Kept replies
  are sent on the retry without asking the engine again. A new webhook never touches a message
  waiting for its retry.
- Shutdown (`stop`): no new claims; what is held gets `inbound_shutdown_seconds` to finish, then
  goes back to pending for the next process.
- A process that died stops renewing its claims; after `inbound_lease_seconds` another takes
  them over: processing and sending go back to pending (kept replies are not asked for again);
  delivering (a provider call may have gone out) is checked with the provider: Twilio's log
  tells, Telegram cannot, so the message becomes `uncertain` and is not sent again rather than
  risk a duplicate.
- Several processes on one database claim with conditional UPDATEs (`bot/repositories/inbound.py`).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy.exc import IntegrityError, OperationalError

from bot.channels.inbound import InboundChain
from bot.db.models import InboundMessage, utcnow
from bot.db.session import Database
from bot.engine.client import EngineClient, EngineError
from bot.repositories import identities, inbound
from bot.responses.catalog import Catalog
from bot.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Inbound:
    """What a webhook received: who, which provider message, and its text (kind: text, button, unsupported)."""

    channel: str
    address: str
    provider_id: str
    kind: str
    text: str = ""
    #: The language the person's app reports (Telegram's language_code), if one of ours.
    language: str | None = None


class Delivery(enum.Enum):
    """What a channel did with a message."""

    SENT = "sent"
    RETRY = "retry"  # a transient failure (network, provider overloaded): try again later
    UNREACHABLE = "unreachable"  # e.g. the person blocked the bot
    OPTED_OUT = "opted_out"  # the provider says the person unsubscribed
    FAILED = "failed"  # the provider refused it for good


class Sender(Protocol):
    """Delivers replies on one channel."""

    async def send(self, identity_id: int, address: str, text: str, buttons: list[dict[str, Any]]) -> Delivery: ...

    async def delivered_since(
        self, address: str, text: str, buttons: list[dict[str, Any]], since: datetime
    ) -> bool | None:
        """Whether the provider shows this message sent to `address` since `since` (None: it cannot tell)."""

    async def close(self) -> None:
        """Close the provider's HTTP session."""


async def close_connections(engine: EngineClient, senders: dict[str, Sender]) -> None:
    """Close the HTTP sessions to the engine and to the providers."""
    await engine.http.aclose()
    for sender in senders.values():
        await sender.close()


#: Failures worth retrying: the engine, or the database for a moment (locked, connection lost).
TRANSIENT = (EngineError, OperationalError)
OUTCOMES = {
    Delivery.UNREACHABLE: "unreachable: the person blocked the bot",
    Delivery.OPTED_OUT: "the provider says the person unsubscribed",
    Delivery.FAILED: "the provider refused the reply",
}


class LostClaim(Exception):
    """Another process took the message over (this one stopped renewing its claim in time)."""


def _where(error: BaseException) -> str:
    """The error's class and the code line it came from (never its message, which may hold personal data)."""
    frame = error.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    place = f" at {frame.tb_frame.f_code.co_filename}:{frame.tb_lineno}" if frame is not None else ""
    return f"{error.__class__.__name__}{place}"


class Gateway:
    """Records inbound messages and handles them: each sender's in order, different senders at once."""

    def __init__(
        self, database: Database, engine: EngineClient, senders: dict[str, Sender], catalog: Catalog,
        settings: Settings, clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.database = database
        self.engine = engine
        self.senders = senders
        self.catalog = catalog
        self.settings = settings
        self.clock = clock
        self.chain = InboundChain(database, engine, catalog, settings)
        self.owner = f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._wake = asyncio.Event()
        self._workers: dict[asyncio.Task[None], int] = {}  # task → the message it handles
        self._pump: asyncio.Task[None] | None = None
        self._stopping = False

    def record(self, message: Inbound) -> bool:
        """Store the message; False if this provider id was seen before (a retry)."""
        try:
            with self.database.transaction() as session:
                inbound.add(session, message.channel, message.provider_id, message.address, message.kind,
                            message.text, message.language)
        except IntegrityError:
            return False
        return True

    def wake(self) -> None:
        """Look for work now (a message was recorded)."""
        self._wake.set()

    # Running and stopping -----------------------------------------------------------------------

    def start(self) -> None:
        """Start claiming and handling messages in the background (until `stop`)."""
        self._stopping = False
        self._pump = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        """Take no new work; let what is held finish for a while, then give the rest back."""
        self._stopping = True
        self._wake.set()
        if self._pump is not None:
            await self._pump
        if self._workers:
            _, unfinished = await asyncio.wait(list(self._workers), timeout=self.settings.inbound_shutdown_seconds)
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)
        released = await asyncio.to_thread(self._release_held)
        logger.info("inbound queue stopped: %d messages given back for the next process", released)

    async def run(self) -> None:
        """Claim due messages while there is room, renew the claims held, take over abandoned ones."""
        lease = self.settings.inbound_lease_seconds
        renewed = recovered = time.monotonic()
        first = True
        while not self._stopping:
            self._wake.clear()
            try:
                now = time.monotonic()
                if now - renewed >= lease / 3:
                    await asyncio.to_thread(self._renew)
                    renewed = now
                if first or now - recovered >= lease / 3:
                    await self.recover()
                    recovered, first = now, False
                room = self.settings.inbound_concurrency - len(self._workers)
                if room > 0:
                    for message in await asyncio.to_thread(self._claim, room):
                        self._start_worker(message)
            except OperationalError as error:
                logger.warning("inbound queue: database unavailable (%s), trying again", _where(error))
            except Exception as error:  # a bug: logged, and the queue goes on
                logger.error("inbound queue: %s", _where(error))
            try:
                await asyncio.wait_for(self._wake.wait(), self.settings.inbound_poll_seconds)
            except TimeoutError:
                pass

    def _start_worker(self, message: InboundMessage) -> None:
        task = asyncio.get_running_loop().create_task(self._handle(message))
        self._workers[task] = message.id
        task.add_done_callback(self._worker_done)

    def _worker_done(self, task: asyncio.Task[None]) -> None:
        message_id = self._workers.pop(task, None)
        error = None if task.cancelled() else task.exception()
        if error is not None:  # e.g. the database was gone when recording a retry: the lease runs out
            logger.error("inbound message %s left claimed: %s", message_id, _where(error))
        self._wake.set()  # room for one more, and maybe this sender's next message

    # Handling one message -----------------------------------------------------------------------

    async def _handle(self, message: InboundMessage) -> None:
        try:
            if message.received_at < self.clock() - timedelta(hours=self.settings.inbound_answer_within_hours):
                await asyncio.to_thread(self._finish, message.id, "expired", "not answered in time")
                return
            replies = message.replies
            if replies is None:
                answered = await self.chain.handle(message)
                replies = [{"text": reply.text, "buttons": reply.buttons} for reply in answered]
                await asyncio.to_thread(self._keep_replies, message.id, replies)
            await self._send(message, replies)
        except TRANSIENT as error:
            reason = str(error) if isinstance(error, EngineError) else _where(error)
            logger.warning("inbound message %s will be retried: %s", message.id, reason)
            await asyncio.to_thread(self._retry_later, message.id, reason)
        except LostClaim:
            logger.warning("inbound message %s was taken over by another process", message.id)
        except Exception as error:  # a bug: the person's later messages must not wait behind it
            logger.error("inbound message %s failed: %s", message.id, _where(error))
            await asyncio.to_thread(self._finish, message.id, "failed", _where(error))

    async def _send(self, message: InboundMessage, replies: list[dict[str, Any]]) -> None:
        """Send the replies not yet accepted, recording each provider answer before the next."""
        sender = self.senders[message.channel]
        identity_id = await asyncio.to_thread(self._identity_id, message.channel, message.address)
        for index in range(message.parts_sent, len(replies)):
            reply = replies[index]
            await asyncio.to_thread(self._mark_delivering, message.id)
            delivery = await sender.send(identity_id, message.address, reply["text"], reply["buttons"])
            if delivery is Delivery.RETRY:
                await asyncio.to_thread(self._retry_later, message.id, "the channel failed for now")
                return
            if delivery is not Delivery.SENT:
                await asyncio.to_thread(self._finish, message.id, "failed", OUTCOMES[delivery])
                return
            await asyncio.to_thread(self._part_sent, message.id)

    # Recovering ---------------------------------------------------------------------------------

    async def recover(self) -> int:
        """Take over messages whose process stopped renewing its claim; return how many."""
        now = self.clock()
        before = now - timedelta(seconds=self.settings.inbound_lease_seconds)
        taken = await asyncio.to_thread(self._take_stale, before, now)
        for message, last_claim in taken:
            if message.status != "delivering" or not message.replies:
                await asyncio.to_thread(self._release, message.id)
                continue
            reply: dict[str, Any] = message.replies[message.parts_sent]
            sender = self.senders.get(message.channel)
            arrived = None if sender is None else await sender.delivered_since(
                message.address, reply["text"], reply["buttons"], last_claim)
            await asyncio.to_thread(self._settle_delivering, message.id, arrived)
        if taken:
            logger.warning("inbound queue: took over %d messages of a process that stopped", len(taken))
        return len(taken)

    # State changes, each its own transaction ------------------------------------------------------

    def _mine(self, session: Any, message_id: int) -> InboundMessage:
        message = inbound.get(session, message_id)
        if message.claimed_by != self.owner:
            raise LostClaim
        return message

    def _claim(self, room: int) -> list[InboundMessage]:
        with self.database.transaction() as session:
            return inbound.claim(session, self.owner, self.clock(), room)

    def _renew(self) -> None:
        held = list(self._workers.values())
        if held:
            with self.database.transaction() as session:
                inbound.renew(session, self.owner, held, self.clock())

    def _take_stale(self, before: datetime, now: datetime) -> list[tuple[InboundMessage, datetime]]:
        with self.database.transaction() as session:
            return inbound.take_stale(session, self.owner, before, now)

    def _release_held(self) -> int:
        with self.database.transaction() as session:
            return inbound.release_held(session, self.owner)

    def _release(self, message_id: int) -> None:
        with self.database.transaction() as session:
            inbound.release(self._mine(session, message_id))

    def _identity_id(self, channel: str, address: str) -> int:
        with self.database.transaction() as session:
            return identities.identity_for(session, channel, address).id

    def _keep_replies(self, message_id: int, replies: list[dict[str, Any]]) -> None:
        with self.database.transaction() as session:
            message = self._mine(session, message_id)
            inbound.keep_replies(message, replies)
            if not replies:  # e.g. after STOP nothing is answered
                inbound.finish(message, "done", self.clock())

    def _mark_delivering(self, message_id: int) -> None:
        """From here a provider call may be in flight."""
        with self.database.transaction() as session:
            message = self._mine(session, message_id)
            message.status, message.claimed_at = "delivering", self.clock()

    def _part_sent(self, message_id: int) -> None:
        with self.database.transaction() as session:
            message = self._mine(session, message_id)
            message.parts_sent += 1
            message.status = "sending"
            if message.parts_sent >= len(message.replies or []):
                inbound.finish(message, "done", self.clock())

    def _retry_later(self, message_id: int, error: str) -> None:
        now = self.clock()
        with self.database.transaction() as session:
            message = self._mine(session, message_id)
            if message.received_at < now - timedelta(hours=self.settings.inbound_answer_within_hours):
                logger.warning("inbound message %s expired unanswered", message_id)
                inbound.finish(message, "expired", now, f"not answered in time; last error: {error}")
                return
            first, longest = self.settings.inbound_retry_seconds, self.settings.inbound_retry_max_seconds
            pause = min(first * 2 ** max(message.attempts - 1, 0), longest) * random.uniform(1.0, 1.2)
            inbound.defer(message, now + timedelta(seconds=pause), error)

    def _settle_delivering(self, message_id: int, arrived: bool | None) -> None:
        """After a takeover: the provider's log says whether the part in flight arrived (None: it cannot tell)."""
        now = self.clock()
        with self.database.transaction() as session:
            message = self._mine(session, message_id)
            if arrived is None:
                logger.warning("inbound message %s is uncertain: its process stopped while sending", message_id)
                inbound.finish(message, "uncertain", now,
                               f"the process stopped while sending and {message.channel} cannot tell whether "
                               "it arrived: not sent again, to avoid a duplicate")
                return
            message.parts_sent += int(arrived)
            if message.parts_sent >= len(message.replies or []):
                inbound.finish(message, "done", now, "confirmed in the provider's log after the process stopped")
            else:
                inbound.release(message)

    def _finish(self, message_id: int, status: str, note: str) -> None:
        with self.database.transaction() as session:
            inbound.finish(self._mine(session, message_id), status, self.clock(), note)
