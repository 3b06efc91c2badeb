"""Console accounts from the command line: add, reset, disable; the demo's SAMPLE accounts."""

from __future__ import annotations

import io
import re

import pytest

from bot.admin.seed import CONSOLE_ACCOUNTS, demo_password
from bot.console.auth import Accounts
from bot.db.models import AuditLog, Caseworker, Role
from bot.db.session import Database
from bot.repositories import accounts
from bot.settings import Settings

from .admin_harness import Admin


def _password(out: str) -> str:
    found = re.search(r"password \(shown once, hand it over in person\): (\S+)", out)
    assert found, out
    return found.group(1)


def _sign_in(database: Database, username: str, password: str) -> str | None:
    return Accounts(database, Settings(database_url=database.url, secret_key="test-key")).sign_in(username, password)


def test_add_gives_a_generated_password_once(admin_cli: Admin, database: Database) -> None:
    code, out, _ = admin_cli("caseworkers", "add", "--name", "Aziza SAMPLE", "--country", "uz",
                             "--username", "Aziza.K", "--role", "supervisor", "--team", "north", "--locale", "uz")
    assert code == 0, out
    password = _password(out)
    with database.transaction() as session:
        account = accounts.by_username(session, "aziza.k")
        assert account is not None and account.role is Role.SUPERVISOR and account.team == "north"
        assert account.locale == "uz" and account.time_zone == "Asia/Tashkent"
        assert password not in (account.password_hash or "")  # only a hash is kept
    assert _sign_in(database, "aziza.k", password) is not None


def test_reset_signs_out_and_replaces_the_password(admin_cli: Admin, database: Database) -> None:
    out = admin_cli("caseworkers", "add", "--name", "Bobur SAMPLE", "--country", "KZ", "--username", "bobur")[1]
    old = _password(out)
    assert _sign_in(database, "bobur", old) is not None
    with database.transaction() as session:
        caseworker_id = accounts.by_username(session, "bobur").id  # type: ignore[union-attr]
    code, out, _ = admin_cli("caseworkers", "reset", str(caseworker_id))
    assert code == 0
    new = _password(out)
    assert _sign_in(database, "bobur", old) is None
    assert _sign_in(database, "bobur", new) is not None
    assert admin_cli("caseworkers", "disable", str(caseworker_id))[0] == 0
    assert _sign_in(database, "bobur", new) is None


@pytest.mark.parametrize(("args", "message"), [
    (["--username", "x"], "3 to 64"),
    (["--username", "ok.name", "--locale", "fr"], "--locale"),
    (["--username", "ok.name", "--role", "boss"], "invalid choice"),
])
def test_bad_account_input_is_refused(admin_cli: Admin, database: Database, args: list[str], message: str) -> None:
    code, out, err = admin_cli("caseworkers", "add", "--name", "C SAMPLE", "--country", "UZ", *args)
    assert code != 0 and message in out + err
    with database.transaction() as session:
        assert session.query(Caseworker).filter(Caseworker.username.is_not(None)).count() == 0


def test_password_from_stdin_must_be_long_enough(admin_cli: Admin, database: Database,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    code, out, err = admin_cli("caseworkers", "add", "--name", "D SAMPLE", "--country", "UZ", "--username", "dilya",
                               "--password-stdin")
    assert code != 0 and "12 characters" in out + err
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough passphrase\n"))
    code, out, _ = admin_cli("caseworkers", "add", "--name", "D SAMPLE", "--country", "UZ", "--username", "dilya",
                             "--password-stdin")
    assert code == 0 and "shown once" not in out
    assert _sign_in(database, "dilya", "a long enough passphrase") is not None


def test_demo_has_an_account_of_every_role(admin_cli: Admin, database: Database) -> None:
    code, out, _ = admin_cli("seed-demo")
    assert code == 0 and "/console/" in out and demo_password() in out
    with database.transaction() as session:
        roles = {accounts.by_username(session, name).role for name in CONSOLE_ACCOUNTS}  # type: ignore[union-attr]
        assert session.query(AuditLog).filter(AuditLog.action == "account_set").count() == len(CONSOLE_ACCOUNTS)
    assert roles == set(Role)
    assert _sign_in(database, "supervisor", demo_password()) is not None
