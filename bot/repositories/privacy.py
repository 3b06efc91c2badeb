"""Retention and erasure of personal data: message texts kept only for a while, a person erased everywhere.

What people wrote lives in the inbound messages (text and the replies kept for sending), in
handoffs, in planned flow messages (their rendered text) and in the engine's conversations (the
`events` table of its SQL tracker store, on the app's database by default, or another one).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, inspect, or_, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from bot.db.models import (
    Appointment,
    ChannelIdentity,
    ConsoleMessage,
    CourseInterest,
    Document,
    FamilyLink,
    FlowAnswer,
    Handoff,
    InboundMessage,
    LinkAttempt,
    LinkCode,
    OutboundMessage,
    OutboxMessage,
    Person,
    Referral,
)
from bot.db.session import Database
from bot.repositories import audit
from bot.settings import Settings

ENGINE_EVENTS = "events"  # Rasa's SQL tracker store table
ERASED = "erased"


@contextmanager
def tracker_session(session: Session, settings: Settings) -> Iterator[Session]:
    """A session on the engine's tracker store: `session` itself when it is on the app's database."""
    if not settings.tracker_store_url or settings.tracker_store_url == settings.database_url:
        yield session
        return
    database = Database(settings.tracker_store_url)
    try:
        with database.transaction() as tracker:
            yield tracker
    finally:
        database.dispose()


def _affected(session: Session, statement: Executable, parameters: dict[str, Any] | None = None) -> int:
    """Run a bulk statement; how many rows it changed."""
    return int(getattr(session.execute(statement, parameters), "rowcount", 0) or 0)


def _has_engine_events(session: Session) -> bool:
    return inspect(session.connection()).has_table(ENGINE_EVENTS)


def prune_messages(session: Session, tracker_session: Session, now: datetime, days: int) -> dict[str, int]:
    """Blank every message text older than `days` (app and engine); return how many rows of each kind."""
    cutoff = now - timedelta(days=days)
    counts = {
        "inbound": _affected(session, update(InboundMessage).where(
            InboundMessage.received_at < cutoff, or_(InboundMessage.text != "", InboundMessage.replies.is_not(None))
        ).values(text="", replies=None)),
        "handoffs": _affected(session, update(Handoff).where(
            Handoff.created_at < cutoff, Handoff.message != "").values(message="")),
        "console_replies": _affected(session, update(ConsoleMessage).where(
            ConsoleMessage.created_at < cutoff, ConsoleMessage.kind == "reply", ConsoleMessage.text != "").values(
            text="")),
        "outbox": _affected(session, update(OutboxMessage).where(
            OutboxMessage.created_at < cutoff, OutboxMessage.rendered.is_not(None)).values(rendered=None)),
        "engine_events": 0,
    }
    if _has_engine_events(tracker_session):
        counts["engine_events"] = _affected(tracker_session, text(
            f"DELETE FROM {ENGINE_EVENTS} WHERE timestamp < :cutoff"), {"cutoff": cutoff.timestamp()})
    audit.record(session, "system", "messages_pruned", "retention", None, None, days=days, **counts)
    return counts


def erase_person(session: Session, tracker_session: Session, person_id: int, actor: str) -> dict[str, int]:
    """Remove a person's personal data everywhere; keep an anonymous audit entry (what, not who).

    The person's row stays (records that were shared, such as other people's family links, point
    to it) with every personal field emptied; everything that is only theirs is deleted.
    """
    person = session.get(Person, person_id)
    if person is None:
        raise LookupError(f"no person with id {person_id}")
    identities = list(session.scalars(select(ChannelIdentity).where(ChannelIdentity.person_id == person_id)))
    addresses = [(i.channel, i.address) for i in identities]
    conversations = [i.conversation_id for i in identities]
    identity_ids = [i.id for i in identities]
    counts: dict[str, int] = {}

    def remove(name: str, statement: Executable) -> None:
        counts[name] = _affected(session, statement)

    for channel, address in addresses:
        remove(f"inbound_{channel}", delete(InboundMessage).where(InboundMessage.channel == channel,
                                                                  InboundMessage.address == address))
    remove("outbound", delete(OutboundMessage).where(OutboundMessage.identity_id.in_(identity_ids)))
    remove("console_messages", delete(ConsoleMessage).where(ConsoleMessage.identity_id.in_(identity_ids)))
    remove("link_attempts", delete(LinkAttempt).where(LinkAttempt.identity_id.in_(identity_ids)))
    handoffs = or_(Handoff.person_id == person_id, Handoff.identity_id.in_(identity_ids))
    referrals = or_(Referral.person_id == person_id, Referral.identity_id.in_(identity_ids))
    remove("handoffs", delete(Handoff).where(handoffs))
    remove("referrals", delete(Referral).where(referrals))
    remove("flow_answers", delete(FlowAnswer).where(FlowAnswer.person_id == person_id))
    remove("outbox", delete(OutboxMessage).where(OutboxMessage.person_id == person_id))
    remove("appointments", delete(Appointment).where(Appointment.person_id == person_id))
    remove("documents", delete(Document).where(Document.person_id == person_id))
    remove("course_interests", delete(CourseInterest).where(CourseInterest.person_id == person_id))
    remove("link_codes", delete(LinkCode).where(LinkCode.person_id == person_id))
    remove("family_links", delete(FamilyLink).where(or_(FamilyLink.family_member_id == person_id,
                                                        FamilyLink.returnee_id == person_id)))
    remove("identities", delete(ChannelIdentity).where(ChannelIdentity.id.in_(identity_ids)))
    if conversations and _has_engine_events(tracker_session):
        statement = text(f"DELETE FROM {ENGINE_EVENTS} WHERE sender_id IN :ids").bindparams(
            bindparam("ids", expanding=True))
        counts["engine_events"] = _affected(tracker_session, statement, {"ids": conversations})
    person.name, person.city, person.phone, person.telegram_user_id = ERASED, "", None, None
    person.second_factor_hash, person.consent_data, person.opted_out = None, False, True
    audit.record(session, actor, "person_erased", "person", person_id, None,
                 **{key: value for key, value in counts.items() if value})
    return counts

