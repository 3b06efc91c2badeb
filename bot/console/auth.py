"""Signing in to the console: passwords, lockout, server-side sessions and CSRF tokens.

The session cookie holds a random token; the database keeps only its SHA-256, so the session can
be revoked and a copy of the database signs nobody in. Each form carries a CSRF token derived
from the session (an HMAC of its token hash), so a token is useless in any other session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.console import passwords
from bot.db.models import Caseworker, utcnow
from bot.db.session import Database
from bot.repositories import accounts
from bot.settings import Settings

COOKIE = "hamroh_console"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    """Sign-in and sessions for the console, over one database."""

    def __init__(self, database: Database, settings: Settings, clock: Callable[[], datetime] = utcnow) -> None:
        self.database = database
        self.settings = settings
        self.clock = clock
        self._csrf_key = hmac.new(settings.hashing_key(), b"console csrf", hashlib.sha256).digest()

    def sign_in(self, username: str, password: str) -> str | None:
        """A new session token for a correct password of an active, unlocked account, else None.
        Wrong passwords count towards the lockout; the answer never says which part was wrong."""
        with self.database.transaction() as session:
            caseworker = accounts.by_username(session, username) if username.strip() else None
            hashed = caseworker.password_hash if caseworker is not None and caseworker.active else None
            correct = passwords.verify(hashed, password)  # same work when the account does not exist
            if caseworker is None or hashed is None:
                return None
            now = self.clock()
            if caseworker.locked_until is not None and caseworker.locked_until > now:
                return None
            if not correct:
                accounts.failed_sign_in(session, caseworker, now, self.settings.console_max_failed_sign_ins,
                                        timedelta(minutes=self.settings.console_lockout_minutes))
                return None
            token = secrets.token_urlsafe(32)
            accounts.signed_in(session, caseworker, _digest(token))
            return token

    def current(self, token: str) -> Caseworker | None:
        """The account of a live session (its idle time starts again), or None."""
        if not token:
            return None
        with self.database.transaction() as session:
            found = accounts.live_session(
                session, _digest(token), self.clock(), timedelta(minutes=self.settings.console_idle_minutes),
                timedelta(hours=self.settings.console_session_hours))
            return found[1] if found else None

    def sign_out(self, token: str) -> None:
        """Revoke the session (the cookie becomes worthless)."""
        with self.database.transaction() as session:
            accounts.revoke(session, _digest(token), self.clock())

    def csrf_token(self, token: str) -> str:
        """The CSRF token the session's forms carry."""
        return hmac.new(self._csrf_key, _digest(token).encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, token: str, given: str) -> bool:
        """True if `given` is this session's CSRF token (constant-time)."""
        return bool(token) and hmac.compare_digest(self.csrf_token(token), given)
