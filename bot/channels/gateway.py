"""The channel gateway: every inbound message is recorded first, then processed in order.

Processing does, before the engine: opt-out and opt-in keywords, link codes, "text only"
replies to voice or photos, and numbered SMS answers; then it sends the text to the engine
(as the person's pseudonymous conversation) and delivers the replies through the channel's
sender. If the engine is down the message stays pending and is processed when it is back.
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

from bot.channels.keywords import keyword_of
from bot.channels.linking import link_code_in, redeem
from bot.channels.options import chosen_payload
from bot.db.models import ChannelIdentity, InboundMessage, Person, utcnow
from bot.db.session import Database
from bot.engine.client import EngineClient, EngineError
from bot.nlp.normalize import normalize_text
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
        self._lock = asyncio.Lock()

    def record(self, inbound: Inbound) -> bool:
        """Store the message; False if this provider id was seen before (a retry)."""
        try:
            with self.database.transaction() as session:
                session.add(InboundMessage(channel=inbound.channel, provider_id=inbound.provider_id,
                                           address=inbound.address, kind=inbound.kind, text=inbound.text))
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

    def _identity(self, channel: str, address: str) -> tuple[ChannelIdentity, str]:
        with self.database.transaction() as session:
            identity = identities.identity_for(session, channel, address)
            person = session.get(Person, identity.person_id) if identity.person_id else None
            language = (person.language if person else None) or identity.language or self.settings.default_language
            return identity, language

    def _set_opt_out(self, identity_id: int, opted_out: bool) -> None:
        with self.database.transaction() as session:
            identity = session.get(ChannelIdentity, identity_id)
            assert identity is not None
            identities.set_opted_out(session, identity, opted_out)

    def _remember(self, identity_id: int, menu: list[str] | None, language: str | None) -> None:
        with self.database.transaction() as session:
            identity = session.get(ChannelIdentity, identity_id)
            assert identity is not None
            if menu is not None:
                identity.last_menu = menu
            if language:
                identity.language = language

    async def _reply(self, identity: ChannelIdentity, name: str, language: str) -> None:
        reply = self.catalog.render(name, language, identity.channel)
        await self.senders[identity.channel].send(identity.id, identity.address, reply.text, reply.buttons)

    async def _handle(self, message: InboundMessage) -> None:
        identity, language = await asyncio.to_thread(self._identity, message.channel, message.address)
        text = normalize_text(message.text)
        found = keyword_of(text) if message.kind == "text" else None
        keyword, keyword_language = found or (None, None)
        if keyword == "opt_out":
            if not identity.opted_out:
                await asyncio.to_thread(self._set_opt_out, identity.id, True)
                await asyncio.to_thread(self._remember, identity.id, None, keyword_language)
                await self._reply(identity, "utter_opt_out", keyword_language or language)
            return
        if keyword == "opt_in":
            await asyncio.to_thread(self._set_opt_out, identity.id, False)
            identity.opted_out = False
            text = "/greet"
        if identity.opted_out:
            return  # nothing of any kind until they opt back in
        if message.kind == "unsupported":
            await self._reply(identity, "utter_text_only", language)
            return
        code = link_code_in(text) if message.kind == "text" else None
        if code is not None:
            key = self.settings.hashing_key()
            name, person_language = await asyncio.to_thread(
                redeem, self.database, key, identity.channel, identity.address, code, utcnow())
            await self._reply(identity, name, person_language or language)
            return
        if message.kind == "text" and identity.last_menu:
            buttons = [{"payload": payload} for payload in identity.last_menu]
            text = chosen_payload(text, buttons) or text
        if not text:
            return
        metadata = {"channel": identity.channel, "language_hint": language}
        replies = await self.engine.send(identity.conversation_id, text, metadata)
        menu: list[str] | None = None
        spoken: str | None = None
        for reply in replies:
            if "custom" in reply:  # the conversation's language, from the reply catalog
                spoken = (reply["custom"] or {}).get("language") or spoken
                continue
            buttons = reply.get("buttons") or []
            if buttons:
                menu = [str(button["payload"]) for button in buttons]
            await self.senders[identity.channel].send(identity.id, identity.address, reply.get("text") or "", buttons)
        await asyncio.to_thread(self._remember, identity.id, menu, spoken)
