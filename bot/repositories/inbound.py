"""The inbound queue: messages providers delivered, claimed one sender at a time.

Every state change is its own short transaction (see `bot/channels/gateway.py` for the order).
Claims are conditional UPDATEs of pending rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL), so
several processes on one database never take the same message, and only a sender's earliest
unfinished message can be claimed, so no two messages of one sender are ever handled at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session, aliased

from bot.db.models import InboundMessage

#: A message in one of these is held by a process (its claim has a lease).
CLAIMED = ("processing", "sending", "delivering")
#: Not finished: a sender's later messages wait for it.
UNFINISHED = ("pending", *CLAIMED)


def add(
    session: Session, channel: str, provider_id: str, address: str, kind: str, text: str, language: str | None = None
) -> None:
    """Record a message (IntegrityError on commit if the provider delivered this id before)."""
    session.add(InboundMessage(channel=channel, provider_id=provider_id, address=address, kind=kind, text=text,
                               language=language))


def claim(session: Session, owner: str, now: datetime, limit: int) -> list[InboundMessage]:
    """Take up to `limit` due pending messages, each the earliest unfinished one of its sender."""
    earlier = aliased(InboundMessage)
    waiting_behind = exists().where(
        earlier.channel == InboundMessage.channel, earlier.address == InboundMessage.address,
        earlier.id < InboundMessage.id, earlier.status.in_(UNFINISHED))
    due = (
        select(InboundMessage.id)
        .where(InboundMessage.status == "pending", or_(InboundMessage.not_before.is_(None),
                                                       InboundMessage.not_before <= now), ~waiting_behind)
        .order_by(InboundMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = session.scalars(
        update(InboundMessage)
        .where(InboundMessage.id.in_(due.scalar_subquery()), InboundMessage.status == "pending")
        .values(status="processing", claimed_by=owner, claimed_at=now, attempts=InboundMessage.attempts + 1)
        .returning(InboundMessage.id)
    ).all()
    if not claimed:
        return []
    query = select(InboundMessage).where(InboundMessage.id.in_(claimed)).order_by(InboundMessage.id)
    return list(session.scalars(query.execution_options(populate_existing=True)))


def get(session: Session, message_id: int) -> InboundMessage:
    """One message (it must exist)."""
    message = session.get(InboundMessage, message_id)
    if message is None:
        raise LookupError(f"no inbound message {message_id}")
    return message


def renew(session: Session, owner: str, message_ids: list[int], now: datetime) -> None:
    """Extend the lease of the messages `owner` is handling."""
    session.execute(update(InboundMessage)
                    .where(InboundMessage.id.in_(message_ids), InboundMessage.claimed_by == owner,
                           InboundMessage.status.in_(CLAIMED))
                    .values(claimed_at=now)
                    .execution_options(synchronize_session=False))


def take_stale(session: Session, owner: str, claimed_before: datetime,
               now: datetime) -> list[tuple[InboundMessage, datetime]]:
    """Take over the messages of processes that stopped renewing their claims (crashed or killed).

    Each with its last claim time: a provider call it may have made began at most moments before.
    """
    query = (select(InboundMessage)
             .where(InboundMessage.status.in_(CLAIMED), InboundMessage.claimed_at < claimed_before)
             .order_by(InboundMessage.id)
             .with_for_update(skip_locked=True))
    taken = []
    for message in session.scalars(query.execution_options(populate_existing=True)).all():
        last_claim = message.claimed_at
        assert last_claim is not None
        swapped = session.execute(  # only if no one else took it in between
            update(InboundMessage)
            .where(InboundMessage.id == message.id, InboundMessage.claimed_at == last_claim,
                   InboundMessage.status == message.status)
            .values(claimed_by=owner, claimed_at=now)
            .execution_options(synchronize_session=False))
        if getattr(swapped, "rowcount", 0) == 1:
            taken.append((message, last_claim))
    return taken


def release_held(session: Session, owner: str) -> int:
    """Give back what `owner` holds and has not begun to deliver (at shutdown): pending again."""
    result = session.execute(
        update(InboundMessage)
        .where(InboundMessage.claimed_by == owner, InboundMessage.status.in_(("processing", "sending")))
        .values(status="pending", claimed_by=None, claimed_at=None))
    return int(getattr(result, "rowcount", 0) or 0)


def keep_replies(message: InboundMessage, replies: list[dict[str, Any]]) -> None:
    """What the chain answered, kept before anything is sent."""
    message.replies, message.status = replies, "sending"


def defer(message: InboundMessage, until: datetime, error: str) -> None:
    """Back to pending until `until` (a transient failure), the claim given up."""
    message.status, message.not_before, message.last_error = "pending", until, error[:200]
    message.claimed_by = message.claimed_at = None


def release(message: InboundMessage) -> None:
    """Back to pending at once (taken over from a process that stopped)."""
    message.status, message.claimed_by, message.claimed_at = "pending", None, None


def finish(message: InboundMessage, status: str, now: datetime, note: str | None = None) -> None:
    """End a message: done, failed, uncertain or expired (`note` says why, for a caseworker)."""
    message.status, message.finished_at = status, now
    message.claimed_by = message.claimed_at = None
    if note is not None:
        message.last_error = note[:200]


def note_understood(session: Session, message_id: int, understood: dict[str, Any]) -> None:
    """What the engine understood of a message (intent, confidence, language)."""
    session.execute(update(InboundMessage).where(InboundMessage.id == message_id).values(understood=understood))
