"""Screenshots of the console's main pages in Russian and Uzbek (docs/console/*.png), over the
SAMPLE demo data in a throw-away database and Debian's Chromium: `make console-screenshots`."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from bot.admin.seed import demo_password, seed
from bot.console.app import create_console
from bot.db.models import Caseworker, InboundMessage, utcnow
from bot.db.session import Database
from bot.fakes.serving import ServerThread, free_port
from bot.repositories import accounts, conversation_log, identities, support
from bot.settings import REPO_ROOT, Settings
from bot.web.app import create_app

sys.path.insert(0, str(REPO_ROOT))
from tests.browser.harness import PHONE, find_chromium, screenshot  # noqa: E402

OUT = REPO_ROOT / "docs" / "console"


def sample_requests(database: Database, settings: Settings) -> None:
    """A crisis from an SMS user not linked yet, and a linked person asking for a caseworker."""
    with database.transaction() as session:
        phone = identities.identity_for(session, "sms", "+998900000001")
        phone.language = "uz"
        session.add(InboundMessage(channel="sms", provider_id="SAMPLE1", address=phone.address, kind="text",
                                   text="yordam kerak, juda qiyin (SAMPLE)", status="done",
                                   understood={"intent": "psych_support", "confidence": 0.88, "language": "uz"},
                                   replies=[{"text": "Sizga yordam berishga tayyorman (SAMPLE)"}]))
        support.create_handoff(session, phone.conversation_id, None, "crisis", priority="urgent",
                               identity_id=phone.id, language="uz", message="o'zimni yomon his qilyapman (SAMPLE)")
        demo = identities.identity_for(session, "terminal", "demo")
        support.create_handoff(session, demo.conversation_id, demo.person_id, "human", identity_id=demo.id,
                               language="uz", message="hujjatlarim haqida gaplashmoqchiman (SAMPLE)")
        worker = accounts.by_username(session, "caseworker.uz")
        assert worker is not None
        conversation_log.add_note(session, phone, worker.id, "Mahalla raisiga qo'ng'iroq qildim (SAMPLE)")


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        database = Database(f"sqlite:///{Path(folder) / 'shots.db'}")
        database.upgrade()
        port, internal_port = free_port(), free_port()
        settings = Settings(database_url=database.url, app_port=port, internal_port=internal_port,
                            internal_token="t", telegram_bot_username="HamrohSampleBot")
        with database.transaction() as session:
            seed(session, settings, utcnow())
        sample_requests(database, settings)
        app = create_app(settings, None, create_console(settings, database))
        with ServerThread(app, port, internal_port) as server, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=find_chromium())
            for language in ("ru", "uz"):
                with database.transaction() as session:
                    worker = accounts.by_username(session, "caseworker.uz")
                    assert isinstance(worker, Caseworker)
                    accounts.set_locale(session, worker.id, language)
                for name, screen in (("laptop", None), ("phone", PHONE)):
                    context = browser.new_context(
                        locale=language, viewport={"width": screen.width, "height": screen.height}
                        if screen else {"width": 1280, "height": 800}, is_mobile=bool(screen))
                    page = context.new_page()
                    page.goto(f"{server.url}/console/login")
                    page.fill("#username", "caseworker.uz")
                    page.fill("#password", demo_password())
                    page.locator("form.card button[type=submit]").click()
                    page.wait_for_load_state()
                    screenshot(page, OUT / f"inbox-{language}-{name}.png")
                    if screen:
                        context.close()
                        continue
                    page.locator("li.item.crisis a").first.click()
                    screenshot(page, OUT / f"request-{language}.png")
                    page.goto(f"{server.url}/console/people")
                    page.locator("table.people a").first.click()
                    screenshot(page, OUT / f"person-{language}.png")
                    context.close()
            browser.close()
    print(f"screenshots in {OUT.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
