"""Which people a console account may see (need-to-know): a caseworker their own people and
those people's family members, a supervisor everyone their team's caseworkers have, an admin
everyone, an analyst nobody by name."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, false, func, or_, select, true
from sqlalchemy.orm import Session

from bot.db.models import Caseworker, ChannelIdentity, FamilyLink, Person, Role
from bot.repositories.people import matches


def _caseworkers_of(viewer: Caseworker) -> Select[tuple[int]]:
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
