"""Helpers for the browser tests: finding Chromium, screen sizes, the accessibility check, screenshots."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

INSTALL_HINT = "sudo apt-get install -y chromium"
BLOCKING_IMPACTS = ("serious", "critical")


@dataclass(frozen=True)
class Screen:
    """A browser window: its size in CSS pixels, and whether it behaves like a phone (touch, meta viewport)."""

    width: int
    height: int
    mobile: bool = False


PHONE = Screen(390, 844, mobile=True)
LAPTOP = Screen(1280, 800)


class ChromiumMissing(Exception):
    """No Chromium executable for the browser tests; the message says what to do."""


def find_chromium(environ: Mapping[str, str] = os.environ) -> str:
    """The Chromium executable: $HAMROH_CHROMIUM if set, else /usr/bin/chromium or `chromium` on PATH."""
    override = environ.get("HAMROH_CHROMIUM")
    if override:
        if os.access(override, os.X_OK) and Path(override).is_file():
            return override
        raise ChromiumMissing(f"HAMROH_CHROMIUM={override} is not an executable file")
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise ChromiumMissing(
        f"Chromium not found: the browser tests need Debian's chromium package. Run `make setup` as root, "
        f"or `{INSTALL_HINT}`, or point HAMROH_CHROMIUM at a Chromium executable."
    )


def accessible(page: Page) -> None:
    """Run axe on the page as it is now; fail listing every serious or critical violation and where it is."""
    violations = [v for v in Axe().run(page).response["violations"] if v["impact"] in BLOCKING_IMPACTS]
    if violations:
        report = "\n".join(_describe(violation) for violation in violations)
        raise AssertionError(f"{len(violations)} accessibility violation(s) on {page.url}:\n{report}")


def _describe(violation: dict) -> str:
    """One violation: rule id, impact, what it asks for, and the elements that break it."""
    lines = [f"- {violation['id']} ({violation['impact']}): {violation['help']} [{violation['helpUrl']}]"]
    for node in violation["nodes"]:
        lines.append(f"    at {', '.join(str(part) for part in node['target'])}: {node['html'][:200]}")
        lines.append(f"      {' '.join(node.get('failureSummary', '').split())}")
    return "\n".join(lines)


def screenshot(page: Page, path: Path, full_page: bool = True) -> Path:
    """Write a PNG of the page to `path` (folders created), without animations or a blinking caret."""
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=path, full_page=full_page, animations="disabled", caret="hide")
    return path
