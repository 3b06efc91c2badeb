"""Console accounts (caseworkers who sign in) and their server-side sessions."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.db.models import Caseworker, ConsoleSession, Role, utcnow
from bot.repositories import audit


def by_username(session: Session, username: str) -> Caseworker | None:
    """The account signed in as `username` (any case), or None."""
    return session.scalar(select(Caseworker).where(Caseworker.username == username.strip().lower()))


def set_account(session: Session, caseworker: Caseworker, *, username: str, role: Role, password_hash: str,
                team: str, locale: str, time_zone: str, actor: str) -> None:
    """Make `caseworker` a console account (or change it), signing out its open sessions."""
    caseworker.username = username.strip().lower()
    caseworker.role = role
    caseworker.password_hash = password_hash
    caseworker.team, caseworker.locale, caseworker.time_zone = team, locale, time_zone
    caseworker.failed_logins, caseworker.locked_until, caseworker.active = 0, None, True
    revoke_all(session, caseworker.id)
    audit.record(session, actor, "account_set", "caseworker", caseworker.id, None, role=role.value)


def reset_password(session: Session, caseworker: Caseworker, password_hash: str, actor: str) -> None:
    """A new password: unlocks the account and signs out every open session."""
    caseworker.password_hash = password_hash
    caseworker.failed_logins, caseworker.locked_until = 0, None
    revoke_all(session, caseworker.id)
    audit.record(session, actor, "password_reset", "caseworker", caseworker.id, None)


def failed_sign_in(session: Session, caseworker: Caseworker, now: datetime, limit: int, lock_for: timedelta) -> None:
    """Count a wrong password; the `limit`-th in a row locks the account for `lock_for`."""
    caseworker.failed_logins += 1
    if caseworker.failed_logins >= limit:
        caseworker.failed_logins, caseworker.locked_until = 0, now + lock_for
        audit.record(session, f"caseworker:{caseworker.id}", "account_locked", "caseworker", caseworker.id, None)


def signed_in(session: Session, caseworker: Caseworker, token_hash: str) -> ConsoleSession:
    """Open a session for a correct password (the failure count starts again)."""
    caseworker.failed_logins, caseworker.locked_until = 0, None
    opened = ConsoleSession(token_hash=token_hash, caseworker_id=caseworker.id)
    session.add(opened)
    audit.record(session, f"caseworker:{caseworker.id}", "signed_in", "caseworker", caseworker.id, None)
    return opened


def live_session(session: Session, token_hash: str, now: datetime, idle: timedelta,
                 longest: timedelta) -> tuple[ConsoleSession, Caseworker] | None:
    """The open session with this token and its active account, marked as seen now; None when
    unknown, revoked, idle longer than `idle`, older than `longest`, or the account is off."""
    found = session.execute(
        select(ConsoleSession, Caseworker).join(Caseworker, Caseworker.id == ConsoleSession.caseworker_id)
        .where(ConsoleSession.token_hash == token_hash, ConsoleSession.revoked_at.is_(None))
    ).first()
    if found is None:
        return None
    opened, caseworker = found
    if (now - opened.last_seen_at > idle or now - opened.created_at > longest
            or not caseworker.active or caseworker.password_hash is None):
        opened.revoked_at = now
        return None
    opened.last_seen_at = now
    return opened, caseworker


def revoke(session: Session, token_hash: str, now: datetime) -> None:
    """Sign one browser out."""
    session.execute(update(ConsoleSession).where(ConsoleSession.token_hash == token_hash,
                                                 ConsoleSession.revoked_at.is_(None)).values(revoked_at=now))


def revoke_all(session: Session, caseworker_id: int) -> None:
    """Sign every browser of one account out."""
    session.execute(update(ConsoleSession).where(ConsoleSession.caseworker_id == caseworker_id,
                                                 ConsoleSession.revoked_at.is_(None)).values(revoked_at=utcnow()))


def set_locale(session: Session, caseworker_id: int, language: str) -> None:
    """The console's language for one account."""
    session.execute(update(Caseworker).where(Caseworker.id == caseworker_id).values(locale=language))


def disable(session: Session, caseworker: Caseworker, actor: str) -> None:
    """No more sign-ins; every open session ends."""
    caseworker.active = False
    revoke_all(session, caseworker.id)
    audit.record(session, actor, "account_disabled", "caseworker", caseworker.id, None)
