"""The inbox: what needs a person, crisis first, then whoever has waited longest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.console.access import Can, allowed
from bot.db.models import Handoff, Person, Referral
from bot.repositories import caseload

if TYPE_CHECKING:
    from bot.console.app import Console, Visit


@dataclass(frozen=True)
class Item:
    """One request in the inbox."""

    kind: str  # handoff or referral
    id: int
    crisis: bool
    topic: str  # the handoff's reason or the referral's concern
    since: datetime
    person: Person | None
    language: str | None


def items(handoffs: list[Handoff], referrals: list[Referral], people: dict[int, Person]) -> list[Item]:
    """Handoffs and referrals as one queue: crisis first, then oldest first."""
    found = [Item("handoff", h.id, h.priority == "urgent", h.reason, h.created_at,
                  people.get(h.person_id) if h.person_id else None, h.language) for h in handoffs]
    found += [Item("referral", r.id, r.crisis, r.concern, r.created_at,
                   people.get(r.person_id) if r.person_id else None, r.language) for r in referrals]
    return sorted(found, key=lambda item: (not item.crisis, item.since))


def routes(console: Console) -> list[Route]:
    """/ (the inbox; an analyst's home is the totals)."""

    def inbox(visit: Visit) -> Response:
        if not allowed(visit.account.role, Can.WORK_INBOX):
            return RedirectResponse(f"{console.prefix(visit.request)}/totals", status_code=303)
        with console.database.transaction() as session:
            handoffs, referrals = caseload.open_requests(session, visit.account)
            ids = {h.person_id for h in handoffs if h.person_id} | {r.person_id for r in referrals if r.person_id}
            people = caseload.people_by_id(session, ids)
        queue = items(handoffs, referrals, people)
        return console.render(visit, "inbox.html", queue=queue, crises=sum(item.crisis for item in queue))

    def totals(visit: Visit) -> Response:
        with console.database.transaction() as session:
            counts = caseload.totals(session)
        return console.render(visit, "totals.html", counts=counts)

    return [
        Route("/", console.page(None, inbox)),
        Route("/totals", console.page(Can.SEE_TOTALS, totals)),
    ]
