"""Database connections, transactions and schema migrations."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, ExceptionContext
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _sqlite_pragmas(connection: Any, record: Any) -> None:
    """Foreign keys on; write-ahead log so readers never block the writer (several tasks and the
    engine's action calls share the file); NORMAL sync is still durable when a process is killed."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _without_values(context: ExceptionContext) -> None:
    """PostgreSQL's error messages quote values (`Key (phone)=(+998…) already exists`, `"05.03.1990"`):
    keep only the error's kind, SQLSTATE and the table, column and constraint names, which carry none.
    (SQLite's messages name only the constraint.)"""
    original = context.original_exception
    diag = getattr(original, "diag", None)
    if diag is None:
        return
    names = [f"{what} {name}" for what, name in (("table", diag.table_name), ("column", diag.column_name),
                                                 ("constraint", diag.constraint_name)) if name]
    summary = f"SQLSTATE {diag.sqlstate}" + (f" ({', '.join(names)})" if names else "")
    original.args = (summary,)
    if context.sqlalchemy_exception is not None:
        kind = f"{type(original).__module__}.{type(original).__name__}"
        context.sqlalchemy_exception.args = (f"({kind}) {summary}",)


class Database:
    """One database: `transaction()` gives a session that commits on success, rolls back on error."""

    def __init__(self, url: str) -> None:
        self.url = url
        # hide_parameters: a database error's message never carries the row's values (names, phones, text)
        self.engine: Engine = create_engine(url, hide_parameters=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        event.listen(self.engine, "handle_error", _without_values)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: everything in it is written, or nothing is."""
        with self.sessions.begin() as session:
            yield session

    def upgrade(self) -> None:
        """Bring the schema to the newest migration (creates the tables on a new database)."""
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
