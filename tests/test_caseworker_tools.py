"""Caseworker tools that can be trusted (issue 12): every item through the CLI, on a real database.

The CLI only shows what the repositories return, so these tests also hold for a web console
built on the same repositories.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.db.models import (
    AuditLog,
    ChannelIdentity,
    Course,
    CourseInterest,
    Document,
    InboundMessage,
    LinkCode,
    Person,
    PersonKind,
)
from bot.db.session import Database
from bot.repositories import identities, outbox, people, support
from bot.repositories.courses import register_interest
from bot.settings import REPO_ROOT

from .admin_harness import Admin, count

PHONE = "+998901112233"
CHAT = "700100"
STRANGER = "+998935550000"
FUTURE = "2099-01-10 10:00"


def add_person(database: Database, name: str, caseworker_id: int | None, language: str = "uz-Cyrl",
               time_zone: str = "Asia/Tashkent") -> int:
    with database.transaction() as session:
        return people.add_person(session, kind=PersonKind.RETURNEE, name=name, language=language,
                                 time_zone=time_zone, country="UZ", city="Namangan", caseworker_id=caseworker_id).id


def link(database: Database, person_id: int, channel: str, address: str) -> int:
    """Link an account the way a redeemed code does; return the account id."""
    with database.transaction() as session:
        identity = identities.identity_for(session, channel, address)
        identity.person_id = person_id
        person = people.get_person(session, person_id)
        if channel == "sms":
            person.phone = address
        else:
            person.telegram_user_id = int(address)
        return identity.id


@pytest.fixture
def office(database: Database) -> Database:
    """Caseworkers 1 and 2 (UZ); person 1 (caseworker 1, Telegram), person 2 'Мадина' (caseworker 2, SMS)."""
    with database.transaction() as session:
        people.add_caseworker(session, "Caseworker One", "UZ")
        people.add_caseworker(session, "Caseworker Two", "UZ")
    add_person(database, "Dilnoza Karimova", 1, "uz")
    add_person(database, "Мадина Юсупова", 2)
    link(database, 1, "telegram", CHAT)
    link(database, 2, "sms", PHONE)
    return database


# 1. Handoffs and referrals can be acted on --------------------------------------------------------

def _requests(database: Database) -> None:
    """1: an unlinked stranger's crisis (urgent); 2: person 2 asks for a person; 3: person 2's crisis."""
    with database.transaction() as session:
        stranger = identities.identity_for(session, "sms", STRANGER)
        session.add_all([
            InboundMessage(channel="sms", provider_id="m1", address=STRANGER, kind="text", text="salom"),
            InboundMessage(channel="sms", provider_id="m2", address=STRANGER, kind="text",
                           text="I cannot go on any more"),
            InboundMessage(channel="sms", provider_id="m3", address=PHONE, kind="text", text="someone else's"),
        ])
        support.create_handoff(session, "c1", None, "crisis", "urgent", identity_id=stranger.id, language="en",
                               message="I cannot go on any more")
        mine = identities.identity_for(session, "sms", PHONE)
        support.create_handoff(session, "c2", 2, "human", identity_id=mine.id, language="uz-Cyrl",
                               message="Илтимос, қўнғироқ қилинг")
        support.create_handoff(session, "c2", 2, "crisis", "urgent", identity_id=mine.id, language="uz-Cyrl",
                               message="Яшагим келмаяпти")
        support.create_referral(session, "c1", None, concern="crisis", urgency="today", language="en", crisis=True,
                                identity_id=stranger.id)


@pytest.mark.parametrize(("reader", "handoff", "shown", "hidden"), [
    # an unlinked person's crisis: everything, to any caseworker
    ("1", "1", ["URGENT", "not linked to a record", f"reach on: sms {STRANGER}", "wrote: I cannot go on any more",
                "language en"], []),
    # someone else's person, not urgent: the row, not the text or the contact
    ("1", "2", ["person 2 Мадина Юсупова", "details: for their caseworker (caseworker 2)"],
     ["қўнғироқ", PHONE]),
    # someone else's person, urgent: everything
    ("1", "3", ["URGENT", f"reach on: sms {PHONE}", "wrote: Яшагим келмаяпти"], []),
    # their own person: everything
    ("2", "2", [f"reach on: sms {PHONE}", "wrote: Илтимос, қўнғироқ қилинг", "language uz-Cyrl"], []),
])
def test_a_handoff_shows_what_was_written_and_how_to_reach_the_person_to_who_may_read_it(
    admin_cli: Admin, office: Database, reader: str, handoff: str, shown: list[str], hidden: list[str]
) -> None:
    _requests(office)
    code, out, _ = admin_cli("handoffs", "show", handoff, "--caseworker", reader)
    assert code == 0
    assert all(text in out for text in shown), out
    assert not any(text in out for text in hidden), out
    code, listed, _ = admin_cli("handoffs", "list", "--caseworker", reader)
    assert code == 0 and listed.index("   1  URGENT") < listed.index("   3  URGENT") < listed.index("   2  normal")
    with office.transaction() as session:
        reads = [(e.actor, e.entity_id) for e in session.scalars(select(AuditLog).where(
            AuditLog.action == "handoff_read"))]
        assert all("wrote" not in str(e.details) and "go on" not in str(e.details)
                   for e in session.scalars(select(AuditLog)))
    assert (f"caseworker:{reader}", int(handoff)) in reads if not hidden else (f"caseworker:{reader}", 2) not in reads


def test_handoff_show_gives_the_recent_conversation_of_that_account_only(admin_cli: Admin, office: Database) -> None:
    _requests(office)
    code, out, _ = admin_cli("handoffs", "show", "1", "--caseworker", "2")
    assert code == 0
    conversation = out.split("recent messages", 1)[1]
    assert conversation.index("salom") < conversation.index("I cannot go on any more")
    assert "someone else's" not in conversation and "Asia/Tashkent" in conversation  # the reader's zone


def test_a_crisis_referral_shows_how_to_reach_an_unlinked_person(admin_cli: Admin, office: Database) -> None:
    _requests(office)
    code, out, _ = admin_cli("referrals", "list", "--caseworker", "1")
    assert code == 0 and "CRISIS" in out and f"reach on: sms {STRANGER}" in out and "not linked" in out
    assert admin_cli("referrals", "list")[0] == 2  # who is reading must be said
    assert "no caseworker with id 9" in admin_cli("handoffs", "list", "--caseworker", "9")[2]


# 2. Daily operations --------------------------------------------------------------------------------

def test_unlock_lifts_a_lock_after_wrong_codes_or_dates_of_birth(admin_cli: Admin, office: Database) -> None:
    now = datetime.now(timezone.utc)
    with office.transaction() as session:
        stranger = identities.identity_for(session, "sms", STRANGER)
        stranger.locked_until, stranger.failed_attempts = now + timedelta(hours=1), 0
        session.get(ChannelIdentity, 2).failed_attempts = 3  # type: ignore[union-attr]
    code, out, _ = admin_cli("accounts", "list", "--locked")
    assert code == 0 and f"sms {STRANGER} (locked until" in out and "not linked" in out and PHONE not in out
    assert admin_cli("accounts", "unlock", "3")[0] == 0
    assert admin_cli("accounts", "unlock", "2")[0] == 0
    assert admin_cli("accounts", "list", "--locked")[1] == ""
    with office.transaction() as session:
        for identity in session.scalars(select(ChannelIdentity).where(ChannelIdentity.id.in_([2, 3]))):
            assert identity.locked_until is None and identity.failed_attempts == 0
            assert not identities.is_locked(identity, now)
        assert [e.entity_id for e in session.scalars(select(AuditLog).where(
            AuditLog.action == "identity_unlocked"))] == [3, 2]
    assert "no account with id 42" in admin_cli("accounts", "unlock", "42")[2]


@pytest.mark.parametrize(("account", "channel", "address", "field"), [
    ("1", "telegram", CHAT, "telegram_user_id"),
    ("2", "sms", PHONE, "phone"),
])
def test_unlink_a_lost_or_stolen_account(
    admin_cli: Admin, office: Database, account: str, channel: str, address: str, field: str
) -> None:
    person_id = int(account)
    now = datetime.now(timezone.utc)
    with office.transaction() as session:
        session.get(ChannelIdentity, person_id).verified_until = now + timedelta(minutes=20)  # type: ignore[union-attr]
    assert f"linked: {channel}" in admin_cli("people", "list")[1]
    code, out, _ = admin_cli("accounts", "unlink", account)
    assert code == 0 and f"people link-code {person_id}" in out
    with office.transaction() as session:
        identity = identities.identity_for(session, channel, address)
        person = people.get_person(session, person_id)
        assert identity.person_id is None and identity.verified_until is None
        assert not identities.is_verified(identity, now) and identities.person_of(session, identity) is None
        assert getattr(person, field) is None and identities.linked_identities(session, person_id) == []
        [entry] = session.scalars(select(AuditLog).where(AuditLog.action == "identity_unlinked"))
        assert (entry.entity_id, entry.person_id, entry.details) == (identity.id, person_id, {"channel": channel})
    listed = admin_cli("people", "list")[1].splitlines()[person_id - 1]
    assert "linked: none" in listed
    assert "is not linked to anyone" in admin_cli("accounts", "unlink", account)[2]


@pytest.mark.parametrize(("args", "expected", "absent"), [
    (["caseworkers", "list"], ["   1  UZ  Caseworker One  (1 people)", "   2  UZ  Caseworker Two  (1 people)"], []),
    (["people", "search", "madina"], ["Мадина Юсупова"], ["Dilnoza"]),  # Latin finds Cyrillic
    (["people", "search", "МАДИНА"], ["Мадина Юсупова"], ["Dilnoza"]),
    (["people", "search", "дилноза"], ["Dilnoza Karimova"], ["Мадина"]),
    (["people", "search", "90 111 22"], ["Мадина Юсупова"], ["Dilnoza"]),  # digits of a phone
    (["people", "search", CHAT], ["Dilnoza Karimova"], ["Мадина"]),  # a Telegram id
    (["people", "search", "nobody"], ["nobody found"], ["Dilnoza", "Мадина"]),
    (["people", "list"], ["Dilnoza Karimova  [linked: telegram; opted out: no]",
                          "Мадина Юсупова  [linked: sms; opted out: yes]"], []),
    (["people", "show", "2"], [f"account 2: sms {PHONE} (opted out)"], []),
])
def test_lists_and_search(admin_cli: Admin, office: Database, args: list[str], expected: list[str],
                          absent: list[str]) -> None:
    with office.transaction() as session:
        identities.set_opted_out(session, identities.identity_for(session, "sms", PHONE), True)
    code, out, _ = admin_cli(*args)
    assert code == 0
    assert all(text in out for text in expected), out
    assert not any(text in out for text in absent), out


def test_move_an_appointment_plans_its_reminders_again(admin_cli: Admin, office: Database) -> None:
    assert admin_cli("appointments", "add", "--person", "2", "--kind", "psychologist", "--at", FUTURE,
                     "--place", "Office")[0] == 0
    assert admin_cli("appointments", "status", "1", "reschedule_requested")[0] == 0
    code, out, _ = admin_cli("appointments", "move", "1", "--at", "12.01.2099 15:30")
    assert code == 0 and "12.01.2099 15:30 Asia/Tashkent" in out
    with office.transaction() as session:
        planned = [(m.step, m.status, m.trigger_version) for m in outbox.list_outbox(session, 2)]
        [moved] = [e.details for e in session.scalars(select(AuditLog).where(AuditLog.action == "appointment_moved"))]
    assert ("day_before", "cancelled", 1) in planned and ("day_before", "pending", 2) in planned
    assert moved["new"].startswith("2099-01-12T15:30")
    code, out, _ = admin_cli("appointments", "list", "--person", "2")
    assert "12.01.2099 15:30 Asia/Tashkent" in out and "scheduled" in out and "reschedule_requested" not in out
    assert admin_cli("appointments", "status", "1", "cancelled")[0] == 0
    code, _, err = admin_cli("appointments", "move", "1", "--at", "13.01.2099 15:30")
    assert code == 2 and "cancelled: add a new one instead" in err


def test_documents_of_one_person(admin_cli: Admin, office: Database) -> None:
    assert "person 2 has no documents recorded" in admin_cli("documents", "list", "--person", "2")[1]
    assert admin_cli("documents", "set", "--person", "2", "--type", "passport", "--status", "ready",
                     "--office", "Namangan office", "--note", "Bring your old passport")[0] == 0
    assert admin_cli("documents", "set", "--person", "1", "--type", "id_card", "--status", "submitted",
                     "--office", "Tashkent office")[0] == 0
    code, out, _ = admin_cli("documents", "list", "--person", "2")
    assert code == 0 and "passport" in out and "ready" in out and "Bring your old passport" in out
    assert "id_card" not in out and "id_card" in admin_cli("documents", "list", "--person", "1")[1]


# 3. Document types and statuses are choices ---------------------------------------------------------

@pytest.mark.parametrize(("kind", "status", "error", "reads"), [
    ("passport", "ready", None, "Паспорт: олиб кетишга тайёр"),
    ("doc_x", "ready", "unknown document type 'doc_x'; use one of passport, id_card", None),
    ("passport", "weird_status", "unknown document status 'weird_status'; use one of submitted", None),
])
def test_document_type_and_status_are_choices_the_person_can_read(
    admin_cli: Admin, office: Database, kind: str, status: str, error: str | None, reads: str | None
) -> None:
    code, out, err = admin_cli("documents", "set", "--person", "2", "--type", kind, "--status", status,
                               "--office", "Office")
    if error is not None:
        assert code == 2 and error in err and count(office, Document) == 0
    else:
        assert code == 0 and reads in out and count(office, Document) == 1


# 4. Course export and import round-trip ------------------------------------------------------------

HEADER = "trade,city,title_en,instruction_language,start_date,duration_weeks,seats_left,cost,contact\n"


def test_export_then_import_updates_adds_and_deletes_without_duplicates(
    admin_cli: Admin, office: Database, tmp_path: Path
) -> None:
    first = tmp_path / "first.csv"
    first.write_text(HEADER + "welding,Namangan,Welding,uz,2099-02-01,12,5,0,Centre\n"
                     + "baking,Almaty,Baking,kk,01.03.2099,8,10,0,Centre\n", encoding="utf-8")
    assert admin_cli("courses", "import", str(first))[1] == "imported: 2 added, 0 updated, 0 deleted\n"
    with office.transaction() as session:
        register_interest(session, 1, session.get(Course, 2), None, None)
    exported = tmp_path / "exported.csv"
    assert admin_cli("courses", "export", str(exported))[0] == 0
    lines = exported.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("id,trade,city") and lines[0].endswith(",delete")
    assert admin_cli("courses", "import", str(exported))[1] == "imported: 0 added, 2 updated, 0 deleted\n"
    assert count(office, Course) == 2  # the round trip duplicates nothing
    [welding] = [line for line in lines if line.startswith("1,welding,Namangan")]
    [baking] = [line for line in lines if line.startswith("2,baking,Almaty")]
    cooking = ",cooking,Osh,ru,2099-04-01,6,7,0,Centre,,Cooking" + "," * 14
    edited = [lines[0], welding.replace(",5,0,", ",2,0,"), baking.removesuffix(",") + ",yes", cooking]
    exported.write_text("\n".join(edited) + "\n", encoding="utf-8")
    code, out, err = admin_cli("courses", "import", str(exported))
    assert (code, out) == (0, "imported: 1 added, 1 updated, 1 deleted\n"), err
    with office.transaction() as session:
        courses = {c.trade: c for c in session.scalars(select(Course))}
        [interest] = session.scalars(select(CourseInterest))
    assert set(courses) == {"welding", "cooking"} and courses["welding"].seats_left == 2
    assert (interest.course_id, interest.trade) == (None, "baking")  # the interest outlives the course


@pytest.mark.parametrize(("rows", "expected"), [
    ("99,welding,Namangan,Welding,uz,2099-02-01,12,5,0,Centre,\n", "line 2: field 'id': no course with id 99"),
    (",welding,Namangan,Welding,uz,2099-02-01,12,5,0,Centre,yes\n", "line 2: field 'id': give the id"),
    ("1,welding,Namangan,Welding,uz,2099-02-01,12,5,0,Centre,maybe\n", "line 2: field 'delete': write yes"),
    ("1,welding,Namangan,Welding,uz,2099-02-01,12,5,0,Centre,\n1,welding,Namangan,Welding,uz,2099-02-01,12,5,0,"
     "Centre,yes\n", "line 3: field 'id': course 1 is on an earlier line too"),
])
def test_a_bad_id_or_delete_changes_nothing(
    admin_cli: Admin, office: Database, tmp_path: Path, rows: str, expected: str
) -> None:
    path = tmp_path / "c.csv"
    path.write_text(HEADER + "welding,Namangan,Welding,uz,2099-02-01,12,5,0,Centre\n", encoding="utf-8")
    assert admin_cli("courses", "import", str(path))[0] == 0
    path.write_text("id," + HEADER.rstrip("\n") + ",delete\n" + rows, encoding="utf-8")
    code, _, err = admin_cli("courses", "import", str(path))
    assert code == 2 and expected in err and "nothing imported" in err
    with office.transaction() as session:
        [course] = session.scalars(select(Course))
    assert course.seats_left == 5


def test_courses_delete(admin_cli: Admin, office: Database, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(HEADER + "welding,Namangan,Welding,uz,2099-02-01,12,5,0,Centre\n", encoding="utf-8")
    admin_cli("courses", "import", str(path))
    assert admin_cli("courses", "delete", "1")[1] == "deleted course 1\n"
    assert count(office, Course) == 0
    assert "no course with id 1" in admin_cli("courses", "delete", "1")[2]


# 7. Local times in, local times out, plain errors ------------------------------------------------------

@pytest.mark.parametrize(("typed", "shown"), [
    ("05.12.2098 09:00", "05.12.2098 09:00 Asia/Tashkent"),
    ("2098-12-05 09:00", "05.12.2098 09:00 Asia/Tashkent"),
    ("2098-12-05T09:00", "05.12.2098 09:00 Asia/Tashkent"),
    ("05/12/2098 9:00", "05.12.2098 09:00 Asia/Tashkent"),
    ("5 Dec 2098", None),
])
def test_local_times_in_the_usual_formats(admin_cli: Admin, office: Database, typed: str, shown: str | None) -> None:
    code, _, err = admin_cli("appointments", "add", "--person", "2", "--kind", "medical", "--at", typed,
                             "--place", "Clinic")
    if shown is None:
        assert code == 2 and "write it like 05.12.2026 09:00" in err
        return
    assert code == 0
    out = admin_cli("appointments", "list")[1]
    assert shown in out and "UTC" not in out


def test_free_slots_take_the_caseworkers_zone_by_default(admin_cli: Admin, office: Database) -> None:
    code, out, _ = admin_cli("appointments", "free-slot", "--caseworker", "1", "--at", "05.12.2098 09:00")
    assert code == 0 and "05.12.2098 09:00 Asia/Tashkent" in out
    code, out, _ = admin_cli("appointments", "free-slot", "--caseworker", "1", "--at", "05.12.2098 09:00",
                             "--time-zone", "Asia/Bishkek")
    assert code == 0 and "05.12.2098 09:00 Asia/Bishkek" in out
    code, _, err = admin_cli("appointments", "free-slot", "--caseworker", "1", "--at", "2098-12-05 09:00")
    assert code == 2 and "already offers 05.12.2098 09:00" in err


@pytest.mark.parametrize(("row", "expected"), [
    ("welding,Namangan,Welding,uz,next week,12,5,0,C", "line 2: field 'start_date': 'next week' is not a date; "
                                                       "write it like 05.12.2026 or 2026-12-05"),
    ("welding,Namangan,Welding,uz,20x6-01-01,12,5,0,C", "line 2: field 'start_date': '20x6-01-01' is not a date"),
    ("welding,Namangan,Welding,uz,2099-01-01,many,5,0,C", "line 2: field 'duration_weeks': write a whole number"),
    ("welding,Namangan,Welding,uz,2099-01-01,12,-5,0,C", "line 2: field 'seats_left': must not be negative"),
])
def test_course_import_errors_are_in_plain_words(
    admin_cli: Admin, office: Database, tmp_path: Path, row: str, expected: str
) -> None:
    path = tmp_path / "c.csv"
    path.write_text(HEADER + row + "\n", encoding="utf-8")
    code, _, err = admin_cli("courses", "import", str(path))
    assert code == 2 and expected in err
    assert "Input should be" not in err and "Value error" not in err


# 9. The outbox list: upcoming and problems, in plain words ------------------------------------------------

def test_outbox_list_shows_what_is_coming_and_what_went_wrong(admin_cli: Admin, office: Database) -> None:
    admin_cli("appointments", "add", "--person", "2", "--kind", "medical", "--at", FUTURE, "--place", "Clinic")
    admin_cli("appointments", "move", "1", "--at", "11.01.2099 10:00")
    with office.transaction() as session:
        rows = {m.step: m for m in outbox.list_outbox(session, 2) if m.status == "pending"}
        outbox.set_outcome(rows["missed_follow_up"], "skipped",
                           outbox.NOT_NEEDED + "the person did not miss the appointment")
        outbox.set_outcome(rows["two_hours_before"], "failed", "the provider refused the message")
    code, out, _ = admin_cli("outbox", "list")
    assert code == 0
    assert "appointment_reminders/day_before  for appointment 1, changed 1 time(s)  due 10.01.2099 10:00 " \
           "Asia/Tashkent  pending" in out
    assert "failed: the provider refused the message" in out
    *listed, summary = out.splitlines()
    assert len(listed) == 2 and not any(word in line for line in listed for word in ("cancelled", "not needed"))
    assert "appointment:1" not in out and "#" not in out
    assert summary == "2 upcoming or with a problem; 4 sent, cancelled or not needed (--all shows them)"
    code, everything, _ = admin_cli("outbox", "list", "--all")
    assert everything.count("cancelled: the appointment moved") == 3 and "not needed: the person did not miss" \
        in everything
    assert admin_cli("outbox", "list", "--status", "cancelled")[1].count("\n") == 3


# 6. A message waits for a channel (the CLI shows it) ---------------------------------------------------------

def test_a_document_ready_message_waits_for_the_person_to_link_and_says_so(admin_cli: Admin, office: Database) -> None:
    add_person(office, "Not Linked Yet", 1)
    assert admin_cli("documents", "set", "--person", "3", "--type", "passport", "--status", "ready",
                     "--office", "Office")[0] == 0
    with office.transaction() as session:
        [row] = outbox.list_outbox(session, 3)
        outbox.defer(row, datetime.now(timezone.utc) + timedelta(hours=1), outbox.WAITING_FOR_CHANNEL)
    out = admin_cli("outbox", "list", "--person", "3")[1]
    assert "document_ready/ready" in out and "pending: waiting for the person to link Telegram or SMS" in out


# 8. Pipes: output only after the commit; a closed pipe ends quietly ---------------------------------------------

def test_the_printed_link_code_is_the_stored_one(admin_cli: Admin, office: Database) -> None:
    code, out, _ = admin_cli("people", "link-code", "2")
    printed = out.split("SMS: LINK ")[1].strip()
    with office.transaction() as session:
        stranger = identities.identity_for(session, "sms", STRANGER)
        session.get(ChannelIdentity, 2).person_id = None  # type: ignore[union-attr]
        session.get(Person, 2).phone = None  # type: ignore[union-attr]
        result = identities.redeem_link_code(session, b"test-key", stranger, printed, datetime.now(timezone.utc))
    assert code == 0 and result.outcome == "linked"



@pytest.mark.parametrize("args", [["people", "list"], ["people", "link-code", "2"], ["courses", "export", "-"]])
def test_a_closed_pipe_ends_quietly_after_the_commit(office: Database, tmp_path: Path, args: list[str]) -> None:
    """`hamroh admin … | head`: the reader is gone before anything is written."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    env = {**os.environ, "HAMROH_DATABASE_URL": office.url, "HAMROH_SECRET_KEY": "test-key",
           "PYTHONPATH": str(REPO_ROOT)}
    try:
        done = subprocess.run([sys.executable, "-m", "bot", "admin", *args], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path, check=False)
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (0, "")
    assert count(office, LinkCode) == (1 if "link-code" in args else 0)  # committed although nobody read it
