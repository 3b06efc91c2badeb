"""Flow messages end to end: the dispatcher triggers the real engine, the real action server renders
the step in the person's language, the channel sender delivers it to the fake provider, and the
person's answer continues the conversation through the app's webhooks."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from bot.channels.gateway import close_connections
from bot.channels.sms import SmsSender, make_client
from bot.channels.telegram import TelegramSender, make_bot
from bot.db.models import Appointment, AppointmentKind, AppointmentStatus, FlowAnswer, OutboxMessage, PersonKind
from bot.engine.client import EngineClient
from bot.flows.library import FlowLibrary
from bot.flows.rendering import trigger_values
from bot.repositories import appointments, courses, documents, outbox, people, support
from bot.responses.catalog import Catalog
from bot.scheduler.dispatcher import Dispatcher
from bot.settings import Settings

from .conftest import CHANNEL_ENV, Fakes, Services
from .test_channels_e2e import SmsUser, TelegramUser

pytestmark = pytest.mark.e2e
CATALOG = Catalog.load("en")
FLOWS = FlowLibrary().current()
CHATS = itertools.count(930001)
PHONES = itertools.count(1)
LANGUAGES = {
    "appointment_reminders": ("uz-Cyrl", "ru", "kk"),
    "referral_follow_up": ("uz-Cyrl", "ky", "en"),
    "course_interest_follow_up": ("uz-Cyrl", "tg", "ru"),
    "document_ready": ("uz-Cyrl", "uz", "kk"),
    "monthly_wellbeing": ("uz-Cyrl", "ru", "tg"),
}


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now


class FlowDispatch:
    """A dispatcher in the test process, on the services' event loop, sending to the fakes."""

    def __init__(self, services: Services, fakes: Fakes) -> None:
        self.services, self.clock = services, Clock()
        settings = Settings(database_url=services.database.url, dispatch_lease_seconds=600)
        self.dispatcher: Dispatcher = services.run(self._make(settings, fakes))

    async def _make(self, settings: Settings, fakes: Fakes) -> Dispatcher:
        bot = make_bot(CHANNEL_ENV["HAMROH_TELEGRAM_BOT_TOKEN"], fakes.telegram_url)
        sms = SmsSender(lambda: make_client(CHANNEL_ENV["HAMROH_TWILIO_ACCOUNT_SID"],
                                            CHANNEL_ENV["HAMROH_TWILIO_AUTH_TOKEN"], fakes.twilio_url),
                        CHANNEL_ENV["HAMROH_TWILIO_FROM_NUMBER"], self.services.database, None)
        senders: dict[str, Any] = {"telegram": TelegramSender(bot, self.services.database), "sms": sms}
        engine = EngineClient(self.services.settings.engine_url, self.services.settings.for_serving().engine_token)
        return Dispatcher(self.services.database, engine, senders, settings, FlowLibrary().current, self.clock)

    def send_due(self, person_id: int, flow: str) -> OutboxMessage:
        """Move the clock to the flow's first pending message for the person and dispatch."""
        with self.services.database.transaction() as session:
            row = next(m for m in outbox.list_outbox(session, person_id, "pending") if m.flow == flow)
        assert row.due_at is not None
        self.clock.now = max(row.due_at, datetime.now(timezone.utc))
        self.services.run(self.dispatcher.tick())
        with self.services.database.transaction() as session:
            return outbox.get_row(session, row.id)


@pytest.fixture(scope="module")
def dispatch(services: Services, fakes: Fakes) -> Iterator[FlowDispatch]:
    running = FlowDispatch(services, fakes)
    yield running
    services.run(close_connections(running.dispatcher.engine, running.dispatcher.senders))


def enrol(services: Services, language: str, channel: str = "telegram") -> tuple[int, str]:
    """A returnee linked on `channel`: (person id, chat id or phone)."""
    address = str(next(CHATS)) if channel == "telegram" else f"+99890{next(PHONES):07d}"
    with services.database.transaction() as session:
        person = people.add_person(session, kind=PersonKind.RETURNEE, name="Sample", language=language,
                                   time_zone="Asia/Tashkent", country="UZ", city="Namangan", consent_data=True)
    services.conversation(channel, address, person.id)
    return person.id, address


def trigger(services: Services, flow: str, person_id: int) -> None:
    """Make the change that starts `flow` for the person."""
    soon = datetime.now(timezone.utc) + timedelta(days=3)
    with services.database.transaction() as session:
        if flow == "appointment_reminders":
            appointments.add_appointment(session, "test", person_id=person_id, kind=AppointmentKind.PSYCHOLOGIST,
                                         starts_at=soon, place="Sample office 3")
        elif flow == "referral_follow_up":
            support.create_referral(session, "test", person_id, concern="sleep", urgency="this_week", language="uz")
        elif flow == "course_interest_follow_up":
            courses.register_interest(session, person_id, None, "welding", "Namangan")
        elif flow == "document_ready":
            documents.set_document_status(session, person_id, "passport", "ready", "Sample office", "", "test")
        else:  # as the monthly job does on the first of next month, for this person only
            month = datetime.now(timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            first = (month + timedelta(days=32)).replace(day=1)
            outbox.plan(session, FLOWS, "monthly", people.get_person(session, person_id), f"monthly:{first:%Y-%m}",
                        first)


def expected_text(services: Services, flow: str, person_id: int, language: str, trigger_key: str) -> str:
    step = FLOWS[flow].steps[0]
    with services.database.transaction() as session:
        person = people.get_person(session, person_id)
        values = trigger_values(session, CATALOG, person, language, trigger_key)
    return step.message[language].format_map(values)


@pytest.mark.parametrize(("flow", "language"), [(f, lang) for f, langs in LANGUAGES.items() for lang in langs])
def test_each_shipped_flow_reaches_telegram_in_the_persons_language(
    services: Services, fakes: Fakes, dispatch: FlowDispatch, flow: str, language: str
) -> None:
    person, chat = enrol(services, language)
    trigger(services, flow, person)
    row = dispatch.send_due(person, flow)
    assert row.status == "sent", row.note
    [message] = [m for m in fakes.telegram.sent() if str(m["chat_id"]) == chat]
    assert message["text"] == expected_text(services, flow, person, language, row.trigger_key)
    step = FLOWS[flow].steps[0]
    titles = [button[0]["text"] for button in (message.get("reply_markup") or {}).get("inline_keyboard", [])]
    wanted = [CATALOG.languages[language]["buttons"][name] for name in step.buttons if name != "rating"]
    assert titles == (["1", "2", "3", "4", "5"] if step.buttons == ["rating"] else wanted)


def test_answering_1_by_sms_confirms_the_reminded_appointment(
    services: Services, fakes: Fakes, dispatch: FlowDispatch
) -> None:
    person, phone = enrol(services, "ru", "sms")
    trigger(services, "appointment_reminders", person)
    assert dispatch.send_due(person, "appointment_reminders").status == "sent"
    [reminder] = [m for m in fakes.twilio.messages if m["To"] == phone]
    assert "\n1 " + CATALOG.languages["ru"]["buttons"]["confirm"] in reminder["Body"]
    replies = SmsUser(services, fakes, phone).say("1")
    assert replies[0]["Body"].startswith(CATALOG.render("utter_appointment_confirmed", "ru", "sms",
                                                        {"when": "\0"}).text.partition("\0")[0])
    with services.database.transaction() as session:
        appointment = session.scalars(select(Appointment).where(Appointment.person_id == person)).one()
        assert appointment.status is AppointmentStatus.CONFIRMED


def test_the_wellbeing_rating_is_kept_and_a_low_one_offers_support(
    services: Services, fakes: Fakes, dispatch: FlowDispatch
) -> None:
    person, chat = enrol(services, "uz-Cyrl")
    trigger(services, "monthly_wellbeing", person)
    row = dispatch.send_due(person, "monthly_wellbeing")
    user = TelegramUser(services, fakes, int(chat))
    [check_in] = user.replies()
    answer = user.press(check_in, 1)  # "2"
    assert answer[0]["text"] == Catalog.load("uz-Cyrl").render("utter_wellbeing_low", "uz-Cyrl").text
    with services.database.transaction() as session:
        kept = session.scalars(select(FlowAnswer).where(FlowAnswer.outbox_id == row.id)).one()
        assert (kept.person_id, kept.flow, kept.answer) == (person, "monthly_wellbeing", "2")


def test_a_typed_no_to_the_referral_follow_up_is_kept_and_offers_a_person(
    services: Services, fakes: Fakes, dispatch: FlowDispatch
) -> None:
    person, chat = enrol(services, "uz")
    trigger(services, "referral_follow_up", person)
    row = dispatch.send_due(person, "referral_follow_up")
    answer = TelegramUser(services, fakes, int(chat)).say("yo'q, hali yo'q")
    assert answer[0]["text"] == CATALOG.render("utter_flow_answer_no", "uz").text
    with services.database.transaction() as session:
        kept = session.scalars(select(FlowAnswer).where(FlowAnswer.outbox_id == row.id)).one()
        assert kept.answer == "no"
