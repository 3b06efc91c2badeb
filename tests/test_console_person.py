"""The person page's changes over a real loopback server and database (SQLite and PostgreSQL):
each a request in, a status and the database's change out: link codes that the channels redeem,
unlinking, appointments whose reminders are planned, moved and cancelled, documents; who may do
it, CSRF, and bad input that changes nothing."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from bot.db.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    AuditLog,
    ChannelIdentity,
    Document,
    LinkCode,
    OutboxMessage,
    utcnow,
)
from bot.repositories import appointments, audit, identities, outbox, people

from .console_harness import BOT_USERNAME, SECRET_KEY, ConsoleSite

ZONE = ZoneInfo("Asia/Tashkent")  # the SAMPLE people's time zone (UTC+5)


def _csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def _page(site: ConsoleSite, client: httpx.Client, who: str = "own") -> str:
    response = client.get(f"/console/people/{site.people[who]}")
    assert response.status_code == 200
    return response.text


def _post(site: ConsoleSite, client: httpx.Client, path: str, who: str = "own", **data: str) -> httpx.Response:
    csrf = _csrf(client.get("/console/", follow_redirects=True).text)
    return client.post(f"/console/people/{site.people[who]}{path}", data={"csrf": csrf, **data})


def _in_days(days: int) -> str:
    return (datetime.now(ZONE) + timedelta(days=days)).date().isoformat()


def _appointment(site: ConsoleSite, starts_at: datetime, who: str = "own") -> tuple[int, str]:
    with site.database.transaction() as session:
        added = appointments.add_appointment(session, "test", person_id=site.people[who],
                                             kind=AppointmentKind.PSYCHOLOGIST, starts_at=starts_at, place="Room 4")
        session.flush()
        return added.id, added.updated_at.isoformat()


def _outbox(site: ConsoleSite, appointment_id: int) -> list[tuple[str, str, int]]:
    with site.database.transaction() as session:
        rows = session.scalars(select(OutboxMessage).where(
            OutboxMessage.trigger_key == f"appointment:{appointment_id}").order_by(OutboxMessage.id))
        return [(row.step, row.status, row.trigger_version) for row in rows]


def _actions(site: ConsoleSite, action: str) -> list[str]:
    with site.database.transaction() as session:
        return [entry.actor for entry in audit.entries(session, action=action)]


def _actor(site: ConsoleSite, username: str = "aziza") -> str:
    return f"caseworker:{site.caseworkers[username]}"


# Appointments ------------------------------------------------------------------------------------

def test_added_appointment_plans_its_reminders(console_site: ConsoleSite) -> None:
    day = _in_days(3)
    with console_site.signed_in("aziza") as client:
        response = _post(console_site, client, "/appointments", kind="psychologist", date=day, time="09:00",
                         place="Mahalla centre, room 2", family_session="yes")
        assert response.status_code == 303
        assert response.headers["location"] == f"/console/people/{console_site.people['own']}?done=appointment_added"
        page = client.get(response.headers["location"]).text
    with console_site.database.transaction() as session:
        [added] = appointments.list_appointments(session, console_site.people["own"])
        assert added.starts_at == datetime.fromisoformat(f"{day}T09:00").replace(tzinfo=ZONE)
        assert (added.kind, added.place, added.family_session) == (AppointmentKind.PSYCHOLOGIST,
                                                                   "Mahalla centre, room 2", True)
        assert added.caseworker_id == console_site.caseworkers["aziza"]
    assert [(step, status) for step, status, _ in _outbox(console_site, added.id)] == [
        ("day_before", "pending"), ("two_hours_before", "pending"), ("missed_follow_up", "pending")]
    assert _actions(console_site, "appointment_added") == [_actor(console_site)]
    assert "its reminders are planned" in page
    # the reminder the day before, at 10:00 the person's time, named as such, in their language (Russian)
    day_before = datetime.fromisoformat(day).date() - timedelta(days=1)
    assert f"{day_before.day}, {day_before.year}, 10:00 (Asia/Tashkent, UTC+5)" in page
    assert "Напоминаем: завтра" in page and "Mahalla centre, room 2" in page


def test_moved_appointment_replans_and_cancelled_one_cancels(console_site: ConsoleSite) -> None:
    appointment_id, updated = _appointment(console_site, datetime.now(ZONE) + timedelta(days=4))
    with console_site.signed_in("aziza") as client:
        moved = _post(console_site, client, f"/appointments/{appointment_id}/move", date=_in_days(6), time="15:30",
                      updated=updated)
        assert moved.status_code == 303 and moved.headers["location"].endswith("?done=appointment_moved")
        rows = _outbox(console_site, appointment_id)
        assert [status for _, status, version in rows if version == 1] == ["cancelled"] * 3
        assert [status for _, status, version in rows if version == 2] == ["pending"] * 3
        with console_site.database.transaction() as session:
            appointment = appointments.get_appointment(session, appointment_id)
            assert appointment.starts_at == datetime.fromisoformat(f"{_in_days(6)}T15:30").replace(tzinfo=ZONE)
            updated = appointment.updated_at.isoformat()
        cancelled = _post(console_site, client, f"/appointments/{appointment_id}/status", status="cancelled",
                          updated=updated)
        assert cancelled.status_code == 303 and cancelled.headers["location"].endswith("?done=appointment_cancelled")
        # the same form again (a double submit): nothing changes
        again = _post(console_site, client, f"/appointments/{appointment_id}/status", status="cancelled",
                      updated=updated)
        assert again.status_code == 409 and "Someone changed this record" in again.text
    assert {status for _, status, _ in _outbox(console_site, appointment_id)} == {"cancelled"}
    assert _actions(console_site, "appointment_moved") == [_actor(console_site)]
    assert _actions(console_site, "appointment_status") == [_actor(console_site)]


@pytest.mark.parametrize("status", ["attended", "missed"])
def test_past_appointment_is_marked(console_site: ConsoleSite, status: str) -> None:
    appointment_id, updated = _appointment(console_site, utcnow() + timedelta(days=2))
    with console_site.database.transaction() as session:  # the appointment has begun
        appointment = appointments.get_appointment(session, appointment_id)
        appointment.starts_at = utcnow() - timedelta(hours=1)
        session.flush()
        updated = appointment.updated_at.isoformat()
    with console_site.signed_in("sardor") as client:
        response = _post(console_site, client, f"/appointments/{appointment_id}/status", status=status,
                         updated=updated)
    assert response.status_code == 303 and response.headers["location"].endswith(f"?done=appointment_{status}")
    with console_site.database.transaction() as session:
        assert appointments.get_appointment(session, appointment_id).status is AppointmentStatus(status)
    assert _actions(console_site, "appointment_status") == [_actor(console_site, "sardor")]


def test_future_appointment_cannot_be_marked_attended(console_site: ConsoleSite) -> None:
    appointment_id, updated = _appointment(console_site, utcnow() + timedelta(days=2))
    with console_site.signed_in("aziza") as client:
        response = _post(console_site, client, f"/appointments/{appointment_id}/status", status="attended",
                         updated=updated)
    assert response.status_code == 400 and "only once it has begun" in response.text
    with console_site.database.transaction() as session:
        assert appointments.get_appointment(session, appointment_id).status is AppointmentStatus.SCHEDULED


def test_appointment_of_someone_else_is_not_found(console_site: ConsoleSite) -> None:
    theirs, updated = _appointment(console_site, utcnow() + timedelta(days=2), who="other")
    with console_site.signed_in("aziza") as client:  # her own person's URL, Chinara's appointment
        response = _post(console_site, client, f"/appointments/{theirs}/status", status="cancelled", updated=updated)
    assert response.status_code == 404
    with console_site.database.transaction() as session:
        assert appointments.get_appointment(session, theirs).status is AppointmentStatus.SCHEDULED


BAD_APPOINTMENTS = [
    ({"kind": "psychologist", "date": "", "time": "09:00", "place": "x"}, "Choose a date and a time."),
    ({"kind": "psychologist", "date": "2026-13-45", "time": "09:00", "place": "x"}, "could not be read"),
    ({"kind": "psychologist", "date": "yesterday", "time": "nine", "place": "x"}, "could not be read"),
    ({"kind": "psychologist", "date": "2020-01-01", "time": "09:00", "place": "x"}, "already passed"),
    ({"kind": "psychologist", "date": "9999-12-31", "time": "23:59", "place": "x"}, "more than two years ahead"),
    ({"kind": "astrologer", "date": "FUTURE", "time": "09:00", "place": "x"}, "Choose who the appointment is with."),
    ({"kind": "psychologist", "date": "FUTURE", "time": "09:00", "place": "  "}, "Write where the appointment"),
    ({"kind": "psychologist", "date": "FUTURE", "time": "09:00", "place": "x" * 201}, "A field is too long."),
    ({}, "Choose who the appointment is with."),
]


@pytest.mark.parametrize(("form", "message"), BAD_APPOINTMENTS)
def test_bad_appointment_gets_400_and_changes_nothing(console_site: ConsoleSite, form: dict[str, str],
                                                      message: str) -> None:
    form = {key: _in_days(3) if value == "FUTURE" else value for key, value in form.items()}
    with console_site.signed_in("aziza") as client:
        response = _post(console_site, client, "/appointments", **form)
    assert response.status_code == 400
    assert message in response.text and 'role="alert"' in response.text
    if form.get("place", "").strip() and len(form["place"]) < 200:
        assert f'value="{form["place"]}"' in response.text  # what was typed is kept
    with console_site.database.transaction() as session:
        assert appointments.list_appointments(session, console_site.people["own"]) == []
        assert outbox.list_outbox(session, console_site.people["own"]) == []


def test_double_submitted_appointment_is_added_once(console_site: ConsoleSite) -> None:
    form = {"kind": "legal", "date": _in_days(5), "time": "11:00", "place": "Adliya, 3"}
    with console_site.signed_in("aziza") as client:
        assert _post(console_site, client, "/appointments", **form).status_code == 303
        again = _post(console_site, client, "/appointments", **form)
    assert again.status_code == 409 and "already recorded" in again.text
    with console_site.database.transaction() as session:
        assert len(appointments.list_appointments(session, console_site.people["own"])) == 1


# Times -------------------------------------------------------------------------------------------

def test_times_show_the_persons_zone_and_the_caseworkers_when_they_differ(console_site: ConsoleSite) -> None:
    start = datetime(2030, 3, 5, 9, 0, tzinfo=ZoneInfo("Asia/Bishkek"))
    with console_site.database.transaction() as session:
        people.get_person(session, console_site.people["own"]).time_zone = "Asia/Bishkek"  # UTC+6
    _appointment(console_site, start)
    with console_site.signed_in("aziza") as client:  # Aziza works in Asia/Tashkent (UTC+5)
        page = _page(console_site, client)
    assert "Tue, Mar 5, 2030, 09:00 (Asia/Bishkek, UTC+6)" in page
    assert "Your time: Tue, Mar 5, 2030, 08:00 (Asia/Tashkent, UTC+5)" in page
    assert "Mon, Mar 4, 2030, 10:00 (Asia/Bishkek, UTC+6)" in page  # the reminder the day before


def test_past_messages_show_status_and_why(console_site: ConsoleSite) -> None:
    appointment_id, _ = _appointment(console_site, utcnow() + timedelta(days=3))
    with console_site.database.transaction() as session:
        rows = outbox.list_outbox(session, console_site.people["own"])
        outbox.set_outcome(rows[0], "skipped", "the person opted out")
        outbox.set_outcome(rows[1], "sent", "")
        rows[1].sent_at, rows[1].rendered = utcnow(), [{"text": "The text that went out", "buttons": []}]
        outbox.record_answer(session, rows[1].id, console_site.people["own"], "4")
    with console_site.signed_in("aziza") as client:
        page = _page(console_site, client)
    past = page[page.index("Past messages"):]
    assert "Skipped</strong>: the person opted out" in past
    assert "The text that went out" in past and "Sent</strong>" in past
    answers = page[page.index("Flow answers"):]
    assert "appointment_reminders</td><td>4</td>" in answers


def test_message_waiting_for_a_channel_says_so(console_site: ConsoleSite) -> None:
    _appointment(console_site, utcnow() + timedelta(days=3))
    with console_site.database.transaction() as session:
        row = outbox.list_outbox(session, console_site.people["own"])[0]
        outbox.defer(row, utcnow() + timedelta(hours=1), outbox.WAITING_FOR_CHANNEL)
    with console_site.signed_in("aziza") as client:
        page = _page(console_site, client)
    upcoming = page[page.index('id="messages"'):page.index("Past messages") if "Past messages" in page else None]
    assert "No channel is linked" in upcoming
    assert upcoming.count("as soon as the person links Telegram or a phone") == 1
    assert upcoming.count("Planned for") == 1  # the time it was due, next to the wait


# Link codes and channels -------------------------------------------------------------------------

def test_link_code_is_shown_once_and_works(console_site: ConsoleSite, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with console_site.signed_in("aziza") as client:
        response = _post(console_site, client, "/link-code")
    assert response.status_code == 200
    code = re.search(r'<p class="code"[^>]*><strong>([A-Z0-9]{8})</strong>', response.text).group(1)  # type: ignore[union-attr]
    assert f"https://t.me/{BOT_USERNAME}?start={code}" in response.text
    assert f"LINK {code}" in response.text and "<svg" in response.text and "<path" in response.text
    assert code not in caplog.text
    with console_site.database.transaction() as session:
        stored = session.scalars(select(LinkCode)).all()
        logged = session.scalars(select(AuditLog)).all()
        assert [row.person_id for row in stored] == [console_site.people["own"]] and stored[0].code_hash != code
        assert not any(code in str(entry.details) for entry in logged)
        identity = identities.identity_for(session, "telegram", "700100200")
        result = identities.redeem_link_code(session, SECRET_KEY.encode(), identity, code, utcnow())
    assert result.outcome == "linked"
    assert _actions(console_site, "link_code_issued") == [_actor(console_site)]


def test_link_code_without_bot_username_says_what_is_needed(console_site: ConsoleSite) -> None:
    console_site.settings.telegram_bot_username = ""
    with console_site.signed_in("aziza") as client:
        response = _post(console_site, client, "/link-code")
    assert response.status_code == 200
    assert "HAMROH_TELEGRAM_BOT_USERNAME" in response.text
    assert "t.me/" not in response.text and "<svg" not in response.text and "LINK " in response.text


def _linked(site: ConsoleSite, address: str = "700100200") -> int:
    with site.database.transaction() as session:
        person = people.get_person(session, site.people["own"])
        code = identities.issue_link_code(session, SECRET_KEY.encode(), person, utcnow(), timedelta(hours=1))
        identity = identities.identity_for(session, "telegram", address)
        assert identities.redeem_link_code(session, SECRET_KEY.encode(), identity, code, utcnow()).outcome == "linked"
        return identity.id


def test_unlink_asks_first_then_removes_access(console_site: ConsoleSite) -> None:
    identity_id = _linked(console_site)
    path = f"/console/people/{console_site.people['own']}/channels/{identity_id}/unlink"
    with console_site.signed_in("aziza") as client:
        page = _page(console_site, client)
        assert f'href="{path}"' in page and "700100200" in page
        confirm = client.get(path)
        assert confirm.status_code == 200 and "700100200" in confirm.text and "Yes, unlink it" in confirm.text
        with console_site.database.transaction() as session:  # asking changed nothing
            assert session.get(ChannelIdentity, identity_id).person_id == console_site.people["own"]  # type: ignore[union-attr]
        done = client.post(path, data={"csrf": _csrf(confirm.text)})
        assert done.status_code == 303 and done.headers["location"].endswith("?done=channel_unlinked")
        assert "no longer reaches this record" in client.get(done.headers["location"]).text
        again = client.post(path, data={"csrf": _csrf(confirm.text)})
        assert again.status_code == 409 and "no longer linked" in again.text
    with console_site.database.transaction() as session:
        identity = session.get(ChannelIdentity, identity_id)
        assert identity is not None and identity.person_id is None
        assert not identities.is_verified(identity, utcnow())
        assert people.get_person(session, console_site.people["own"]).telegram_user_id is None
    assert _actions(console_site, "identity_unlinked") == [_actor(console_site)]


def test_opt_out_is_shown_and_cannot_be_undone_here(console_site: ConsoleSite) -> None:
    identity_id = _linked(console_site)
    with console_site.database.transaction() as session:
        identities.set_opted_out(session, identities.identity_by_id(session, identity_id), True)
    with console_site.signed_in("aziza") as client:
        page = _page(console_site, client)
    assert "Only the person can start them again" in page and "planned messages will be skipped" in page
    assert not re.search(r'action="[^"]*opt', page)  # no form to opt them back in


# Documents ---------------------------------------------------------------------------------------

def test_document_is_added_then_changed(console_site: ConsoleSite) -> None:
    with console_site.signed_in("aziza") as client:
        added = _post(console_site, client, "/documents", type="passport", status="in_progress",
                      office="Yunusobod IIB", note="Bring two photos", updated="")
        assert added.status_code == 303 and added.headers["location"].endswith("?done=document_saved")
        with console_site.database.transaction() as session:
            document = session.scalars(select(Document)).one()
            assert (document.type, document.status, document.office, document.note) == (
                "passport", "in_progress", "Yunusobod IIB", "Bring two photos")
            updated = document.updated_at.isoformat()
        page = _page(console_site, client)
        section = page[page.index('id="documents"'):page.index('id="requests"')]
        assert "<strong>Passport</strong>" in section and "Bring two photos" in section  # the caseworker's language
        assert "Документ: Паспорт" in page  # the flow message the person will read, in theirs
        changed = _post(console_site, client, "/documents", type="passport", status="ready", office="Yunusobod IIB",
                        note="Ready at window 3", updated=updated)
        assert changed.status_code == 303
        stale = _post(console_site, client, "/documents", type="passport", status="rejected", office="x", note="",
                      updated=updated)
        assert stale.status_code == 409
    with console_site.database.transaction() as session:
        document = session.scalars(select(Document)).one()
        assert (document.status, document.note) == ("ready", "Ready at window 3")
    assert _actions(console_site, "document_status") == [_actor(console_site)] * 2


@pytest.mark.parametrize(("form", "status", "message"), [
    ({"type": "spaceship", "status": "ready", "office": "x"}, 400, "Choose the document."),
    ({"type": "passport", "status": "lost", "office": "x"}, 400, "Choose the document's status."),
    ({"type": "passport", "status": "ready", "office": " "}, 400, "Write which office"),
    ({"type": "passport", "status": "ready", "office": "x", "note": "n" * 1001}, 400, "A field is too long."),
])
def test_bad_document_gets_400(console_site: ConsoleSite, form: dict[str, str], status: int, message: str) -> None:
    with console_site.signed_in("aziza") as client:
        response = _post(console_site, client, "/documents", updated="", **form)
    assert response.status_code == status and message in response.text
    with console_site.database.transaction() as session:
        assert session.scalars(select(Document)).all() == []


# Who may do it -----------------------------------------------------------------------------------

def _routes(site: ConsoleSite) -> dict[str, tuple[str, str, dict[str, str]]]:
    """Every new route: method, path (under the person), a valid form."""
    appointment_id, updated = _appointment(site, utcnow() + timedelta(days=3), who="own")
    identity_id = _linked(site)
    return {
        "link code": ("POST", "/link-code", {}),
        "unlink page": ("GET", f"/channels/{identity_id}/unlink", {}),
        "unlink": ("POST", f"/channels/{identity_id}/unlink", {}),
        "add appointment": ("POST", "/appointments", {"kind": "medical", "date": _in_days(9), "time": "10:00",
                                                      "place": "Poliklinika 5"}),
        "move appointment": ("POST", f"/appointments/{appointment_id}/move", {"date": _in_days(8), "time": "12:00",
                                                                              "updated": updated}),
        "cancel appointment": ("POST", f"/appointments/{appointment_id}/status", {"status": "cancelled",
                                                                                  "updated": updated}),
        "set document": ("POST", "/documents", {"type": "id_card", "status": "submitted", "office": "IIB",
                                                "updated": ""}),
    }


@pytest.mark.parametrize("route", ["link code", "unlink page", "unlink", "add appointment", "move appointment",
                                   "cancel appointment", "set document"])
@pytest.mark.parametrize(("username", "status"), [
    ("aziza", None), ("sardor", None), ("admin", None),  # her person, her supervisor, the programme admin
    ("bobur", 404), ("chinara", 404),  # other caseworkers (same team, other team)
    ("anvar", 403),  # the analyst never
])
def test_every_route_for_every_role(console_site: ConsoleSite, route: str, username: str,
                                    status: int | None) -> None:
    method, path, form = _routes(console_site)[route]
    with console_site.signed_in(username) as client:
        csrf = _csrf(client.get("/console/", follow_redirects=True).text)
        url = f"/console/people/{console_site.people['own']}{path}"
        response = client.get(url) if method == "GET" else client.post(url, data={"csrf": csrf, **form})
    expected = status or (200 if route in ("link code", "unlink page") else 303)
    assert response.status_code == expected, response.text[:500]
    if status == 404:
        assert _actions(console_site, "person_denied") == [_actor(console_site, username)]
    if status is not None:
        with console_site.database.transaction() as session:
            assert session.scalars(select(LinkCode)).all().__len__() == 1  # only the harness's own
            assert len(session.scalars(select(Appointment)).all()) == 1


@pytest.mark.parametrize("route", ["link code", "unlink", "add appointment", "cancel appointment", "set document"])
def test_posts_without_csrf_are_refused(console_site: ConsoleSite, route: str) -> None:
    method, path, form = _routes(console_site)[route]
    with console_site.signed_in("aziza") as client:
        response = client.post(f"/console/people/{console_site.people['own']}{path}", data=form)
    assert response.status_code == 403
    with console_site.database.transaction() as session:
        assert len(session.scalars(select(LinkCode)).all()) == 1
        assert session.scalars(select(Document)).all() == []
        assert session.scalars(select(ChannelIdentity)).one().person_id == console_site.people["own"]
        assert [a.status for a in session.scalars(select(Appointment))] == [AppointmentStatus.SCHEDULED]
