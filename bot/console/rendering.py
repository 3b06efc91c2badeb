"""Pages in the caseworker's language: one Jinja2 environment per language (gettext installed,
autoescaped), dates in their time zone, and the headers every console page carries."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from bot.console import i18n
from bot.db.models import utcnow

TEMPLATES_DIR = Path(__file__).parent / "templates"
#: No script, style or image from anywhere but the app; no framing; forms post only to the app.
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
                               "form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",  # pages hold personal data: never kept by the browser or a proxy
}


class Templates:
    """Renders the console's pages, each in one language."""

    def __init__(self) -> None:
        self.environments: dict[str, Environment] = {}
        for language in i18n.BABEL_LOCALES:
            environment = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(),
                                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
            environment.install_gettext_translations(i18n.translations(language), newstyle=True)  # type: ignore[attr-defined]
            self.environments[language] = environment

    def render(self, name: str, language: str, time_zone: str, status_code: int = 200,
               **context: Any) -> HTMLResponse:
        """The page `name` in `language`, its times in `time_zone`."""
        language = i18n.supported(language)
        now = utcnow()

        def when(moment: datetime | None, style: str = "medium") -> str:
            return i18n.local_time(moment, language, time_zone, style) if moment else ""

        def ago(moment: datetime) -> str:
            return i18n.waited(moment, now, language)

        html = self.environments[language].get_template(name).render(
            language=language, html_lang=language, languages=i18n.NATIVE_NAMES, when=when, ago=ago, **context)
        return HTMLResponse(html, status_code=status_code, headers=HEADERS)
