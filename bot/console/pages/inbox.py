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

#: The inbox's folders: assigned to me, to nobody yet, everything I may see.
FOLDERS = ("mine", "unassigned", "all")

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
    assigned_to: int | None


def items(handoffs: list[Handoff], referrals: list[Referral], people: dict[int, Person]) -> list[Item]:
    """Handoffs and referrals as one queue: crisis first, then oldest first."""
    found = [Item("handoff", h.id, h.priority == "urgent", h.reason, h.created_at,
                  people.get(h.person_id) if h.person_id else None, h.language, h.assigned_to) for h in handoffs]
    found += [Item("referral", r.id, r.crisis, r.concern, r.created_at,
                   people.get(r.person_id) if r.person_id else None, r.language, r.assigned_to) for r in referrals]
    return sorted(found, key=lambda item: (not item.crisis, item.since))


def routes(console: Console) -> list[Route]:
    """/ (the inbox; an analyst's home is the totals)."""

    def queue(visit: Visit, template: str) -> Response:
        folder = visit.request.query_params.get("folder", "all")
        folder = folder if folder in FOLDERS else "all"
        with console.database.transaction() as session:
            handoffs, referrals = caseload.open_requests(session, visit.account, folder)
            ids = {h.person_id for h in handoffs if h.person_id} | {r.person_id for r in referrals if r.person_id}
            people = caseload.people_by_id(session, ids)
            names = caseload.names(session)
        found = items(handoffs, referrals, people)
        return console.render(visit, template, queue=found, crises=sum(item.crisis for item in found), folder=folder,
                              folders=FOLDERS, names=names)

    def inbox(visit: Visit) -> Response:
        if not allowed(visit.account.role, Can.WORK_INBOX):
            return RedirectResponse(f"{console.prefix(visit.request)}/totals", status_code=303)
        return queue(visit, "inbox.html")

    def queue_part(visit: Visit) -> Response:
        """The queue alone, which the inbox page fetches every few seconds (htmx)."""
        return queue(visit, "queue.html")

    def totals(visit: Visit) -> Response:
        with console.database.transaction() as session:
            counts = caseload.totals(session)
        return console.render(visit, "totals.html", counts=counts)

    return [
        Route("/", console.page(None, inbox)),
        Route("/queue", console.page(Can.WORK_INBOX, queue_part)),
        Route("/totals", console.page(Can.SEE_TOTALS, totals)),
    ]
