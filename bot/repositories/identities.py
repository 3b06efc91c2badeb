"""Channel identities, link codes and the second factor, with lockout after failed attempts."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db.models import ChannelIdentity, LinkAttempt, LinkCode, Person
from bot.repositories import audit, outbox

MAX_FAILED_ATTEMPTS = 5
LOCKOUT = timedelta(hours=1)
VERIFICATION_LIFETIME = timedelta(minutes=30)
#: How long a question the app asked (the date of birth) waits for its answer.
QUESTION_LIFETIME = timedelta(minutes=10)
#: Wrong link codes allowed per hour from one phone prefix (country and operator), and in total.
LINK_FAILURES_PER_PREFIX = 20
LINK_FAILURES_IN_TOTAL = 100
LINK_WINDOW = timedelta(hours=1)
CODE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no O, I
CODE_DIGITS = "23456789"  # no 0, 1
CODE_LENGTH = 8


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


def identity_by_id(session: Session, identity_id: int) -> ChannelIdentity:
    """The identity with this id (it must exist)."""
    identity = session.get(ChannelIdentity, identity_id)
    if identity is None:
        raise LookupError(f"no channel identity {identity_id}")
    return identity


def identity_by_conversation(session: Session, conversation_id: str) -> ChannelIdentity | None:
    """The identity behind an engine conversation id."""
    return session.scalar(select(ChannelIdentity).where(ChannelIdentity.conversation_id == conversation_id))


def person_of(session: Session, identity: ChannelIdentity) -> Person | None:
    """The person an identity is linked to, if any."""
    return session.get(Person, identity.person_id) if identity.person_id else None


def person_for_conversation(session: Session, conversation_id: str) -> Person | None:
    """The linked person behind an engine conversation id, or None if not linked."""
    identity = identity_by_conversation(session, conversation_id)
    return session.get(Person, identity.person_id) if identity and identity.person_id else None


def new_code() -> str:
    """Eight letters and digits, at least three of them digits, so no ordinary word is ever a code."""
    alphabet = CODE_LETTERS + CODE_DIGITS
    while True:
        code = "".join(secrets.choice(alphabet) for _ in range(CODE_LENGTH))
        if sum(character in CODE_DIGITS for character in code) >= 3:
            return code


def issue_link_code(session: Session, key: bytes, person: Person, now: datetime, lifetime: timedelta,
                    actor: str = "caseworker") -> str:
    """Create a one-time code for `person`; only its hash is kept (the audit names `actor`, never the code)."""
    code = new_code()
    session.add(LinkCode(person_id=person.id, code_hash=keyed_hash(key, code), expires_at=now + lifetime))
    audit.record(session, actor, "link_code_issued", "person", person.id, person.id)
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
    """Outcome of redeeming a link code: "linked", "invalid", "locked", "busy" (too many wrong codes
    from everywhere: linking pauses for everyone) or "already_linked" (this account belongs to
    someone else's record: a caseworker must unlink it first)."""

    outcome: str
    person: Person | None = None


def phone_prefix(identity: ChannelIdentity) -> str:
    """The country and operator digits of a phone (guesses from one operator are counted together)."""
    return identity.address[:6] if identity.channel == "sms" else ""


def link_limit_reached(session: Session, identity: ChannelIdentity, now: datetime) -> str | None:
    """"prefix" or "total" when too many wrong codes came from this phone prefix or from everywhere."""
    since = now - LINK_WINDOW
    failed = select(func.count()).select_from(LinkAttempt).where(LinkAttempt.at > since,
                                                                 LinkAttempt.succeeded.is_(False))
    if (session.scalar(failed) or 0) >= LINK_FAILURES_IN_TOTAL:
        return "total"
    prefix = phone_prefix(identity)
    if prefix and (session.scalar(failed.where(LinkAttempt.prefix == prefix)) or 0) >= LINK_FAILURES_PER_PREFIX:
        return "prefix"
    return None


def _attempt(session: Session, identity: ChannelIdentity, now: datetime, succeeded: bool) -> None:
    session.add(LinkAttempt(at=now, channel=identity.channel, identity_id=identity.id,
                            prefix=phone_prefix(identity), succeeded=succeeded))


def _address_on_other_record(session: Session, identity: ChannelIdentity, person_id: int) -> bool:
    if identity.channel == "telegram" and identity.address.isdecimal():
        taken = Person.telegram_user_id == int(identity.address)
    elif identity.channel == "sms":
        taken = Person.phone == identity.address
    else:
        return False
    return session.scalar(select(Person.id).where(taken, Person.id != person_id)) is not None


def redeem_link_code(
    session: Session, key: bytes, identity: ChannelIdentity, code: str, now: datetime
) -> LinkResult:
    """Bind `identity` to the person the code was issued for, if the code is valid and unused.

    A new account replaces the person's old one on the same channel: the caseworker issued the
    code, and the old phone or Telegram account (lost, stolen) loses access.
    """
    if is_locked(identity, now):
        return LinkResult("locked")
    limit = link_limit_reached(session, identity, now)
    if limit is not None:
        return LinkResult("busy")
    link = session.scalar(select(LinkCode).where(LinkCode.code_hash == keyed_hash(key, code.upper())))
    if link is None or link.used_at is not None or link.expires_at <= now:
        _fail(identity, now)
        _attempt(session, identity, now, succeeded=False)
        audit.record(session, "system", "link_failed", "identity", identity.id, None, channel=identity.channel)
        return LinkResult("locked" if is_locked(identity, now) else "invalid")
    if (identity.person_id is not None and identity.person_id != link.person_id) or _address_on_other_record(
            session, identity, link.person_id):
        audit.record(session, "system", "link_refused_already_linked", "identity", identity.id, identity.person_id,
                     channel=identity.channel)
        return LinkResult("already_linked")
    person = session.get(Person, link.person_id)
    assert person is not None
    for old in session.scalars(select(ChannelIdentity).where(
            ChannelIdentity.person_id == person.id, ChannelIdentity.channel == identity.channel,
            ChannelIdentity.id != identity.id)):
        old.person_id, old.verified_until = None, None
        audit.record(session, "system", "identity_replaced", "identity", old.id, person.id, channel=old.channel)
    session.flush()
    link.used_at = now
    identity.person_id = person.id
    identity.failed_attempts = 0
    identity.language = person.language
    identity.language_override = person.language
    _attempt(session, identity, now, succeeded=True)
    if identity.channel == "telegram":
        person.telegram_user_id = int(identity.address)
    elif identity.channel == "sms":
        person.phone = identity.address
    audit.record(session, "system", "identity_linked", "person", person.id, person.id, channel=identity.channel)
    outbox.release_waiting_for_channel(session, person.id, now)
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


def ask(identity: ChannelIdentity, question: str, now: datetime) -> None:
    """Remember that the app asked `question` (e.g. "second_factor") on this channel."""
    identity.awaiting, identity.awaiting_since = question, now


def awaited(identity: ChannelIdentity, now: datetime) -> str | None:
    """The question the app asked and still waits for (it expires after QUESTION_LIFETIME)."""
    if identity.awaiting is None or identity.awaiting_since is None:
        return None
    return identity.awaiting if now - identity.awaiting_since < QUESTION_LIFETIME else None


def forget_question(identity: ChannelIdentity) -> None:
    """The conversation moved on: the app's question is no longer open."""
    identity.awaiting, identity.awaiting_since = None, None


def set_record_language(session: Session, person: Person) -> None:
    """A caseworker changed the person's language: every linked channel switches with the next message."""
    for identity in session.scalars(select(ChannelIdentity).where(ChannelIdentity.person_id == person.id)):
        identity.language = identity.language_override = person.language


def list_identities(session: Session, now: datetime, locked_only: bool = False,
                    person_id: int | None = None) -> list[ChannelIdentity]:
    """Telegram accounts and phones that wrote to us, by id; only locked ones, or one person's."""
    query = select(ChannelIdentity).order_by(ChannelIdentity.id)
    if locked_only:
        query = query.where(ChannelIdentity.locked_until > now)
    if person_id is not None:
        query = query.where(ChannelIdentity.person_id == person_id)
    return list(session.scalars(query))


def unlock(session: Session, identity: ChannelIdentity, actor: str) -> None:
    """Lift a lock after wrong link codes or second factors (the caseworker spoke to the person); audited."""
    identity.locked_until, identity.failed_attempts = None, 0
    audit.record(session, actor, "identity_unlocked", "identity", identity.id, identity.person_id,
                 channel=identity.channel)


def unlink(session: Session, identity: ChannelIdentity, actor: str) -> Person:
    """A lost or stolen phone or Telegram account loses access to the person's record; audited.

    The record forgets that number or account, and any verification on it ends.
    """
    person = person_of(session, identity)
    if person is None:
        raise ValueError(f"account {identity.id} is not linked to anyone")
    if identity.channel == "sms" and person.phone == identity.address:
        person.phone = None
    if identity.channel == "telegram" and str(person.telegram_user_id) == identity.address:
        person.telegram_user_id = None
    identity.person_id, identity.verified_until, identity.language_override = None, None, None
    identity.last_menu = []
    forget_question(identity)
    audit.record(session, actor, "identity_unlinked", "identity", identity.id, person.id, channel=identity.channel)
    return person
