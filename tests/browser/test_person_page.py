"""The person page in a real Chromium, on a phone and a laptop: a caseworker adds an appointment
(its reminders are planned, shown at their local times), issues a link code that the channels then
redeem, and every page on the way passes the accessibility check."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page

from bot.db.models import utcnow
from bot.repositories import appointments, identities, outbox

from ..console_harness import PASSWORD, SECRET_KEY, ConsoleSite
from .harness import LAPTOP, PHONE, Screen, accessible


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize("screen", [PHONE, LAPTOP], ids=["phone", "laptop"])
def test_appointment_and_link_code_from_the_person_page(console_site: ConsoleSite, new_page: object,
                                                         screen: Screen) -> None:
    page: Page = new_page(screen=screen)  # type: ignore[operator]
    page.goto(f"{console_site.url}/console/login")
    page.get_by_label("Username").fill("aziza")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    person_id = console_site.people["own"]
    page.goto(f"{console_site.url}/console/people/{person_id}")
    accessible(page)

    day = (datetime.now(ZoneInfo("Asia/Tashkent")) + timedelta(days=3)).date()
    page.get_by_label("With").select_option("psychologist")
    page.get_by_label("Date", exact=True).fill(day.isoformat())
    page.get_by_label(re.compile("^Time \\(person's local time")).fill("09:00")
    page.get_by_label("Place").fill("Mahalla centre, room 2")
    page.get_by_role("button", name="Add the appointment").click()
    assert page.get_by_role("status").inner_text() == "The appointment is added; its reminders are planned."
    reminder = f"{day - timedelta(days=1):%b} {(day - timedelta(days=1)).day}, {day.year}, 10:00 (Asia/Tashkent, UTC+5)"
    assert reminder in page.locator("#messages").locator("..").inner_text()
    accessible(page)
    with console_site.database.transaction() as session:
        [added] = appointments.list_appointments(session, person_id)
        planned = [row.step for row in outbox.list_outbox(session, person_id) if row.status == "pending"]
    assert planned == ["day_before", "two_hours_before", "missed_follow_up"]
    assert added.starts_at == datetime.combine(day, datetime.min.time().replace(hour=9), ZoneInfo("Asia/Tashkent"))

    page.get_by_role("button", name="Issue a link code").click()
    code = page.locator("p.code strong").inner_text()
    assert page.get_by_role("img", name="QR code of the Telegram link").is_visible()
    accessible(page)
    with console_site.database.transaction() as session:
        identity = identities.identity_for(session, "sms", "+998901112233")
        assert identities.redeem_link_code(session, SECRET_KEY.encode(), identity, code, utcnow()).outcome == "linked"
