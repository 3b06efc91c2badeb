"""Link codes, the second factor and the lockout, on a real database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.channels.linking import conversation_for, link_code_in, redeem
from bot.db.models import ChannelIdentity, Person, PersonKind, utcnow
from bot.db.session import Database
from bot.repositories import audit, identities, people

KEY = b"test-key"


def make_person(database: Database) -> int:
    with database.transaction() as session:
        person = people.add_person(
            session, kind=PersonKind.RETURNEE, name="Test", language="ky", time_zone="Asia/Bishkek", country="KG",
            city="Osh", second_factor_hash=identities.keyed_hash(KEY, "05.03.1990"),
        )
        return person.id


def issue(database: Database, person_id: int, hours: int = 72) -> str:
    with database.transaction() as session:
        return identities.issue_link_code(session, KEY, people.get_person(session, person_id), utcnow(),
                                          timedelta(hours=hours))


@pytest.mark.parametrize(
    "text, code",
    [("/start AB12CD34", "AB12CD34"), ("LINK ab12cd34", "ab12cd34"), ("link  XYZ9  ", "XYZ9"),
     ("/start", None), ("link me to a course", None), ("hello", None)],
)
def test_link_command(text: str, code: str | None) -> None:
    assert link_code_in(text) == code


def test_a_code_links_once_and_only_the_hash_is_kept(database: Database) -> None:
    person_id = make_person(database)
    code = issue(database, person_id)
    conversation = conversation_for(database, "telegram", "5550001")
    assert redeem(database, KEY, "telegram", "5550001", code, utcnow()) == ("utter_link_ok", "ky")
    assert redeem(database, KEY, "telegram", "5550002", code, utcnow())[0] == "utter_link_invalid"  # used up
    with database.transaction() as session:
        assert identities.person_for_conversation(session, conversation).id == person_id  # type: ignore[union-attr]
        assert session.get(Person, person_id).telegram_user_id == 5550001  # type: ignore[union-attr]
        assert code not in str([e.details for e in audit.entries(session)])
    assert conversation_for(database, "telegram", "5550001") == conversation  # stable pseudonym
    assert conversation != "5550001"


def test_an_expired_code_does_not_link(database: Database) -> None:
    code = issue(database, make_person(database), hours=-1)
    assert redeem(database, KEY, "sms", "+996700000001", code, utcnow())[0] == "utter_link_invalid"


def test_five_wrong_codes_lock_for_an_hour_even_for_a_right_code(database: Database) -> None:
    code = issue(database, make_person(database))
    now = utcnow()
    results = [redeem(database, KEY, "sms", "+996700000002", "WRONG123", now)[0] for _ in range(5)]
    assert results == ["utter_link_invalid"] * 4 + ["utter_verification_locked"]
    assert redeem(database, KEY, "sms", "+996700000002", code, now)[0] == "utter_verification_locked"
    assert redeem(database, KEY, "sms", "+996700000002", code, now + timedelta(minutes=61))[0] == "utter_link_ok"


def test_second_factor_by_sms_verifies_for_a_while_and_locks_after_five_misses(database: Database) -> None:
    person_id = make_person(database)
    now = utcnow()
    with database.transaction() as session:
        identity = identities.identity_for(session, "sms", "+996700000003")
        identity.person_id = person_id
        assert not identities.is_verified(identity, now)
        assert identities.check_second_factor(session, KEY, identity, "5/3/1990", now) == "verified"
        assert identities.is_verified(identity, now)
        assert not identities.is_verified(identity, now + timedelta(hours=1))
        other = identities.identity_for(session, "sms", "+996700000004")
        other.person_id = person_id
        answers = [identities.check_second_factor(session, KEY, other, "01.01.2000", now) for _ in range(5)]
        assert answers == ["wrong"] * 4 + ["locked"]
        assert identities.check_second_factor(session, KEY, other, "05.03.1990", now) == "locked"
        failures = [e for e in audit.entries(session, action="second_factor_failed")]
        assert len(failures) == 5


def test_telegram_needs_no_second_factor_but_must_be_linked(database: Database) -> None:
    with database.transaction() as session:
        identity = identities.identity_for(session, "telegram", "42")
        assert not identities.is_verified(identity, utcnow())
        identity.person_id = make_person_in(session)
        assert identities.is_verified(identity, utcnow())
        assert isinstance(identity, ChannelIdentity)


def make_person_in(session) -> int:  # type: ignore[no-untyped-def]
    return people.add_person(
        session, kind=PersonKind.RETURNEE, name="T", language="en", time_zone="Asia/Dushanbe", country="TJ",
        city="Khujand",
    ).id
