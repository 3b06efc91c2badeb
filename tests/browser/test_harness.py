"""The browser test harness itself: Chromium starts, axe tells an accessible page from a broken one,
the keyboard works, screen sizes and languages apply, screenshots are written."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from bot.fakes.serving import ServerThread

from .conftest import NewPage
from .harness import PHONE, ChromiumMissing, accessible, find_chromium, screenshot

GOOD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Sign in</h1>
<form><label for="name">Name</label> <input id="name" name="name"> <button type="submit">Continue</button></form>
</main></body></html>"""

# A form field without a label, and light grey text on white (contrast about 2:1).
BAD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title><link rel="stylesheet" href="/faint.css"></head>
<body><main><h1>Sign in</h1>
<p class="faint">Enter your name</p>
<form><input id="name" name="name"> <button type="submit">Continue</button></form>
</main></body></html>"""

FAINT_CSS = ".faint { color: #b0b0b0; background: #ffffff; }"

# The console serves its pages with a strict policy (no inline styles or scripts); axe must work under it too.
HEADERS = {"Content-Security-Policy": "default-src 'self'"}


async def good(request: Request) -> HTMLResponse:
    return HTMLResponse(GOOD, headers=HEADERS)


async def bad(request: Request) -> HTMLResponse:
    return HTMLResponse(BAD, headers=HEADERS)


async def faint_css(request: Request) -> Response:
    return Response(FAINT_CSS, media_type="text/css")


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """Base URL of two small pages served over real HTTP on loopback."""
    routes = [Route("/good", good), Route("/bad", bad), Route("/faint.css", faint_css)]
    with ServerThread(Starlette(routes=routes)) as server:
        yield server.url


def test_an_accessible_page_passes(page: Page, site: str) -> None:
    page.goto(f"{site}/good")
    assert page.title() == "Sign in"
    accessible(page)


def test_missing_label_and_low_contrast_fail_naming_what_to_fix(page: Page, site: str) -> None:
    page.goto(f"{site}/bad")
    with pytest.raises(AssertionError) as failure:
        accessible(page)
    report = str(failure.value)
    assert "- label (critical)" in report and "#name" in report
    assert "- color-contrast (serious)" in report and "Enter your name" in report


def test_keyboard_reaches_and_fills_the_field(page: Page, site: str) -> None:
    page.goto(f"{site}/good")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "name"
    page.keyboard.type("Dilnoza")
    assert page.input_value("#name") == "Dilnoza"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Continue"


@pytest.mark.parametrize(
    ("page", "expected"),
    [({"locale": "ru", "screen": PHONE}, ["ru", 390, True]), ({}, ["en", 1280, False])],
    indirect=["page"],
    ids=["ru-phone", "en-laptop"],
)
def test_screen_and_language_apply(page: Page, expected: list[object], site: str) -> None:
    page.goto(f"{site}/good")
    assert page.evaluate("[navigator.language, window.innerWidth, navigator.maxTouchPoints > 0]") == expected
    accessible(page)


def test_screenshot_is_written(new_page: NewPage, site: str, tmp_path: Path) -> None:
    page = new_page(screen=PHONE)
    page.goto(f"{site}/good")
    path = screenshot(page, tmp_path / "docs" / "good.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert (width, height) == (390, 844)


def test_a_wrong_override_is_reported_not_skipped(tmp_path: Path) -> None:
    with pytest.raises(ChromiumMissing, match="HAMROH_CHROMIUM=.*not an executable"):
        find_chromium({"HAMROH_CHROMIUM": str(tmp_path / "chromium")})
