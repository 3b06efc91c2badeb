"""The channel gateway: every inbound message is recorded first, then processed in order.

What one message gets is decided by the inbound chain (`bot/channels/inbound.py`); the
gateway delivers the replies through the channel's sender. If the engine is down the message
stays pending and is processed when it is back.
"""

from __future__ import annotations

import asyncio
import enum
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bot.channels.inbound import InboundChain
from bot.db.models import ChannelIdentity, InboundMessage
from bot.db.session import Database
from bot.engine.client import EngineClient, EngineError
from bot.repositories import identities
from bot.responses.catalog import Catalog
from bot.settings import Settings

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 20


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


class Gateway:
    """Records inbound messages and processes them through the engine."""

    def __init__(
        self, database: Database, engine: EngineClient, senders: dict[str, Sender], catalog: Catalog, settings: Settings
    ) -> None:
        self.database = database
        self.engine = engine
        self.senders = senders
        self.catalog = catalog
        self.settings = settings
        self.chain = InboundChain(database, engine, catalog, settings)
        self._lock = asyncio.Lock()

    def record(self, inbound: Inbound) -> bool:
        """Store the message; False if this provider id was seen before (a retry)."""
        try:
            with self.database.transaction() as session:
                session.add(InboundMessage(channel=inbound.channel, provider_id=inbound.provider_id,
                                           address=inbound.address, kind=inbound.kind, text=inbound.text,
                                           language=inbound.language))
        except IntegrityError:
            return False
        return True

    async def process_pending(self) -> int:
        """Process every pending message in arrival order; stop at the first engine failure."""
        done = 0
        async with self._lock:
            while True:
                pending = await asyncio.to_thread(self._next_pending)
                if pending is None:
                    return done
                try:
                    await self._handle(pending)
                except EngineError as error:
                    logger.warning("engine unavailable, message %s stays pending: %s", pending.id, error)
                    await asyncio.to_thread(self._mark, pending.id, "pending", str(error))
                    return done
                except Exception as error:  # a bug or a provider failure must not block the queue
                    logger.exception("inbound message %s failed", pending.id)
                    await asyncio.to_thread(self._mark, pending.id, "failed", error.__class__.__name__)
                    continue
                await asyncio.to_thread(self._mark, pending.id, "done", None)
                done += 1

    def _next_pending(self) -> InboundMessage | None:
        with self.database.transaction() as session:
            query = select(InboundMessage).where(InboundMessage.status == "pending").order_by(InboundMessage.id)
            return session.scalars(query.limit(1)).first()

    def _mark(self, inbound_id: int, status: str, error: str | None) -> None:
        with self.database.transaction() as session:
            message = session.get(InboundMessage, inbound_id)
            assert message is not None
            message.attempts += 1
            message.last_error = error
            message.status = "failed" if status == "pending" and message.attempts >= MAX_ATTEMPTS else status

    async def _handle(self, message: InboundMessage) -> None:
        """Run the inbound chain for one message and send what it answers."""
        identity = await asyncio.to_thread(self._identity_of, message)
        for reply in await self.chain.handle(message):
            await self.senders[message.channel].send(identity.id, identity.address, reply.text, reply.buttons)

    def _identity_of(self, message: InboundMessage) -> ChannelIdentity:
        with self.database.transaction() as session:
            return identities.identity_for(session, message.channel, message.address)
