"""The people list (search, filters, pages), within the viewer's caseload; the person page is `person.py`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.responses import Response
from starlette.routing import Route

from bot.console.access import Can
from bot.console.pages import person
from bot.nlp.languages import LANGUAGES
from bot.repositories import caseload
from bot.web.limits import decimal

if TYPE_CHECKING:
    from bot.console.app import Console, Visit

PER_PAGE = 25


def routes(console: Console) -> list[Route]:
    """/people, and /people/{id} with its changes (`person.py`)."""

    def people_list(visit: Visit) -> Response:
        query = visit.request.query_params
        text = query.get("q", "")[:100]
        language = query.get("language", "") if query.get("language") in LANGUAGES else ""
        channel = query.get("channel", "") if query.get("channel") in ("telegram", "sms") else ""
        page = min(decimal(query.get("page", "1"), 6) or 1, 100_000)
        with console.database.transaction() as session:
            found, total = caseload.people_page(session, visit.account, text=text, language=language,
                                                channel=channel, page=page, per_page=PER_PAGE)
        pages = max(1, -(-total // PER_PAGE))
        return console.render(visit, "people.html", people=found, total=total, page=page, pages=pages, q=text,
                              language_filter=language, channel_filter=channel, all_languages=LANGUAGES)

    return [
        Route("/people", console.page(Can.READ_PEOPLE, people_list)),
        *person.routes(console),
    ]
