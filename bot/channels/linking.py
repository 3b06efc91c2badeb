"""Linking a Telegram account or a phone to a person's record with a caseworker's one-time code,
and the second factor asked by SMS before documents are shown.

Both are handled by the app before the engine sees the message (`/start CODE` on Telegram,
`LINK CODE` by SMS; the date of birth when the app asked for it), so codes and dates of birth
never reach the engine's conversation history or a log.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime

from bot.db.session import Database
from bot.repositories import identities

logger = logging.getLogger(__name__)
_ALPHABET = identities.CODE_LETTERS + identities.CODE_DIGITS
_LINK = re.compile(rf"^\s*(?:/start|link)\s+([{_ALPHABET}]{{{identities.CODE_LENGTH}}})\s*$", re.IGNORECASE)
#: A date of birth as people type it: 05.03.1990, 5/3/90, 1990-03-05, 05 03 1990.
_DATE_LIKE = re.compile(r"^\s*\d{1,4}\s*[./\-\s]\s*\d{1,2}\s*[./\-\s]\s*\d{1,4}\s*\.?\s*$")
REPLIES = {
    "linked": "utter_link_ok", "invalid": "utter_link_invalid", "locked": "utter_verification_locked",
    "busy": "utter_link_busy", "already_linked": "utter_link_already",
}


def link_code_in(text: str) -> str | None:
    """The code in `/start CODE` or `LINK CODE` (a real code's shape, never an ordinary word), else None."""
    match = _LINK.match(text)
    if match is None or sum(character in identities.CODE_DIGITS for character in match.group(1)) < 3:
        return None
    return match.group(1).upper()


def looks_like_a_date(text: str) -> bool:
    """True if `text` is shaped like a date (an answer to "your date of birth?"), whatever its value."""
    return _DATE_LIKE.match(text) is not None


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
        if result.outcome == "busy":
            logger.error("ALERT: linking paused: too many wrong link codes in the last hour (%s)",
                         identities.link_limit_reached(session, identity, now))
        return REPLIES[result.outcome], result.person.language if result.person else None


def check_second_factor(database: Database, key: bytes, identity_id: int, answer: str, now: datetime) -> str:
    """Check the answer to the app's date-of-birth question: "verified", "wrong" or "locked".

    The question stays open after a wrong answer and closes once verified or locked.
    """
    with database.transaction() as session:
        identity = identities.identity_by_id(session, identity_id)
        result = identities.check_second_factor(session, key, identity, answer, now)
        if result != "wrong":
            identities.forget_question(identity)
        return result
