"""The data model. Personal data lives only here, never in the engine or in logs."""

from __future__ import annotations

import enum
from datetime import date, datetime, timezone

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    """The current time in UTC (aware)."""
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every database (SQLite stores naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give a time zone")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    """Base class of every table."""

    type_annotation_map = {datetime: UTCDateTime()}


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=32, values_callable=lambda e: [m.value for m in e])


class PersonKind(str, enum.Enum):
    RETURNEE = "returnee"
    FAMILY = "family"


class AppointmentKind(str, enum.Enum):
    CASEWORKER = "caseworker"
    PSYCHOLOGIST = "psychologist"
    MEDICAL = "medical"
    LEGAL = "legal"
    DOCUMENT_OFFICE = "document_office"


class AppointmentStatus(str, enum.Enum):
    SCHEDULED = "scheduled"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"
    RESCHEDULE_REQUESTED = "reschedule_requested"
    ATTENDED = "attended"
    MISSED = "missed"


class ReferralStatus(str, enum.Enum):
    NEW = "new"
    CONTACTED = "contacted"
    SCHEDULED = "scheduled"
    CLOSED = "closed"


class HandoffStatus(str, enum.Enum):
    OPEN = "open"
    ANSWERED = "answered"
    CLOSED = "closed"


class Role(str, enum.Enum):
    """What a console account may see and do (need-to-know, see `bot/console/access.py`)."""

    CASEWORKER = "caseworker"  # the people assigned to them and their family members
    SUPERVISOR = "supervisor"  # everyone their team's caseworkers are responsible for
    ADMIN = "admin"  # programme admin: accounts, courses, settings, every record
    ANALYST = "analyst"  # totals and charts only: never a name, phone or message


class Caseworker(Base):
    """A member of staff; with a username and password also a console account."""

    __tablename__ = "caseworkers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: argon2id hash (bot/console/passwords.py); None: no console access.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(_enum(Role), default=Role.CASEWORKER)
    team: Mapped[str] = mapped_column(String(64), default="")
    #: The console's language and the time zone its dates are shown in.
    locale: Mapped[str] = mapped_column(String(8), default="ru")
    time_zone: Mapped[str] = mapped_column(String(64), default="Asia/Tashkent")
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    active: Mapped[bool] = mapped_column(default=True)


class ConsoleSession(Base):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored, so a
    database reader cannot sign in, and revoking the row signs the browser out."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    caseworker_id: Mapped[int] = mapped_column(ForeignKey("caseworkers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[PersonKind] = mapped_column(_enum(PersonKind))
    name: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8))
    time_zone: Mapped[str] = mapped_column(String(64))
    country: Mapped[str] = mapped_column(String(2))
    city: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(16), unique=True)
    telegram_user_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    caseworker_id: Mapped[int | None] = mapped_column(ForeignKey("caseworkers.id"))
    #: HMAC of the second factor (e.g. date of birth) the caseworker recorded; never the value.
    second_factor_hash: Mapped[str | None] = mapped_column(String(64))
    consent_data: Mapped[bool] = mapped_column(default=False)
    opted_out: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    caseworker: Mapped[Caseworker | None] = relationship()


class FamilyLink(Base):
    """A family member linked to a returnee, with what the returnee agreed to share."""

    __tablename__ = "family_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_member_id: Mapped[int] = mapped_column(ForeignKey("people.id"), unique=True)
    returnee_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    relation: Mapped[str] = mapped_column(String(50))
    share_family_appointments: Mapped[bool] = mapped_column(default=True)
    share_general_information: Mapped[bool] = mapped_column(default=True)


class Appointment(Base):
    __tablename__ = "appointments"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    caseworker_id: Mapped[int | None] = mapped_column(ForeignKey("caseworkers.id"))
    kind: Mapped[AppointmentKind] = mapped_column(_enum(AppointmentKind))
    starts_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(200))
    status: Mapped[AppointmentStatus] = mapped_column(_enum(AppointmentStatus), default=AppointmentStatus.SCHEDULED)
    family_session: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FreeSlot(Base):
    """A time a caseworker offers for rescheduled appointments."""

    __tablename__ = "free_slots"
    __table_args__ = (UniqueConstraint("caseworker_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    caseworker_id: Mapped[int] = mapped_column(ForeignKey("caseworkers.id"))
    starts_at: Mapped[datetime]
    taken: Mapped[bool] = mapped_column(default=False)


class Course(Base):
    __tablename__ = "courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    trade: Mapped[str] = mapped_column(String(50), index=True)
    city: Mapped[str] = mapped_column(String(50), index=True)
    #: {"en": "...", "ru": "...", ...}
    titles: Mapped[dict[str, str]] = mapped_column(JSON)
    descriptions: Mapped[dict[str, str]] = mapped_column(JSON)
    instruction_language: Mapped[str] = mapped_column(String(8))
    start_date: Mapped[date] = mapped_column(Date)
    duration_weeks: Mapped[int] = mapped_column(Integer)
    seats_left: Mapped[int] = mapped_column(Integer)
    cost: Mapped[int] = mapped_column(Integer, default=0)
    contact: Mapped[str] = mapped_column(String(200))
    requirements: Mapped[str] = mapped_column(Text, default="")


class CourseInterest(Base):
    __tablename__ = "course_interests"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    course_id: Mapped[int | None] = mapped_column(ForeignKey("courses.id"))
    trade: Mapped[str | None] = mapped_column(String(50))
    city: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Referral(Base):
    """A request for psychological support, triaged with consent."""

    __tablename__ = "referrals"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    conversation_id: Mapped[str] = mapped_column(String(64))
    concern: Mapped[str] = mapped_column(String(50))
    urgency: Mapped[str] = mapped_column(String(20))
    specialist_gender: Mapped[str] = mapped_column(String(20), default="any")
    mode: Mapped[str] = mapped_column(String(20), default="any")
    language: Mapped[str] = mapped_column(String(8))
    crisis: Mapped[bool] = mapped_column(default=False)
    #: The Telegram account or phone the request came from (to reach an unlinked person).
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("channel_identities.id"), index=True)
    status: Mapped[ReferralStatus] = mapped_column(_enum(ReferralStatus), default=ReferralStatus.NEW)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The caseworker working on it (the console's "mine"); None: unassigned.
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("caseworkers.id"), index=True)
    #: How it ended, written by whoever closed it.
    outcome: Mapped[str] = mapped_column(String(500), default="")


class Document(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    type: Mapped[str] = mapped_column(String(50))
    status: Mapped[str] = mapped_column(String(30))
    office: Mapped[str] = mapped_column(String(200))
    #: What the person may see about it (the caseworker writes it for them).
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Handoff(Base):
    """A request to talk to a person."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    conversation_id: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(50))
    priority: Mapped[str] = mapped_column(String(20), default="normal")
    #: How to reach the person: the Telegram account or phone the request came from.
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("channel_identities.id"), index=True)
    #: The conversation's language and what the person wrote (personal data: shown only to
    #: authorised caseworkers, removed by retention and erasure).
    language: Mapped[str | None] = mapped_column(String(8))
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[HandoffStatus] = mapped_column(_enum(HandoffStatus), default=HandoffStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: The caseworker working on it (the console's "mine"); None: unassigned.
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("caseworkers.id"), index=True)
    #: How it ended, written by whoever closed it.
    outcome: Mapped[str] = mapped_column(String(500), default="")


class ChannelIdentity(Base):
    """Who writes from where: a Telegram account or a phone, its pseudonymous conversation id
    (the only id the engine ever sees) and, once linked with a caseworker's code, the person."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(32))
    conversation_id: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    failed_attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None]
    #: Until when the second factor given by SMS counts (documents are shown only before it).
    verified_until: Mapped[datetime | None]
    #: Opted out on this channel (works before linking too): nothing is sent until opt-in.
    opted_out: Mapped[bool] = mapped_column(default=False)
    #: Telegram answered 403 (the person blocked the bot).
    unreachable: Mapped[bool] = mapped_column(default=False)
    #: The buttons last offered by SMS, so that "1" means the first of them.
    last_menu: Mapped[list[str]] = mapped_column(JSON, default=list)
    language: Mapped[str | None] = mapped_column(String(8))
    #: A language the record sets (a link, a caseworker's change): passed to the engine with
    #: the next message as the person's explicit choice, then cleared.
    language_override: Mapped[str | None] = mapped_column(String(8))
    #: The question the app itself asked and waits for ("second_factor"), and since when.
    awaiting: Mapped[str | None] = mapped_column(String(32))
    awaiting_since: Mapped[datetime | None]
    #: A caseworker handles the conversation from the console: the bot stays quiet (but for a
    #: crisis) until they hand it back or `handled_until` passes.
    handled_by: Mapped[int | None] = mapped_column(ForeignKey("caseworkers.id"))
    handled_until: Mapped[datetime | None]


class LinkAttempt(Base):
    """A link code tried (right or wrong), counted per account, per phone prefix and in total."""

    __tablename__ = "link_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    channel: Mapped[str] = mapped_column(String(16))
    identity_id: Mapped[int] = mapped_column(ForeignKey("channel_identities.id"), index=True)
    #: The first digits of a phone number (country and operator), empty on Telegram.
    prefix: Mapped[str] = mapped_column(String(8), default="", index=True)
    succeeded: Mapped[bool] = mapped_column(default=False)


class LinkCode(Base):
    """A one-time code a caseworker issues so a person can link a Telegram account or phone."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class AuditLog(Base):
    """Every change and every disclosure: who, what, which record. No message texts."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None]
    person_id: Mapped[int | None] = mapped_column(index=True)
    details: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class InboundMessage(Base):
    """A message a provider delivered: recorded before anything else, processed when the engine can.

    The unique (channel, provider_id) makes a provider's retry a no-op. Its status says how far
    processing got (see `bot/channels/gateway.py`): pending, processing, sending, delivering,
    then done, failed, uncertain or expired.
    """

    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("channel", "provider_id"),
                      Index("ix_inbound_messages_sender", "channel", "address", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    provider_id: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # text, button, unsupported
    text: Mapped[str] = mapped_column(Text, default="")
    #: The language the person's app reports (Telegram's language_code), if one of ours.
    language: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Not tried again before this (a retry's backoff); None: at once.
    not_before: Mapped[datetime | None]
    #: The process holding the message, and when it last renewed its claim (the lease).
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    #: What the inbound chain answered, kept before sending so that a retry never asks again.
    replies: Mapped[list[dict[str, object]] | None] = mapped_column(JSON)
    #: How many of the replies the provider accepted.
    parts_sent: Mapped[int] = mapped_column(default=0)
    finished_at: Mapped[datetime | None]
    #: What the engine understood ({intent, confidence, language}), shown to caseworkers.
    understood: Mapped[dict[str, object] | None] = mapped_column(JSON)


class OutboundMessage(Base):
    """A message sent to a provider, with its delivery status (Twilio status callbacks)."""

    __tablename__ = "outbound_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    identity_id: Mapped[int] = mapped_column(ForeignKey("channel_identities.id"), index=True)
    provider_id: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    error_code: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ConsoleMessage(Base):
    """What a caseworker wrote in the console about one conversation: a reply, sent to the person
    on their channel, or a private note, which is never sent (no code path sends a note)."""

    __tablename__ = "console_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("channel_identities.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("caseworkers.id"))
    kind: Mapped[str] = mapped_column(String(8))  # reply or note
    text: Mapped[str] = mapped_column(Text)
    #: A reply's delivery: sending, sent, failed, unreachable, opted_out; a note's is "note".
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ButtonPayload(Base):
    """A button's payload behind a short Telegram callback id (callback data is at most 64 bytes)."""

    __tablename__ = "button_payloads"

    id: Mapped[int] = mapped_column(primary_key=True)
    payload: Mapped[str] = mapped_column(Text)


class OutboxMessage(Base):
    """A planned flow message: what goes to whom, when, and what happened to it.

    One row per (person, flow, step, trigger, trigger version): the idempotency key makes a
    second delivery of the same message impossible. A change to the trigger (an appointment
    moved) cancels the pending rows of the old version and plans a new version.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    flow: Mapped[str] = mapped_column(String(64))
    step: Mapped[str] = mapped_column(String(64))
    trigger_key: Mapped[str] = mapped_column(String(64), index=True)
    trigger_version: Mapped[int]
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    #: pending, sending (claimed by a dispatcher), sent, skipped, cancelled, failed, uncertain
    status: Mapped[str] = mapped_column(String(16), index=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    #: When the dispatcher may next try (the due time, later after a transient failure).
    not_before: Mapped[datetime | None] = mapped_column(index=True)
    #: When a dispatcher claimed it (status sending); a claim older than the lease is recovered.
    claimed_at: Mapped[datetime | None]
    channel: Mapped[str | None] = mapped_column(String(16))
    #: The engine's messages for it, kept so a retry after a crash does not ask the engine again.
    rendered: Mapped[list[dict[str, object]] | None] = mapped_column(JSON)
    #: How many of the rendered messages the channel accepted.
    parts_sent: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FlowAnswer(Base):
    """A person's answer to a flow message (yes / no, or the 1-5 wellbeing rating), for monitoring."""

    __tablename__ = "flow_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), index=True)
    flow: Mapped[str] = mapped_column(String(64), index=True)
    step: Mapped[str] = mapped_column(String(64))
    answer: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
