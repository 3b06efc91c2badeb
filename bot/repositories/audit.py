"""The audit log: every change and every disclosure of personal data."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import AuditLog


def record(
    session: Session,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | None,
    person_id: int | None,
    **details: Any,
) -> None:
    """Add an audit entry in the caller's transaction (so it commits with the change)."""
    session.add(
        AuditLog(actor=actor, action=action, entity=entity, entity_id=entity_id, person_id=person_id, details=details)
    )


def entries(session: Session, person_id: int | None = None, action: str | None = None) -> list[AuditLog]:
    """Audit entries, oldest first, optionally for one person or one action."""
    query = select(AuditLog).order_by(AuditLog.id)
    if person_id is not None:
        query = query.where(AuditLog.person_id == person_id)
    if action is not None:
        query = query.where(AuditLog.action == action)
    return list(session.scalars(query))
