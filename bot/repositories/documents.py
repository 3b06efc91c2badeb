"""Documents and their status. Reading them for a person is a disclosure, always audited."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Document
from bot.repositories import audit
from bot.scheduler.events import on_event


def choices(group: str) -> list[str]:
    """The document types (`document_type`) or statuses (`document_status`): the keys of the
    catalog's `words:` section, which says each of them in every language."""
    from bot import runtime

    catalog = runtime.catalog()
    return list(catalog.languages[catalog.default_language]["words"][group])


def _check(group: str, value: str) -> None:
    allowed = choices(group)
    if value not in allowed:
        what = group.replace("_", " ")
        raise ValueError(f"unknown {what} {value!r}; use one of {', '.join(allowed)}")


def set_document_status(
    session: Session, person_id: int, type_: str, status: str, office: str, note: str, actor: str
) -> Document:
    """Create or update the person's document of this type, audited; type and status must be
    ones the catalog can say in the person's language."""
    _check("document_type", type_)
    _check("document_status", status)
    document = session.scalar(select(Document).where(Document.person_id == person_id, Document.type == type_))
    if document is None:
        document = Document(person_id=person_id, type=type_, status=status, office=office, note=note)
        session.add(document)
    else:
        document.status, document.office, document.note = status, office, note
    session.flush()
    audit.record(session, actor, "document_status", "document", document.id, person_id, status=status)
    on_event(session, "document_status_changed", person_id, f"document:{document.id}")
    return document


def list_documents(session: Session, person_id: int) -> list[Document]:
    """One person's documents, by type (for their caseworker)."""
    return list(session.scalars(select(Document).where(Document.person_id == person_id).order_by(Document.type)))


def disclose_documents(session: Session, person_id: int, channel: str, type_: str | None = None) -> list[Document]:
    """The person's documents (of one type), recorded in the audit log as disclosed."""
    query = select(Document).where(Document.person_id == person_id).order_by(Document.type)
    if type_:
        query = query.where(Document.type == type_)
    documents = list(session.scalars(query))
    for document in documents:
        audit.record(session, f"person:{person_id}", "document_disclosed", "document", document.id, person_id,
                     channel=channel)
    return documents
