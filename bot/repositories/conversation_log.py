"""One conversation as the console shows it: what the person wrote, what the bot and the flows
sent, and what caseworkers replied or noted, in order, a page at a time; and who handles it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import ChannelIdentity, ConsoleMessage, InboundMessage, OutboxMessage
from bot.repositories import audit


@dataclass(frozen=True)
class Entry:
    """One line of a conversation."""

    at: datetime
    who: str  # person, bot, flow, reply (a caseworker's), note (private)
    text: str
    status: str = ""
    author_id: int | None = None
    #: For the person's messages: what the engine understood ({intent, confidence, language}).
    understood: dict[str, Any] | None = None


def page(session: Session, identity: ChannelIdentity, before: datetime | None, size: int) -> list[Entry]:
    """The `size` latest entries before `before` (None: the newest), oldest first."""
    inbound = select(InboundMessage).where(InboundMessage.channel == identity.channel,
                                           InboundMessage.address == identity.address)
    console = select(ConsoleMessage).where(ConsoleMessage.identity_id == identity.id)
    flows = select(OutboxMessage).where(OutboxMessage.person_id == identity.person_id,
                                        OutboxMessage.channel == identity.channel, OutboxMessage.sent_at.is_not(None))
    if before is not None:
        inbound = inbound.where(InboundMessage.received_at < before)
        console = console.where(ConsoleMessage.created_at < before)
        flows = flows.where(OutboxMessage.sent_at < before)
    entries: list[Entry] = []
    for message in session.scalars(inbound.order_by(InboundMessage.received_at.desc()).limit(size)):
        entries.append(Entry(message.received_at, "person", message.text if message.kind != "unsupported"
                             else "", message.status, understood=message.understood))
        entries += [Entry(message.received_at, "bot", _text(reply)) for reply in message.replies or []]
    for row in session.scalars(console.order_by(ConsoleMessage.created_at.desc()).limit(size)):
        entries.append(Entry(row.created_at, row.kind, row.text, row.status, row.author_id))
    if identity.person_id is not None:
        for flow in session.scalars(flows.order_by(OutboxMessage.sent_at.desc()).limit(size)):
            assert flow.sent_at is not None
            entries += [Entry(flow.sent_at, "flow", _text(part)) for part in flow.rendered or []]
    entries.sort(key=lambda entry: entry.at)
    return entries[-size:]


def _text(part: dict[str, Any]) -> str:
    return str(part.get("text", ""))


def _add(session: Session, identity: ChannelIdentity, author_id: int, kind: str, text: str) -> ConsoleMessage:
    row = ConsoleMessage(identity_id=identity.id, author_id=author_id, kind=kind, text=text,
                         status="sending" if kind == "reply" else "note")
    session.add(row)
    session.flush()
    audit.record(session, f"caseworker:{author_id}", f"console_{kind}", "identity", identity.id, identity.person_id)
    return row


def add_reply(session: Session, identity: ChannelIdentity, author_id: int, text: str) -> ConsoleMessage:
    """A caseworker's reply, recorded before it is sent (status `sending`)."""
    return _add(session, identity, author_id, "reply", text)


def add_note(session: Session, identity: ChannelIdentity, author_id: int, text: str) -> ConsoleMessage:
    """A private note: kept for caseworkers, never sent (status `note`)."""
    return _add(session, identity, author_id, "note", text)


def set_reply_status(session: Session, reply_id: int, status: str) -> None:
    """What the channel did with a reply."""
    row = session.get(ConsoleMessage, reply_id)
    if row is not None and row.kind == "reply":
        row.status = status


def handle(session: Session, identity: ChannelIdentity, caseworker_id: int, until: datetime) -> bool:
    """A caseworker takes the conversation over until `until` (each reply extends it); True if
    they were not handling it already (the person is to be told)."""
    joined = identity.handled_by != caseworker_id
    identity.handled_by, identity.handled_until = caseworker_id, until
    if joined:
        audit.record(session, f"caseworker:{caseworker_id}", "conversation_handled", "identity", identity.id,
                     identity.person_id)
    return joined


def hand_back(session: Session, identity: ChannelIdentity, actor: str) -> bool:
    """The bot answers again; True if someone was handling it (the person is to be told)."""
    was_handled = identity.handled_by is not None
    identity.handled_by, identity.handled_until = None, None
    if was_handled:
        audit.record(session, actor, "conversation_handed_back", "identity", identity.id, identity.person_id)
    return was_handled


def handled(identity: ChannelIdentity, now: datetime) -> bool:
    """True while a caseworker handles the conversation."""
    return identity.handled_by is not None and identity.handled_until is not None and identity.handled_until > now
