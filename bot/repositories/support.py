"""Psychological support referrals and requests to talk to a person (handoffs)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Caseworker, ChannelIdentity, Handoff, HandoffStatus, Person, Referral, ReferralStatus
from bot.repositories import audit
from bot.repositories.people import NotFound
from bot.scheduler.events import on_event


def create_referral(session: Session, conversation_id: str, person_id: int | None, **triage: object) -> Referral:
    """Record a referral from a consented triage (or a crisis) for the caseworker."""
    referral = Referral(conversation_id=conversation_id, person_id=person_id, **triage)
    session.add(referral)
    session.flush()
    audit.record(session, "system", "referral_created", "referral", referral.id, person_id, crisis=referral.crisis)
    if person_id is not None and not referral.crisis:
        on_event(session, "referral_created", person_id, f"referral:{referral.id}")
    return referral


def create_handoff(
    session: Session,
    conversation_id: str,
    person_id: int | None,
    reason: str,
    priority: str = "normal",
    *,
    identity_id: int | None = None,
    language: str | None = None,
    message: str = "",
) -> Handoff:
    """Ask a caseworker to contact the person; crisis handoffs are urgent.

    `identity_id` is the Telegram account or phone to answer on, `message` what the person wrote.
    """
    handoff = Handoff(conversation_id=conversation_id, person_id=person_id, reason=reason, priority=priority,
                      identity_id=identity_id, language=language, message=message)
    session.add(handoff)
    session.flush()
    audit.record(session, "system", "handoff_created", "handoff", handoff.id, person_id, priority=priority)
    return handoff


def list_referrals(session: Session, status: ReferralStatus | None = None) -> list[Referral]:
    """Referrals, crisis first, then newest first."""
    query = select(Referral).order_by(Referral.crisis.desc(), Referral.id.desc())
    if status is not None:
        query = query.where(Referral.status == status)
    return list(session.scalars(query))


def list_handoffs(session: Session, status: HandoffStatus | None = None) -> list[Handoff]:
    """Handoffs, urgent first, then oldest first (who has waited longest)."""
    query = select(Handoff).order_by((Handoff.priority == "urgent").desc(), Handoff.id)
    if status is not None:
        query = query.where(Handoff.status == status)
    return list(session.scalars(query))


def update_referral(session: Session, referral_id: int, status: ReferralStatus, actor: str) -> Referral:
    """Change a referral's status, audited."""
    referral = session.get(Referral, referral_id)
    if referral is None:
        raise NotFound(f"no referral with id {referral_id}")
    referral.status = status
    audit.record(session, actor, "referral_status", "referral", referral.id, referral.person_id, new=status.value)
    return referral


def update_handoff(session: Session, handoff_id: int, status: HandoffStatus, actor: str) -> Handoff:
    """Change a handoff's status, audited."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise NotFound(f"no handoff with id {handoff_id}")
    handoff.status = status
    audit.record(session, actor, "handoff_status", "handoff", handoff.id, handoff.person_id, new=status.value)
    return handoff


def get_handoff(session: Session, handoff_id: int) -> Handoff:
    """The handoff with `handoff_id`, or NotFound."""
    handoff = session.get(Handoff, handoff_id)
    if handoff is None:
        raise NotFound(f"no handoff with id {handoff_id}")
    return handoff


def may_read(caseworker: Caseworker, person: Person | None, urgent: bool) -> bool:
    """Whether a caseworker may read what a person wrote and how to reach them.

    Their own people, people with no caseworker (or not linked yet), and anyone urgent: a crisis
    must not wait for one caseworker's day off.
    """
    return urgent or person is None or person.caseworker_id in (None, caseworker.id)


def reach(session: Session, identity_id: int | None) -> ChannelIdentity | None:
    """The Telegram account or phone a request came from, if known."""
    return session.get(ChannelIdentity, identity_id) if identity_id is not None else None


def record_reading(session: Session, caseworker: Caseworker, entity: str, entity_id: int,
                   person_id: int | None) -> None:
    """Audit that a caseworker read a request's text and contact details (the text itself is not logged)."""
    audit.record(session, f"caseworker:{caseworker.id}", f"{entity}_read", entity, entity_id, person_id)


def referrals_of(session: Session, person_id: int) -> list[Referral]:
    """One person's referrals, newest first."""
    return list(session.scalars(select(Referral).where(Referral.person_id == person_id).order_by(Referral.id.desc())))


def handoffs_of(session: Session, person_id: int) -> list[Handoff]:
    """One person's handoffs, newest first."""
    return list(session.scalars(select(Handoff).where(Handoff.person_id == person_id).order_by(Handoff.id.desc())))


def get_request(session: Session, kind: str, request_id: int) -> Handoff | Referral | None:
    """A handoff or referral by kind and id, or None."""
    model: type[Handoff] | type[Referral] | None = {"handoff": Handoff, "referral": Referral}.get(kind)  # type: ignore[assignment]
    found = session.get(model, request_id) if model is not None else None
    return found if isinstance(found, Handoff | Referral) else None


def assign(session: Session, request: Handoff | Referral, caseworker_id: int | None, actor: str) -> None:
    """Give a request to a caseworker (None: back to unassigned), audited."""
    request.assigned_to = caseworker_id
    kind = "handoff" if isinstance(request, Handoff) else "referral"
    audit.record(session, actor, f"{kind}_assigned", kind, request.id, request.person_id, to=caseworker_id)


def close_request(session: Session, request: Handoff | Referral, outcome: str, actor: str) -> None:
    """Close a request with how it ended, audited (the outcome text is not in the audit log)."""
    request.outcome = outcome
    if isinstance(request, Handoff):
        request.status = HandoffStatus.CLOSED
        audit.record(session, actor, "handoff_status", "handoff", request.id, request.person_id, new="closed")
    else:
        request.status = ReferralStatus.CLOSED
        audit.record(session, actor, "referral_status", "referral", request.id, request.person_id, new="closed")
