"""People (returnees and family members), caseworkers and family links."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Caseworker, FamilyLink, Person
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


def add_caseworker(session: Session, name: str, country: str) -> Caseworker:
    """Add a caseworker."""
    caseworker = Caseworker(name=name, country=country)
    session.add(caseworker)
    session.flush()
    return caseworker


def family_link(session: Session, family_member_id: int) -> FamilyLink | None:
    """The link of a family member to their returnee, if any."""
    return session.scalar(select(FamilyLink).where(FamilyLink.family_member_id == family_member_id))


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
