"""Channel identities, link codes and the second factor, with lockout after failed attempts."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import ChannelIdentity, LinkCode, Person
from bot.repositories import audit

MAX_FAILED_ATTEMPTS = 5
LOCKOUT = timedelta(hours=1)
VERIFICATION_LIFETIME = timedelta(minutes=30)
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


def keyed_hash(key: bytes, value: str) -> str:
    """HMAC-SHA256 of a normalised value (codes and second factors are never stored).

    Dates are compared as dates: 05.03.1990, 5/3/1990 and 1990-03-05 are the same answer.
    """
    normalised = "".join(value.split()).upper()
    for pattern in ("%d.%m.%Y", "%d/%m/%Y", "%d-%m-%Y", "%Y-%m-%d"):
        try:
            normalised = datetime.strptime(normalised, pattern).date().isoformat()
            break
        except ValueError:
            continue
    return hmac.new(key, normalised.encode(), hashlib.sha256).hexdigest()


def identity_for(session: Session, channel: str, address: str) -> ChannelIdentity:
    """The identity of a Telegram account or phone, created with a random conversation id."""
    identity = session.scalar(
        select(ChannelIdentity).where(ChannelIdentity.channel == channel, ChannelIdentity.address == address)
    )
    if identity is None:
        identity = ChannelIdentity(channel=channel, address=address, conversation_id=secrets.token_hex(16))
        session.add(identity)
        session.flush()
    return identity


def identity_by_conversation(session: Session, conversation_id: str) -> ChannelIdentity | None:
    """The identity behind an engine conversation id."""
    return session.scalar(select(ChannelIdentity).where(ChannelIdentity.conversation_id == conversation_id))


def person_for_conversation(session: Session, conversation_id: str) -> Person | None:
    """The linked person behind an engine conversation id, or None if not linked."""
    identity = identity_by_conversation(session, conversation_id)
    return session.get(Person, identity.person_id) if identity and identity.person_id else None


def issue_link_code(session: Session, key: bytes, person: Person, now: datetime, lifetime: timedelta) -> str:
    """Create a one-time code for `person`; only its hash is kept."""
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    session.add(LinkCode(person_id=person.id, code_hash=keyed_hash(key, code), expires_at=now + lifetime))
    audit.record(session, "caseworker", "link_code_issued", "person", person.id, person.id)
    return code


def is_locked(identity: ChannelIdentity, now: datetime) -> bool:
    """True while verification is locked after too many failed attempts."""
    return identity.locked_until is not None and identity.locked_until > now


def _fail(identity: ChannelIdentity, now: datetime) -> None:
    identity.failed_attempts += 1
    if identity.failed_attempts >= MAX_FAILED_ATTEMPTS:
        identity.locked_until = now + LOCKOUT
        identity.failed_attempts = 0


@dataclass(frozen=True)
class LinkResult:
    """Outcome of redeeming a link code: "linked", "invalid" or "locked"."""

    outcome: str
    person: Person | None = None


def redeem_link_code(
    session: Session, key: bytes, identity: ChannelIdentity, code: str, now: datetime
) -> LinkResult:
    """Bind `identity` to the person the code was issued for, if the code is valid and unused."""
    if is_locked(identity, now):
        return LinkResult("locked")
    link = session.scalar(select(LinkCode).where(LinkCode.code_hash == keyed_hash(key, code)))
    if link is None or link.used_at is not None or link.expires_at <= now:
        _fail(identity, now)
        audit.record(session, "system", "link_failed", "identity", identity.id, None, channel=identity.channel)
        return LinkResult("locked" if is_locked(identity, now) else "invalid")
    person = session.get(Person, link.person_id)
    assert person is not None
    link.used_at = now
    identity.person_id = person.id
    identity.failed_attempts = 0
    if identity.channel == "telegram":
        person.telegram_user_id = int(identity.address)
    elif identity.channel == "sms":
        person.phone = identity.address
    audit.record(session, "system", "identity_linked", "person", person.id, person.id, channel=identity.channel)
    return LinkResult("linked", person)


def check_second_factor(
    session: Session, key: bytes, identity: ChannelIdentity, answer: str, now: datetime
) -> str:
    """Check the second factor for a linked identity: "verified", "wrong" or "locked"."""
    person = session.get(Person, identity.person_id) if identity.person_id else None
    if is_locked(identity, now):
        return "locked"
    if person is None or person.second_factor_hash is None or not hmac.compare_digest(
        person.second_factor_hash, keyed_hash(key, answer)
    ):
        _fail(identity, now)
        audit.record(session, "system", "second_factor_failed", "identity", identity.id, identity.person_id)
        return "locked" if is_locked(identity, now) else "wrong"
    identity.failed_attempts = 0
    identity.verified_until = now + VERIFICATION_LIFETIME
    audit.record(session, "system", "second_factor_verified", "identity", identity.id, person.id)
    return "verified"


def is_verified(identity: ChannelIdentity, now: datetime) -> bool:
    """True if the identity is linked and, on SMS, gave the second factor recently."""
    if identity.person_id is None:
        return False
    if identity.channel != "sms":
        return True
    return identity.verified_until is not None and identity.verified_until > now


def set_opted_out(session: Session, identity: ChannelIdentity, opted_out: bool) -> None:
    """Stop (or resume) every message to this address and, if linked, to the person; audited."""
    identity.opted_out = opted_out
    person = session.get(Person, identity.person_id) if identity.person_id else None
    if person is not None:
        person.opted_out = opted_out
    audit.record(session, "system", "opted_out" if opted_out else "opted_in", "identity", identity.id,
                 person.id if person else None, channel=identity.channel)


def linked_identities(session: Session, person_id: int) -> list[ChannelIdentity]:
    """The channels a person has connected with a link code, Telegram first."""
    query = select(ChannelIdentity).where(ChannelIdentity.person_id == person_id)
    return sorted(session.scalars(query), key=lambda identity: (identity.channel != "telegram", identity.id))
