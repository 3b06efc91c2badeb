"""The people list (search, filters, pages) and the person page, within the viewer's caseload."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import Response
from starlette.routing import Route

from bot.console.access import Can
from bot.nlp.languages import LANGUAGES
from bot.repositories import appointments, audit, caseload, documents, identities, people, support
from bot.web.limits import decimal

if TYPE_CHECKING:
    from bot.console.app import Console, Visit

PER_PAGE = 25


def routes(console: Console) -> list[Route]:
    """/people and /people/{id}."""

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

    def person_page(visit: Visit) -> Response:
        person_id = decimal(str(visit.request.path_params["person_id"]), 12)
        with console.database.transaction() as session:
            person = caseload.visible_person(session, visit.account, person_id) if person_id else None
            if person is None:
                audit.record(session, visit.actor, "person_denied", "person", person_id, None)
                return console.error(visit, 404)
            audit.record(session, visit.actor, "person_viewed", "person", person.id, person.id)
            family = people.family_link(session, person.id)
            context: dict[str, Any] = {
                "person": person,
                "channels": identities.linked_identities(session, person.id),
                "family": family,
                "returnee": people.get_person(session, family.returnee_id) if family else None,
                "relatives": people.relatives(session, person.id),
                "appointments": appointments.list_appointments(session, person.id),
                "documents": documents.list_documents(session, person.id),
                "referrals": support.referrals_of(session, person.id),
                "handoffs": support.handoffs_of(session, person.id),
            }
        return console.render(visit, "person.html", **context)

    return [
        Route("/people", console.page(Can.READ_PEOPLE, people_list)),
        Route("/people/{person_id}", console.page(Can.READ_PEOPLE, person_page)),
    ]
