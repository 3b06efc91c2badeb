"""People (returnees and family members), caseworkers and family links."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Caseworker, ChannelIdentity, FamilyLink, Person
from bot.nlp.romanize import romanize
from bot.repositories import audit
from bot.scheduler.events import on_event


class NotFound(LookupError):
    """No record with that id."""


def get_person(session: Session, person_id: int) -> Person:
    """The person with `person_id`, or NotFound."""
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"no person with id {person_id}")
    return person


def list_people(session: Session) -> list[Person]:
    """Everyone, by id."""
    return list(session.scalars(select(Person).order_by(Person.id)))


def _folded(text: str) -> str:
    """A script-neutral spelling: Мадина, madina and MADINA, Ўғилой and O'g'iloy are one name."""
    return " ".join(romanize(text).split())


def matches(person: Person, text: str, addresses: list[str]) -> bool:
    """True if `text` is part of the person's name or city (any case, Latin or Cyrillic), or its
    digits (at least four) are part of their phone, Telegram id or a linked address."""
    wanted = _folded(text)
    digits = re.sub(r"\D", "", text)
    if wanted and (wanted in _folded(person.name) or wanted in _folded(person.city)):
        return True
    if len(digits) < 4:
        return False
    numbers = [person.phone or "", str(person.telegram_user_id or ""), *addresses]
    return any(digits in re.sub(r"\D", "", number) for number in numbers)


def search_people(session: Session, text: str) -> list[Person]:
    """People `matches` finds for `text`, by id."""
    addresses: dict[int, list[str]] = {}
    query = select(ChannelIdentity.person_id, ChannelIdentity.address).where(ChannelIdentity.person_id.is_not(None))
    for person_id, address in session.execute(query):
        if person_id is not None:
            addresses.setdefault(person_id, []).append(address)
    return [person for person in list_people(session) if matches(person, text, addresses.get(person.id, []))]


def add_person(session: Session, **fields: object) -> Person:
    """Add a person (fields already validated by the caller)."""
    person = Person(**fields)
    session.add(person)
    session.flush()
    on_event(session, "person_enrolled", person.id, f"person:{person.id}")
    return person


def get_caseworker(session: Session, caseworker_id: int) -> Caseworker:
    """The caseworker with `caseworker_id`, or NotFound."""
    caseworker = session.get(Caseworker, caseworker_id)
    if caseworker is None:
        raise NotFound(f"no caseworker with id {caseworker_id}")
    return caseworker


def list_caseworkers(session: Session) -> list[Caseworker]:
    """Every caseworker, by id."""
    return list(session.scalars(select(Caseworker).order_by(Caseworker.id)))


def add_caseworker(session: Session, name: str, country: str) -> Caseworker:
    """Add a caseworker."""
    caseworker = Caseworker(name=name, country=country)
    session.add(caseworker)
    session.flush()
    return caseworker


def family_link(session: Session, family_member_id: int) -> FamilyLink | None:
    """The link of a family member to their returnee, if any."""
    return session.scalar(select(FamilyLink).where(FamilyLink.family_member_id == family_member_id))


def relatives(session: Session, returnee_id: int) -> list[tuple[FamilyLink, Person]]:
    """The family members linked to a returnee, with their links (what they may see)."""
    query = (select(FamilyLink, Person).join(Person, Person.id == FamilyLink.family_member_id)
             .where(FamilyLink.returnee_id == returnee_id).order_by(Person.id))
    return [(link, person) for link, person in session.execute(query)]


def link_family(session: Session, family_member: Person, returnee: Person, relation: str) -> FamilyLink:
    """Link a family member to a returnee with the default sharing (family sessions, general info)."""
    link = FamilyLink(family_member_id=family_member.id, returnee_id=returnee.id, relation=relation)
    session.add(link)
    session.flush()
    return link


def opt_out(session: Session, person: Person, actor: str) -> None:
    """Stop every message to this person until they opt back in; audited."""
    person.opted_out = True
    audit.record(session, actor, "opted_out", "person", person.id, person.id)
