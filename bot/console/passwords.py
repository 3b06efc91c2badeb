"""Console passwords: argon2id hashes (argon2-cffi's defaults, RFC 9106), never the password."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
_HASHER = PasswordHasher()
#: Checked against when the account does not exist, so a wrong username takes as long as a wrong password.
_DUMMY = _HASHER.hash("no account has this password")


def hash_password(password: str) -> str:
    """A new salted argon2id hash of `password`."""
    return _HASHER.hash(password)


def verify(password_hash: str | None, password: str) -> bool:
    """True if `password` matches; a missing hash costs the same time and is False."""
    try:
        return _HASHER.verify(password_hash or _DUMMY, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def too_weak(password: str) -> str | None:
    """Why `password` may not be used, or None. Length over rules (NIST SP 800-63B)."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(set(password)) < 5:
        return "a password needs more different characters"
    return None
