"""Retention and erasure on a real database: afterwards the whole database is searched for the
person's name, phone, Telegram id and what they wrote (the engine's tracker table included)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import inspect, select, text

from bot.db.models import AuditLog, Handoff, InboundMessage, OutboxMessage, Person, PersonKind, utcnow
from bot.db.session import Database
from bot.repositories import identities, people, privacy, support

NAME, PHONE, TELEGRAM = "Zarnigor SAMPLE-Erasable", "+998907770011", "7770011"
WROTE = "my brother is still in the camp, please help SAMPLE-TEXT"


def engine_events(database: Database) -> None:
    """The table the engine's SQL tracker store keeps conversations in (as Rasa creates it)."""
    key = "SERIAL PRIMARY KEY" if database.engine.dialect.name == "postgresql" else "INTEGER PRIMARY KEY"
    with database.transaction() as session:
        session.execute(text(f"CREATE TABLE IF NOT EXISTS events (id {key}, sender_id VARCHAR(255), "
                             "type_name VARCHAR(255), timestamp FLOAT, intent_name VARCHAR(255), "
                             "action_name VARCHAR(255), data TEXT)"))


def everything(database: Database) -> str:
    """Every value of every row of every table, as one text."""
    with database.transaction() as session:
        tables = inspect(session.connection()).get_table_names()
        return "\n".join(str(row) for table in tables for row in session.execute(text(f'SELECT * FROM "{table}"')))


def person_with_history(database: Database, wrote_at: float) -> int:
    with database.transaction() as session:
        person = people.add_person(session, kind=PersonKind.RETURNEE, name=NAME, language="uz",
                                   time_zone="Asia/Tashkent", country="UZ", city="Tashkent", phone=PHONE,
                                   telegram_user_id=int(TELEGRAM),
                                   second_factor_hash=identities.keyed_hash(b"k", "05.03.1990"))
        for channel, address in (("sms", PHONE), ("telegram", TELEGRAM)):
            identity = identities.identity_for(session, channel, address)
            identity.person_id = person.id
            session.add(InboundMessage(channel=channel, provider_id=f"p-{channel}", address=address, kind="text",
                                       text=WROTE, status="done", replies=[{"text": f"reply to {NAME}"}]))
            support.create_handoff(session, identity.conversation_id, person.id, "asked", identity_id=identity.id,
                                   language="uz", message=WROTE)
            session.execute(text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES "
                                 "(:sender, 'user', :at, :data)"),
                            {"sender": identity.conversation_id, "at": wrote_at, "data": f'{{"text": "{WROTE}"}}'})
        session.add(OutboxMessage(person_id=person.id, flow="f", step="s", trigger_key="k", trigger_version=1,
                                  status="sent", idempotency_key="k1", rendered=[{"text": f"Salom {NAME}"}]))
        return person.id


def test_erase_leaves_nothing_of_the_person_anywhere(database: Database) -> None:
    engine_events(database)
    person_id = person_with_history(database, utcnow().timestamp())
    before = everything(database)
    assert all(needle in before for needle in (NAME, PHONE, TELEGRAM, WROTE))
    with database.transaction() as session:
        counts = privacy.erase_person(session, session, person_id, "caseworker")
    assert counts["handoffs"] == 2 and counts["engine_events"] == 2
    after = everything(database)
    assert [needle for needle in (NAME, PHONE, TELEGRAM, WROTE, "SAMPLE-TEXT") if needle in after] == []
    with database.transaction() as session:
        erased = session.get(Person, person_id)
        assert erased is not None and erased.name == privacy.ERASED and erased.opted_out
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "person_erased")).one()
        assert entry.entity_id == person_id and NAME not in str(entry.details)


def test_erase_of_an_unknown_person_is_refused(database: Database) -> None:
    with database.transaction() as session, pytest.raises(LookupError):
        privacy.erase_person(session, session, 999, "caseworker")


def test_texts_older_than_the_retention_are_removed_and_newer_ones_kept(database: Database) -> None:
    engine_events(database)
    now = utcnow()
    person_with_history(database, (now - timedelta(days=91)).timestamp())
    with database.transaction() as session:
        for message in session.scalars(select(InboundMessage)):
            message.received_at = now - timedelta(days=91)
        session.scalars(select(Handoff)).first().created_at = now - timedelta(days=91)  # type: ignore[union-attr]
        session.add(InboundMessage(channel="sms", provider_id="fresh", address=PHONE, kind="text", text="fresh text"))
    with database.transaction() as session:
        counts = privacy.prune_messages(session, session, now, days=90)
    assert (counts["inbound"], counts["handoffs"], counts["engine_events"]) == (2, 1, 2)
    after = everything(database)
    assert WROTE in after  # the second handoff is recent
    assert "fresh text" in after
    with database.transaction() as session:
        assert [m.text for m in session.scalars(select(InboundMessage).order_by(InboundMessage.id))] == [
            "", "", "fresh text"]
        assert session.scalar(text("SELECT COUNT(*) FROM events")) == 0


def test_erase_by_the_cli_needs_a_confirmation(admin_cli, database: Database) -> None:  # type: ignore[no-untyped-def]
    engine_events(database)
    person_id = person_with_history(database, utcnow().timestamp())
    code, _, error = admin_cli("people", "erase", str(person_id))
    assert code == 2 and "--yes" in error and NAME in everything(database)
    code, out, _ = admin_cli("people", "erase", str(person_id), "--yes")
    assert code == 0 and f"erased person {person_id}" in out
    assert NAME not in everything(database) and WROTE not in everything(database)
