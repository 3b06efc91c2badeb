"""Linking a Telegram account or a phone to a person's record with a caseworker's one-time code.

Handled by the app before the engine sees the message (`/start CODE` on Telegram, `LINK CODE`
by SMS), so codes never reach the engine's conversation history.
"""

from __future__ import annotations

import re
from datetime import datetime

from bot.db.session import Database
from bot.repositories import identities

_LINK = re.compile(r"^\s*(?:/start|link)\s+([A-Za-z0-9]{4,16})\s*$", re.IGNORECASE)
REPLIES = {"linked": "utter_link_ok", "invalid": "utter_link_invalid", "locked": "utter_verification_locked"}


def link_code_in(text: str) -> str | None:
    """The code in `/start CODE` or `LINK CODE`, else None."""
    match = _LINK.match(text)
    return match.group(1) if match else None


def conversation_for(database: Database, channel: str, address: str) -> str:
    """The pseudonymous conversation id for a channel address (created on first contact)."""
    with database.transaction() as session:
        return identities.identity_for(session, channel, address).conversation_id


def redeem(
    database: Database, key: bytes, channel: str, address: str, code: str, now: datetime
) -> tuple[str, str | None]:
    """Try the code; return the reply's name and the linked person's language (if linked)."""
    with database.transaction() as session:
        identity = identities.identity_for(session, channel, address)
        result = identities.redeem_link_code(session, key, identity, code, now)
        return REPLIES[result.outcome], result.person.language if result.person else None
