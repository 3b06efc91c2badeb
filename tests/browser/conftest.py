"""Browser fixtures: Debian's Chromium driven by Playwright (sync API), a fresh context per page.

Playwright's sync API keeps its own event loop marked as running on the main thread while the
browser is open, which breaks pytest-asyncio tests and `asyncio.run` (microsoft/playwright-pytest#167).
So the browser lives only as long as this package (scope "package"): tests here are plain sync
functions, and async work they need (an app server, fakes) runs in its own thread (ServerThread).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from .harness import LAPTOP, ChromiumMissing, Screen, find_chromium

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder `browser`; refuse async ones (they cannot run while the browser is open)."""
    for item in items:
        if HERE not in item.path.parents:
            continue
        item.add_marker(pytest.mark.browser)
        if isinstance(item, pytest.Function) and inspect.iscoroutinefunction(item.obj):
            raise pytest.UsageError(f"{item.nodeid}: browser tests must be sync functions (see {__file__})")


@pytest.fixture(scope="package")
def chromium_path() -> str:
    """The Chromium executable ($HAMROH_CHROMIUM overrides); fails, never skips, when there is none."""
    try:
        return find_chromium()
    except ChromiumMissing as missing:
        problem = str(missing)
    pytest.fail(problem, pytrace=False)


@pytest.fixture(scope="package")
def browser(chromium_path: str) -> Iterator[Browser]:
    """One headless Chromium for the browser tests of this package."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, headless=True)
        yield browser
        browser.close()


NewPage = Callable[..., Page]


@pytest.fixture
def new_page(browser: Browser) -> Iterator[NewPage]:
    """Open a page in a fresh context: `new_page(locale="ru", screen=PHONE)`; closed after the test."""
    contexts: list[BrowserContext] = []

    def open_page(locale: str = "en", screen: Screen = LAPTOP) -> Page:
        context = browser.new_context(
            locale=locale,
            viewport={"width": screen.width, "height": screen.height},
            is_mobile=screen.mobile,
            has_touch=screen.mobile,
        )
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(request: pytest.FixtureRequest, new_page: NewPage) -> Page:
    """A page in a fresh context, English on a laptop; parametrize indirectly with
    {"locale": "ru", "screen": PHONE} for others."""
    return new_page(**getattr(request, "param", {}))
