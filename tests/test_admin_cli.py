"""`hamroh admin`: every command against a real database, and every kind of bad input."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db.models import Appointment, AuditLog, Course, Person
from bot.db.session import Database
from bot.flows.library import FlowLibrary
from bot.repositories import outbox
from bot.repositories.courses import register_interest

from .admin_harness import count

PERSON = ["people", "add", "--kind", "returnee", "--name", "Test Person", "--language", "uz-Cyrl",
          "--time-zone", "Asia/Tashkent", "--country", "UZ", "--city", "Namangan"]


def test_add_show_edit_and_link_code(admin_cli, database: Database) -> None:  # type: ignore[no-untyped-def]
    assert admin_cli(*PERSON, "--phone", "+998 90 123 45 67", "--second-factor", "05.03.1990")[0] == 0
    code, out, _ = admin_cli("people", "show", "1")
    assert code == 0 and "+998901234567" in out and "second factor set" in out
    assert admin_cli("people", "edit", "1", "--language", "kk")[0] == 0
    code, out, _ = admin_cli("people", "link-code", "1")
    assert code == 0 and "/start " in out and "LINK " in out
    with database.transaction() as session:
        person = session.get(Person, 1)
        assert person is not None and person.language == "kk"
        assert "05.03.1990" not in (person.second_factor_hash or "")
        actions = [entry.action for entry in session.scalars(select(AuditLog))]
    assert actions == ["person_added", "person_edited", "link_code_issued"]


@pytest.mark.parametrize(
    "args, message",
    [
        (PERSON + ["--phone", "90 123"], "field 'phone'"),
        (PERSON[:7] + ["xx"] + PERSON[8:], "unknown language tag"),
        (PERSON[:9] + ["Mars/Olympus"] + PERSON[10:], "field 'time_zone'"),
        (PERSON[:11] + ["FR"] + PERSON[12:], "field 'country'"),
        (PERSON + ["--caseworker", "99"], "no caseworker with id 99"),
        (["people", "show", "42"], "no person with id 42"),
        (["appointments", "add", "--person", "42", "--kind", "medical", "--at", "2030-01-01 10:00", "--place", "x"],
         "no person with id 42"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(admin_cli, database: Database, args, message) -> None:  # type: ignore[no-untyped-def]
    code, _, err = admin_cli(*args)
    assert code == 2 and message in err
    assert count(database, Person) == 0


def test_appointment_in_the_past_is_refused(admin_cli, database: Database) -> None:  # type: ignore[no-untyped-def]
    admin_cli(*PERSON)
    code, _, err = admin_cli("appointments", "add", "--person", "1", "--kind", "psychologist",
                             "--at", "2020-01-01 10:00", "--place", "Office")
    assert code == 2 and "field 'at'" in err and "in the past" in err
    assert count(database, Appointment) == 0
    assert admin_cli("appointments", "add", "--person", "1", "--kind", "psychologist", "--at", "2099-01-01 10:00",
                 "--place", "Office")[0] == 0
    assert admin_cli("appointments", "status", "1", "confirmed")[0] == 0
    code, out, _ = admin_cli("appointments", "list")
    assert "confirmed" in out and "01.01.2099 10:00 Asia/Tashkent" in out


HEADER = "trade,city,title_en,title_ru,instruction_language,start_date,duration_weeks,seats_left,cost,contact\n"


def test_csv_import_is_all_or_nothing_and_reports_every_bad_row(admin_cli, database: Database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    mixed = tmp_path / "mixed.csv"
    mixed.write_text(
        HEADER
        + "payvandchi,Toshkent,Welding,Сварка,uz,2030-02-01,12,5,0,Centre\n"  # good (any spelling)
        + "knitting,Tashkent,Knitting,,uz,2030-02-01,12,5,0,Centre\n"  # line 3: unknown trade
        + "welding,Atlantis,Welding,,uz,2030-02-01,12,5,0,Centre\n"  # line 4: unknown city
        + "cooking,Osh,Cooking,,xx,2030-02-01,12,5,0,Centre\n"  # line 5: language
        + "cooking,Osh,Cooking,,ru,next week,12,-5,0,Centre\n",  # line 6: date and seats
        encoding="utf-8",
    )
    code, _, err = admin_cli("courses", "import", str(mixed))
    assert code == 2 and "nothing imported" in err
    for expected in ["line 3: field 'trade'", "line 4: field 'city'", "line 5: field 'instruction_language'",
                     "line 6: field 'start_date'", "line 6: field 'seats_left'"]:
        assert expected in err
    assert "line 2" not in err
    assert count(database, Course) == 0

    good = tmp_path / "good.csv"
    good.write_text(HEADER + "сварщик,Ташкент,Welding,Сварка,ru,2030-02-01,12,5,0,Centre\n", encoding="utf-8")
    assert admin_cli("courses", "import", str(good))[0] == 0
    exported = tmp_path / "out.csv"
    assert admin_cli("courses", "export", str(exported))[0] == 0
    text = exported.read_text(encoding="utf-8")
    assert "welding,Tashkent" in text and "Сварка" in text


def test_seed_demo_loads_sample_data_once(admin_cli, database: Database) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = admin_cli("seed-demo")
    assert code == 0 and "SAMPLE" in out
    people_before = count(database, Person)
    assert people_before >= 6 and count(database, Course) >= 9
    assert "already" in admin_cli("seed-demo")[1]
    assert count(database, Person) == people_before
    with database.transaction() as session:
        register_interest(session, 1, None, "welding", "Namangan")
    code, out, _ = admin_cli("courses", "interests")
    assert code == 0 and "person 1" in out and "welding" in out and "Namangan" in out
    code, out, _ = admin_cli("courses", "list")
    cities = {"Tashkent", "Namangan", "Andijan", "Almaty", "Shymkent", "Osh", "Bishkek", "Khujand", "Dushanbe"}
    assert all(city in out for city in cities)


def test_outbox_lists_what_happened_and_the_answers_with_their_mean(admin_cli, database: Database) -> None:  # type: ignore[no-untyped-def]
    assert admin_cli(*PERSON, "--consent")[0] == 0
    with database.transaction() as session:
        month = datetime(2031, 5, 1, tzinfo=timezone.utc)
        outbox.plan_monthly(session, FlowLibrary().current(), month, month)
        [row] = outbox.list_outbox(session)
        outbox.set_outcome(row, "sent", "")
        session.flush()
        assert outbox.record_answer(session, row.id, row.person_id, "2") is not None
        assert outbox.record_answer(session, row.id, row.person_id + 1, "5") is None  # not their message
    code, out, _ = admin_cli("outbox", "list", "--status", "sent")
    assert code == 0 and "monthly_wellbeing/check_in" in out and "01.05.2031 11:00 Asia/Tashkent" in out
    code, out, _ = admin_cli("outbox", "answers", "--flow", "monthly_wellbeing")
    assert code == 0 and "person 1" in out and out.strip().endswith("1 rating(s), mean 2.00, 1-2 (hard): 1")


def test_a_caseworkers_language_change_reaches_every_linked_conversation(  # type: ignore[no-untyped-def]
    admin_cli, database: Database
) -> None:
    from bot.repositories import identities

    assert admin_cli(*PERSON)[0] == 0
    with database.transaction() as session:
        for channel, address in (("telegram", "5551234"), ("sms", "+998901112299")):
            identities.identity_for(session, channel, address).person_id = 1
    assert admin_cli("people", "edit", "1", "--language", "ky")[0] == 0
    with database.transaction() as session:
        linked = identities.linked_identities(session, 1)
        assert [(i.language, i.language_override) for i in linked] == [("ky", "ky"), ("ky", "ky")]
