"""The caseworkers' console in a real headless Chromium: signing in, what each role sees, a
crisis from Telegram reaching the inbox, replies reaching the person on Telegram and SMS, the bot
quiet while a caseworker handles the conversation, and every page checked with axe."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from playwright.sync_api import Page, expect

from bot.db.models import Handoff, Role
from bot.repositories import identities

from ..channel_harness import CATALOG, Harness, message, sms
from ..console_harness import PASSWORD, add_account
from .conftest import NewPage
from .harness import PHONE, accessible

CRISIS_UZ = "o'zimni o'ldirmoqchiman"


def sign_in(page: Page, url: str, username: str) -> None:
    page.goto(f"{url}/console/login")
    page.get_by_label(re.compile("Username|Имя пользователя|Foydalanuvchi", re.I)).fill(username)
    page.locator("#password").fill(PASSWORD)
    page.locator("form.card button[type=submit]").click()
    page.wait_for_load_state()


def wait_for(condition: Callable[[], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


def latest_handoff(harness: Harness) -> Handoff:
    with harness.database.transaction() as session:
        found = session.query(Handoff).order_by(Handoff.id.desc()).first()
        assert found is not None
        return found


def test_sign_in_with_the_keyboard_and_a_wrong_password(harness: Harness, page: Page) -> None:
    add_account(harness.database, "aziza")
    page.goto(f"{harness.url}/console/")
    expect(page).to_have_url(re.compile(r"/console/login\?next=/console/"))
    accessible(page)
    page.keyboard.press("Tab")  # the skip link, then the username field
    page.locator("#username").focus()
    page.keyboard.type("aziza")
    page.keyboard.press("Tab")
    page.keyboard.type("not the password at all")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("wrong")
    accessible(page)
    page.locator("#password").fill(PASSWORD)
    page.locator("#password").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inbox")
    accessible(page)


def test_each_role_sees_only_its_pages(harness: Harness, new_page: NewPage) -> None:
    for username, role in [("aziza", Role.CASEWORKER), ("anvar", Role.ANALYST), ("sardor", Role.SUPERVISOR)]:
        add_account(harness.database, username, role)
    caseworker = new_page()
    sign_in(caseworker, harness.url, "aziza")
    nav = caseworker.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link")).to_have_text(["Inbox", "People"])
    caseworker.goto(f"{harness.url}/console/totals")
    expect(caseworker.get_by_role("heading", level=1)).to_have_text("Not allowed")
    accessible(caseworker)
    analyst = new_page()
    sign_in(analyst, harness.url, "anvar")
    expect(analyst.get_by_role("heading", level=1)).to_have_text("Totals")  # an analyst's home
    expect(analyst.get_by_role("navigation", name="Main").get_by_role("link")).to_have_text(["Totals"])
    accessible(analyst)
    analyst.goto(f"{harness.url}/console/people")
    expect(analyst.get_by_role("heading", level=1)).to_have_text("Not allowed")


def test_a_crisis_from_telegram_appears_in_the_open_inbox(harness: Harness, page: Page) -> None:
    add_account(harness.database, "aziza")
    sign_in(page, harness.url, "aziza")
    expect(page.get_by_text("Nothing is waiting")).to_be_visible()
    harness.telegram_update(message(1, CRISIS_UZ, user=4242))
    harness.settle()
    # no reload: the queue refreshes itself
    expect(page.get_by_role("alert")).to_contain_text("1 crisis waits for a person.", timeout=15_000)
    item = page.locator("li.item.crisis")
    expect(item).to_contain_text("Crisis")
    accessible(page)
    item.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Crisis")
    expect(page.locator("blockquote.said")).to_have_text(re.compile(r"o.zimni o.ldirmoqchiman"))  # as normalised
    accessible(page)


def test_replies_reach_telegram_and_sms_and_notes_stay(harness: Harness, page: Page) -> None:
    add_account(harness.database, "aziza")
    harness.telegram_update(message(1, CRISIS_UZ, user=5151))
    harness.sms(sms("SM1", CRISIS_UZ, sender="+998907776655"))
    harness.settle()
    sign_in(page, harness.url, "aziza")
    for link in range(2):
        page.goto(f"{harness.url}/console/")
        page.locator("li.item.crisis a").nth(link).click()
        channel = "Telegram" if "Telegram" in page.locator("dl.facts").inner_text() else "SMS"
        page.get_by_label("Private note for caseworkers").fill(f"note {channel} SAMPLE")
        page.get_by_role("button", name="Save the private note").click()
        expect(page.get_by_role("status")).to_contain_text("visible only to caseworkers")
        page.get_by_label(re.compile("Reply to the person")).fill(f"Salom, reply on {channel}")
        page.get_by_role("button", name="Send the reply").click()
        expect(page.get_by_role("status")).to_have_text("Your reply was sent.")
        expect(page.locator("li.entry.reply").last).to_contain_text(f"Salom, reply on {channel}")
        expect(page.locator("li.entry.note").last).to_contain_text("never sent")
        accessible(page)
    telegram = [m["text"] for m in harness.telegram.sent()]
    texts = [m["Body"] for m in harness.twilio.messages]
    assert "Salom, reply on Telegram" in telegram and "Salom, reply on SMS" in texts
    assert not any("note" in text for text in telegram + texts)


def test_the_bot_is_quiet_while_a_caseworker_handles_it(harness: Harness, new_page: NewPage) -> None:
    add_account(harness.database, "aziza", locale="ru")
    harness.telegram_update(message(1, CRISIS_UZ, user=6161, language_code="ru"))
    harness.settle()
    page = new_page(locale="ru", screen=PHONE)
    sign_in(page, harness.url, "aziza")
    page.goto(f"{harness.url}/console/requests/handoff/{latest_handoff(harness).id}")
    accessible(page)
    page.locator("form[action$='/handle'] button").click()
    with harness.database.transaction() as session:
        language = identities.identity_for(session, "telegram", "6161").language
    joined = CATALOG.render("utter_human_joined", language, "telegram").text
    wait_for(lambda: harness.telegram.sent()[-1]["text"] == joined)
    engine_calls = len(harness.engine.received)
    harness.telegram_update(message(2, "Мне нужна помощь с паспортом", user=6161))
    harness.settle()
    assert len(harness.engine.received) == engine_calls  # no bot answer
    page.reload()
    expect(page.locator("li.entry.person").last).to_contain_text("Мне нужна помощь с паспортом")
    page.locator("form[action$='/release'] button").click()
    left = CATALOG.render("utter_human_left", language, "telegram").text
    wait_for(lambda: harness.telegram.sent()[-1]["text"] == left)


def test_the_console_speaks_the_caseworkers_language(harness: Harness, page: Page) -> None:
    add_account(harness.database, "aziza")
    sign_in(page, harness.url, "aziza")
    page.get_by_label("Language").select_option("kk")
    page.get_by_role("button", name="Change").click()
    expect(page.locator("html")).to_have_attribute("lang", "kk")
    expect(page.get_by_role("heading", level=1)).not_to_have_text("Inbox")
    accessible(page)
    page.goto(f"{harness.url}/console/people")
    accessible(page)
