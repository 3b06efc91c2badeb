"""`hamroh admin …` run in-process against the test database (SQLite, and PostgreSQL when running)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.db.session import Database
from bot.settings import get_settings

Admin = Callable[..., tuple[int, str, str]]


@pytest.fixture
def admin_cli(
    database: Database, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Admin]:
    """Run `hamroh admin ARGS` against the test database; return (exit code, stdout, stderr)."""
    monkeypatch.setenv("HAMROH_DATABASE_URL", database.url)
    monkeypatch.setenv("HAMROH_SECRET_KEY", "test-key")
    get_settings.cache_clear()

    def run(*args: str) -> tuple[int, str, str]:
        try:
            code = main(["admin", *args])
        except SystemExit as error:  # argparse refuses an argument
            code = int(error.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    yield run
    get_settings.cache_clear()


def count(database: Database, model: type) -> int:
    """Rows of one table."""
    with database.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)
