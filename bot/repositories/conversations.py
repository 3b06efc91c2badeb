"""What one Telegram account or phone wrote to us (for a caseworker answering a request)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import InboundMessage


def recent_inbound(session: Session, channel: str, address: str, limit: int = 20) -> list[InboundMessage]:
    """The last `limit` messages received from this account or phone, oldest first."""
    query = (
        select(InboundMessage)
        .where(InboundMessage.channel == channel, InboundMessage.address == address)
        .order_by(InboundMessage.id.desc())
        .limit(limit)
    )
    return list(reversed(list(session.scalars(query))))
