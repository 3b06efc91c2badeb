"""Which people a console account may see (need-to-know): a caseworker their own people and
those people's family members, a supervisor everyone their team's caseworkers have, an admin
everyone, an analyst nobody by name."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, false, func, or_, select, true
from sqlalchemy.orm import Session

from bot.db.models import (
    Caseworker,
    ChannelIdentity,
    FamilyLink,
    Handoff,
    HandoffStatus,
    Person,
    Referral,
    ReferralStatus,
    Role,
)
from bot.repositories.people import matches


def _caseworkers_of(viewer: Caseworker) -> Select[Any]:
    """The caseworkers whose people `viewer` may see (themself; a supervisor their team)."""
    if viewer.role is Role.SUPERVISOR and viewer.team:
        return select(Caseworker.id).where(Caseworker.team == viewer.team)
    return select(Caseworker.id).where(Caseworker.id == viewer.id)


def scope(viewer: Caseworker) -> ColumnElement[bool]:
    """A condition on Person: true for exactly the people `viewer` may see."""
    if viewer.role is Role.ADMIN:
        return true()
    if viewer.role is Role.ANALYST:
        return false()
    caseworkers = _caseworkers_of(viewer)
    returnees = select(Person.id).where(Person.caseworker_id.in_(caseworkers))
    family = select(FamilyLink.family_member_id).where(FamilyLink.returnee_id.in_(returnees))
    return or_(Person.caseworker_id.in_(caseworkers), Person.id.in_(family))


def visible_person(session: Session, viewer: Caseworker, person_id: int) -> Person | None:
    """The person if `viewer` may see them, else None (whether or not they exist)."""
    return session.scalar(select(Person).where(Person.id == person_id, scope(viewer)))


def people_page(session: Session, viewer: Caseworker, *, text: str = "", language: str = "", channel: str = "",
                page: int = 1, per_page: int = 25) -> tuple[list[Person], int]:
    """One page of the people `viewer` may see, by name, matching the search and filters, and the
    number of matches. `text` is a name (any script), phone or Telegram digits, or a city."""
    query = select(Person).where(scope(viewer)).order_by(func.lower(Person.name), Person.id)
    if language:
        query = query.where(Person.language == language)
    if channel == "telegram":
        query = query.where(or_(Person.telegram_user_id.is_not(None), _linked("telegram")))
    elif channel == "sms":
        query = query.where(or_(Person.phone.is_not(None), _linked("sms")))
    found = list(session.scalars(query))
    if text.strip():
        addresses = _addresses(session, [person.id for person in found])
        found = [person for person in found if matches(person, text, addresses.get(person.id, []))]
    start = (max(page, 1) - 1) * per_page
    return found[start:start + per_page], len(found)


def _linked(channel: str) -> ColumnElement[bool]:
    return Person.id.in_(select(ChannelIdentity.person_id).where(ChannelIdentity.channel == channel))


def _addresses(session: Session, person_ids: list[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    query = select(ChannelIdentity.person_id, ChannelIdentity.address).where(ChannelIdentity.person_id.in_(person_ids))
    for person_id, address in session.execute(query):
        if person_id is not None:
            found.setdefault(person_id, []).append(address)
    return found


def _may_see_request(viewer: Caseworker, person_id: Any, urgent: Any) -> ColumnElement[bool]:
    """A request (handoff or referral) is for `viewer` if its person is in their caseload, has no
    caseworker or is not known yet, or it is urgent: a crisis must not wait for one caseworker."""
    if viewer.role is Role.ANALYST:
        return false()
    unowned_or_mine = select(Person.id).where(or_(scope(viewer), Person.caseworker_id.is_(None)))
    return or_(person_id.is_(None), urgent, person_id.in_(unowned_or_mine))


def open_requests(session: Session, viewer: Caseworker, folder: str = "all") -> tuple[list[Handoff], list[Referral]]:
    """The open handoffs and new referrals `viewer` should see, oldest first; `folder` mine
    (assigned to them), unassigned, or all. A crisis files an urgent handoff and a crisis
    referral together: the inbox shows the handoff once (the referral is on the person page)."""
    def narrowed(query: Select[Any], assigned: Any) -> Select[Any]:
        if folder == "mine":
            return query.where(assigned == viewer.id)
        if folder == "unassigned":
            return query.where(assigned.is_(None))
        return query

    handoffs = session.scalars(narrowed(select(Handoff).where(
        Handoff.status == HandoffStatus.OPEN,
        _may_see_request(viewer, Handoff.person_id, Handoff.priority == "urgent")), Handoff.assigned_to)
        .order_by(Handoff.id))
    referrals = session.scalars(narrowed(select(Referral).where(
        Referral.status == ReferralStatus.NEW, Referral.crisis.is_(False),
        _may_see_request(viewer, Referral.person_id, Referral.crisis)), Referral.assigned_to).order_by(Referral.id))
    return list(handoffs), list(referrals)


def visible_request(session: Session, viewer: Caseworker, kind: str, request_id: int) -> Handoff | Referral | None:
    """A handoff or referral `viewer` may work on, else None (whether or not it exists)."""
    if kind == "handoff":
        return session.scalar(select(Handoff).where(
            Handoff.id == request_id, _may_see_request(viewer, Handoff.person_id, Handoff.priority == "urgent")))
    if kind == "referral":
        return session.scalar(select(Referral).where(
            Referral.id == request_id, _may_see_request(viewer, Referral.person_id, Referral.crisis)))
    return None


def visible_identity(session: Session, viewer: Caseworker, identity_id: int) -> ChannelIdentity | None:
    """A Telegram account or phone `viewer` may read and write to: its person is in their
    caseload, or it sent a request they may work on."""
    identity = session.get(ChannelIdentity, identity_id)
    if identity is None or viewer.role is Role.ANALYST:
        return None
    if identity.person_id is not None and visible_person(session, viewer, identity.person_id) is not None:
        return identity
    handoff = session.scalar(select(Handoff.id).where(
        Handoff.identity_id == identity_id, _may_see_request(viewer, Handoff.person_id, Handoff.priority == "urgent")))
    referral = session.scalar(select(Referral.id).where(
        Referral.identity_id == identity_id, _may_see_request(viewer, Referral.person_id, Referral.crisis)))
    return identity if handoff is not None or referral is not None else None


def colleagues(session: Session, viewer: Caseworker) -> list[Caseworker]:
    """Whom `viewer` may give requests to: a supervisor their team, an admin every caseworker with an account."""
    query = select(Caseworker).where(Caseworker.active, Caseworker.username.is_not(None),
                                     Caseworker.role.in_([Role.CASEWORKER, Role.SUPERVISOR]))
    if viewer.role is not Role.ADMIN:
        query = query.where(Caseworker.id.in_(_caseworkers_of(viewer)))
    return list(session.scalars(query.order_by(Caseworker.name)))


def people_by_id(session: Session, ids: set[int]) -> dict[int, Person]:
    """The people with these ids (for showing requests; visibility was decided by the query)."""
    return {person.id: person for person in session.scalars(select(Person).where(Person.id.in_(ids)))}


def totals(session: Session) -> dict[str, int]:
    """Programme-wide counts without any personal data."""
    def count(query: Select[Any]) -> int:
        return session.scalar(query) or 0

    return {
        "people": count(select(func.count(Person.id))),
        "linked": count(select(func.count(func.distinct(ChannelIdentity.person_id)))
                        .where(ChannelIdentity.person_id.is_not(None))),
        "open_handoffs": count(select(func.count(Handoff.id)).where(Handoff.status == HandoffStatus.OPEN)),
        "urgent_handoffs": count(select(func.count(Handoff.id)).where(Handoff.status == HandoffStatus.OPEN,
                                                                      Handoff.priority == "urgent")),
        "new_referrals": count(select(func.count(Referral.id)).where(Referral.status == ReferralStatus.NEW)),
    }


def names(session: Session) -> dict[int, str]:
    """Every caseworker's name by id (who wrote a reply, who has a request)."""
    return {caseworker_id: name for caseworker_id, name in session.execute(select(Caseworker.id, Caseworker.name))}
