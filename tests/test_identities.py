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
    [("/start AB23CD34", "AB23CD34"), ("LINK ab23cd34", "AB23CD34"), ("link  XYZ92345  ", "XYZ92345"),
     ("/start", None), ("link me to a course", None), ("hello", None),
     # ordinary words are never codes, so they are never counted as a wrong attempt
     ("link please", None), ("link password", None), ("LINK PROBLEMS", None), ("link AB23", None)],
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
    results = [redeem(database, KEY, "sms", "+996700000002", "WRNG2345", now)[0] for _ in range(5)]
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


def test_codes_always_have_the_shape_the_gateway_reads() -> None:
    codes = [identities.new_code() for _ in range(200)]
    assert all(link_code_in(f"LINK {code}") == code for code in codes)
    assert all(link_code_in(f"/start {code.lower()}") == code for code in codes)


def test_an_account_linked_to_someone_else_gets_a_clear_answer_and_nothing_changes(database: Database) -> None:
    first, second = make_person(database), make_person(database)
    assert redeem(database, KEY, "sms", "+996700000010", issue(database, first), utcnow())[0] == "utter_link_ok"
    code = issue(database, second)
    assert redeem(database, KEY, "sms", "+996700000010", code, utcnow())[0] == "utter_link_already"
    with database.transaction() as session:
        assert identities.identity_for(session, "sms", "+996700000010").person_id == first
        assert session.get(Person, second).phone is None  # type: ignore[union-attr]
    assert redeem(database, KEY, "sms", "+996700000011", code, utcnow())[0] == "utter_link_ok"  # code not used up


def test_a_new_phone_replaces_the_old_one_which_loses_access(database: Database) -> None:
    person_id = make_person(database)
    redeem(database, KEY, "sms", "+996700000020", issue(database, person_id), utcnow())
    assert redeem(database, KEY, "sms", "+996700000021", issue(database, person_id), utcnow())[0] == "utter_link_ok"
    with database.transaction() as session:
        assert identities.identity_for(session, "sms", "+996700000020").person_id is None
        assert identities.identity_for(session, "sms", "+996700000021").person_id == person_id
        assert session.get(Person, person_id).phone == "+996700000021"  # type: ignore[union-attr]
        assert [e.action for e in audit.entries(session, person_id)].count("identity_replaced") == 1


def test_linking_sets_the_conversation_language_once(database: Database) -> None:
    person_id = make_person(database)
    redeem(database, KEY, "telegram", "5550030", issue(database, person_id), utcnow())
    with database.transaction() as session:
        identity = identities.identity_for(session, "telegram", "5550030")
        assert (identity.language, identity.language_override) == ("ky", "ky")


def test_guesses_from_one_phone_prefix_and_in_total_are_limited(database: Database) -> None:
    person_id = make_person(database)
    now = utcnow()
    # 20 wrong codes from 20 phones of one operator (each phone below its own lockout)
    for number in range(identities.LINK_FAILURES_PER_PREFIX):
        assert redeem(database, KEY, "sms", f"+99670555{number:04d}", "WRNG2345", now)[0] == "utter_link_invalid"
    code = issue(database, person_id)
    assert redeem(database, KEY, "sms", "+996705559999", code, now)[0] == "utter_link_busy"
    assert redeem(database, KEY, "sms", "+996555000001", code, now)[0] == "utter_link_ok"  # another operator
    later = now + identities.LINK_WINDOW + timedelta(minutes=1)
    assert redeem(database, KEY, "sms", "+996705559998", "WRNG2345", later)[0] == "utter_link_invalid"
    for number in range(identities.LINK_FAILURES_IN_TOTAL):
        redeem(database, KEY, "telegram", str(7000000 + number), "WRNG2345", later)
    fresh = issue(database, make_person(database))
    assert redeem(database, KEY, "telegram", "7999999", fresh, later)[0] == "utter_link_busy"
