"""The dispatcher: due outbox rows go out once, through the engine's trigger_intent and the real
channel senders (talking to the fake Telegram and Twilio APIs over loopback), or say why not."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import runtime
from bot.channels.gateway import close_connections
from bot.channels.sms import SmsSender, make_client
from bot.channels.telegram import TelegramSender, make_bot
from bot.cli import main
from bot.db.models import AppointmentKind, AppointmentStatus, ChannelIdentity, OutboxMessage, PersonKind
from bot.db.session import Database
from bot.engine.client import EngineClient
from bot.fakes.engine_api import FakeEngine
from bot.fakes.serving import ServerThread
from bot.fakes.telegram_api import FakeTelegram
from bot.fakes.twilio_api import FakeTwilio
from bot.flows.library import FLOWS_DIR
from bot.repositories import appointments, documents, identities, outbox, people
from bot.scheduler.dispatcher import Dispatcher
from bot.settings import Settings, get_settings

TASHKENT = ZoneInfo("Asia/Tashkent")
FROM_NUMBER = "+15005550006"
PHONE = "+998901112233"
CHAT = "700100"


@dataclass
class Fakes:
    telegram: FakeTelegram
    twilio: FakeTwilio
    engine: FakeEngine
    urls: dict[str, str]


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    telegram, twilio, engine = FakeTelegram(), FakeTwilio(), FakeEngine()
    with ServerThread(telegram.app) as tg, ServerThread(twilio.app) as tw, ServerThread(engine.app) as en:
        yield Fakes(telegram, twilio, engine, {"telegram": tg.url, "twilio": tw.url, "engine": en.url})


class Clock:
    """The dispatcher's idea of now, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    database: Database
    fakes: Fakes
    dispatcher: Dispatcher
    clock: Clock


@pytest.fixture
async def world(database: Database, fakes: Fakes) -> AsyncIterator[World]:
    settings = Settings(database_url=database.url, secret_key="k", dispatch_retry_seconds=30.0,
                        dispatch_lease_seconds=60.0, telegram_chat_interval_seconds=0.01)
    bot = make_bot("123456:TEST", fakes.urls["telegram"])
    sms = SmsSender(lambda: make_client("AC" + "0" * 32, "token", fakes.urls["twilio"]), FROM_NUMBER, database, None)
    engine = EngineClient(fakes.urls["engine"])
    clock = Clock(datetime(2031, 1, 1, tzinfo=timezone.utc))
    dispatcher = Dispatcher(database, engine, {"telegram": TelegramSender(bot, database), "sms": sms}, settings,
                            lambda: runtime.flow_library().current(), clock)
    yield World(database, fakes, dispatcher, clock)
    await close_connections(engine, dispatcher.senders)


def enrol(database: Database, language: str = "uz-Cyrl", channel: str = "telegram",
          time_zone: str = "Asia/Tashkent") -> int:
    """A returnee linked on `channel`; returns the person id."""
    with database.transaction() as session:
        caseworker = people.add_caseworker(session, "CW", "UZ")
        person = people.add_person(session, kind=PersonKind.RETURNEE, name="P", language=language,
                                   time_zone=time_zone, country="UZ", city="Namangan", caseworker_id=caseworker.id)
        identity = identities.identity_for(session, channel, CHAT if channel == "telegram" else PHONE)
        identity.person_id = person.id
        return person.id


def book(database: Database, person_id: int, starts: datetime) -> int:
    with database.transaction() as session:
        return appointments.add_appointment(session, "test", person_id=person_id, kind=AppointmentKind.CASEWORKER,
                                            starts_at=starts, place="Office").id


def row(database: Database, person_id: int, step: str) -> OutboxMessage:
    with database.transaction() as session:
        return next(m for m in outbox.list_outbox(session, person_id) if m.step == step)


def at_local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2031, 3, day, hour, minute, tzinfo=TASHKENT).astimezone(timezone.utc)


async def test_a_due_reminder_goes_out_once_in_the_persons_language(world: World) -> None:
    person = enrol(world.database, "uz-Cyrl")
    book(world.database, person, at_local(12, 15))
    confirm = '/confirm_appointment{"appointment_id":"1"}'
    world.fakes.engine.trigger_buttons = [{"title": "Тасдиқлаш", "payload": confirm}]
    world.clock.now = at_local(11, 10, 1)
    report = await world.dispatcher.tick()
    again = await world.dispatcher.tick()
    reminder = row(world.database, person, "day_before")
    assert (report.sent, again.sent) == (1, 0)
    assert reminder.status == "sent" and reminder.attempts == 1
    [(conversation, body)] = world.fakes.engine.triggered
    assert body == {"name": "flow_message", "entities": {"outbox_id": str(reminder.id), "language": "uz-Cyrl"}}
    [sent] = world.fakes.telegram.sent()
    assert sent["chat_id"] == int(CHAT) and sent["text"] == f"flow_message {reminder.id} in uz-Cyrl"
    assert sent["reply_markup"]["inline_keyboard"][0][0]["text"] == "Тасдиқлаш"
    with world.database.transaction() as session:
        identity = session.get(ChannelIdentity, 1)
        assert identity is not None and identity.conversation_id == conversation
        assert identity.last_menu == [confirm]  # so that a reply "1" answers it


async def test_nothing_is_sent_before_it_is_due(world: World) -> None:
    person = enrol(world.database)
    book(world.database, person, at_local(12, 15))
    world.clock.now = at_local(11, 9, 59)
    report = await world.dispatcher.tick()
    assert report.sent == 0 and world.fakes.telegram.sent() == []
    assert row(world.database, person, "day_before").status == "pending"


async def test_a_message_due_in_quiet_hours_waits_for_the_morning(world: World) -> None:
    person = enrol(world.database)
    book(world.database, person, at_local(12, 15))
    world.clock.now = at_local(11, 22, 30)  # the dispatcher was down all evening
    with world.database.transaction() as session:
        late = next(m for m in outbox.list_outbox(session, person) if m.step == "day_before")
        late.not_before = at_local(11, 21, 5)
    report = await world.dispatcher.tick()
    waiting = row(world.database, person, "day_before")
    assert report.waiting == 1 and world.fakes.telegram.sent() == []
    assert waiting.status == "pending" and waiting.not_before == at_local(12, 9)
    assert "quiet hours" in waiting.note


@pytest.mark.parametrize(("change", "expected_note"), [
    ("opt_out", "the person opted out"),
    ("blocked", "unreachable on telegram"),
    ("confirm_missed", "not needed: the person did not miss the appointment"),
])
async def test_a_message_that_no_longer_applies_is_skipped_with_the_reason(
    world: World, change: str, expected_note: str
) -> None:
    person = enrol(world.database)
    appointment_id = book(world.database, person, at_local(12, 15))
    step = "missed_follow_up" if change == "confirm_missed" else "day_before"
    with world.database.transaction() as session:
        identity = session.get(ChannelIdentity, 1)
        assert identity is not None
        if change == "opt_out":
            identities.set_opted_out(session, identity, True)
        elif change == "blocked":
            identity.unreachable = True
        else:  # the appointment was attended: no "we missed you"
            appointments.get_appointment(session, appointment_id).status = AppointmentStatus.ATTENDED
    world.clock.now = row(world.database, person, step).due_at or at_local(1, 0)
    await world.dispatcher.tick()
    skipped = row(world.database, person, step)
    assert skipped.status == "skipped" and expected_note in skipped.note
    assert world.fakes.telegram.sent() == [] and world.fakes.engine.triggered == []


def document_ready_without_a_channel(database: Database) -> int:
    """A person whose Telegram is not linked (yet) and whose passport is ready: the outbox row's id."""
    person = enrol(database)
    with database.transaction() as session:
        identities.identity_for(session, "telegram", CHAT).person_id = None
        documents.set_document_status(session, person, "passport", "ready", "Office", "", "test")
        [planned] = outbox.list_outbox(session, person)
        planned.due_at = planned.not_before = at_local(11, 10)  # as if the caseworker had set it then
        return planned.id


async def test_a_message_without_a_channel_waits_and_goes_out_once_the_person_links(world: World) -> None:
    row_id = document_ready_without_a_channel(world.database)
    world.clock.now = at_local(11, 10)
    report = await world.dispatcher.tick()
    with world.database.transaction() as session:
        waiting = outbox.get_row(session, row_id)
        code = identities.issue_link_code(session, b"k", people.get_person(session, waiting.person_id),
                                          world.clock.now, timedelta(hours=1))
    assert report.waiting == 1 and world.fakes.telegram.sent() == []
    assert (waiting.status, waiting.note) == ("pending", outbox.WAITING_FOR_CHANNEL)
    assert waiting.not_before == world.clock.now + timedelta(hours=1)  # looked at again, linking or not
    world.clock.now += timedelta(minutes=5)
    with world.database.transaction() as session:
        identity = identities.identity_for(session, "telegram", CHAT)
        assert identities.redeem_link_code(session, b"k", identity, code, world.clock.now).outcome == "linked"
    report = await world.dispatcher.tick()
    assert report.sent == 1
    assert [m["text"] for m in world.fakes.telegram.sent()] == [f"flow_message {row_id} in uz-Cyrl"]


async def test_a_message_without_a_channel_is_skipped_when_its_step_expires(world: World) -> None:
    row_id = document_ready_without_a_channel(world.database)
    world.clock.now = at_local(11, 10) + timedelta(days=6, hours=23)
    assert (await world.dispatcher.tick()).waiting == 1
    world.clock.now = at_local(11, 10) + timedelta(days=7)
    await world.dispatcher.tick()
    with world.database.transaction() as session:
        skipped = outbox.get_row(session, row_id)
    assert skipped.status == "skipped" and "did not link Telegram or SMS within 7 day(s)" in skipped.note
    assert world.fakes.telegram.sent() == []


async def test_a_reminder_whose_appointment_has_begun_is_skipped(world: World) -> None:
    person = enrol(world.database)
    book(world.database, person, at_local(12, 15))
    world.clock.now = at_local(12, 15, 30)  # the dispatcher was down until after the appointment
    await world.dispatcher.tick()
    assert row(world.database, person, "two_hours_before").status == "skipped"
    assert "has begun" in row(world.database, person, "two_hours_before").note
    assert world.fakes.telegram.sent() == []


async def test_an_engine_outage_is_retried_with_backoff(world: World) -> None:
    person = enrol(world.database)
    book(world.database, person, at_local(12, 15))
    world.fakes.engine.down = True
    world.clock.now = at_local(11, 10)
    first = await world.dispatcher.tick()
    waiting = row(world.database, person, "day_before")
    assert first.retried == 1 and waiting.status == "pending" and waiting.attempts == 1
    assert waiting.not_before is not None and waiting.not_before >= world.clock.now + timedelta(seconds=30)
    assert "503" in (waiting.last_error or "")
    world.fakes.engine.down = False
    world.clock.now = waiting.not_before
    second = await world.dispatcher.tick()
    assert second.sent == 1 and row(world.database, person, "day_before").attempts == 2
    assert len(world.fakes.telegram.sent()) == 1


async def test_a_blocked_bot_and_an_unsubscribed_phone_end_the_message(world: World) -> None:
    on_telegram, on_sms = enrol(world.database), enrol(world.database, "ru", "sms")
    book(world.database, on_telegram, at_local(12, 15))
    book(world.database, on_sms, at_local(12, 15))
    world.fakes.telegram.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    world.fakes.twilio.errors.append(21610)
    world.clock.now = at_local(11, 10)
    await world.dispatcher.tick()
    blocked, unsubscribed = row(world.database, on_telegram, "day_before"), row(world.database, on_sms, "day_before")
    assert (blocked.status, unsubscribed.status) == ("failed", "skipped")
    assert "blocked" in blocked.note and "unsubscribed" in unsubscribed.note
    with world.database.transaction() as session:
        person = people.get_person(session, on_sms)
        assert person.opted_out  # nothing more goes to that phone


async def claim_and_stop(world: World, person: int, status: str, parts_sent: int = 0) -> OutboxMessage:
    """Leave the reminder as a dispatcher killed mid-way would: claimed, rendered, `status`."""
    with world.database.transaction() as session:
        stopped = next(m for m in outbox.list_outbox(session, person) if m.step == "day_before")
        stopped.status, stopped.claimed_at, stopped.attempts = status, at_local(11, 10), 1
        stopped.channel = "sms" if any(i.channel == "sms" for i in identities.linked_identities(session, person)) \
            else "telegram"
        stopped.rendered = [{"text": "Eslatma", "buttons": []}]
        stopped.parts_sent = parts_sent
        return stopped


async def test_after_a_crash_an_sms_already_in_twilios_log_is_not_sent_again(world: World) -> None:
    person = enrol(world.database, "uz", "sms")
    book(world.database, person, at_local(12, 15))
    await claim_and_stop(world, person, "delivering")
    world.fakes.twilio.accepted.append({"sid": "SM1", "to": PHONE, "from": FROM_NUMBER, "body": "Eslatma",
                                        "date_created": "Tue, 11 Mar 2031 05:00:01 +0000", "status": "queued"})
    world.clock.now = at_local(11, 10, 2)  # the lease (60 s) has passed
    report = await world.dispatcher.tick()
    done = row(world.database, person, "day_before")
    assert report.recovered == 1 and done.status == "sent" and "provider's log" in done.note
    assert world.fakes.twilio.messages == [] and world.fakes.engine.triggered == []


async def test_after_a_crash_an_sms_missing_from_twilios_log_is_sent(world: World) -> None:
    person = enrol(world.database, "uz", "sms")
    book(world.database, person, at_local(12, 15))
    await claim_and_stop(world, person, "delivering")
    world.clock.now = at_local(11, 10, 2)
    await world.dispatcher.tick()
    assert row(world.database, person, "day_before").status == "sent"
    assert [m["Body"] for m in world.fakes.twilio.messages] == ["Eslatma"]
    assert world.fakes.engine.triggered == []  # the kept rendering is used, the engine is not asked again


async def test_after_a_crash_mid_telegram_send_the_message_is_marked_uncertain_not_repeated(world: World) -> None:
    person = enrol(world.database)
    book(world.database, person, at_local(12, 15))
    await claim_and_stop(world, person, "delivering")
    world.clock.now = at_local(11, 10, 2)
    report = await world.dispatcher.tick()
    assert report.uncertain == 1 and row(world.database, person, "day_before").status == "uncertain"
    assert world.fakes.telegram.sent() == []


async def test_after_a_crash_before_sending_the_message_is_resumed(world: World) -> None:
    person = enrol(world.database)
    book(world.database, person, at_local(12, 15))
    await claim_and_stop(world, person, "sending")
    world.clock.now = at_local(11, 10, 0)
    early = await world.dispatcher.tick()  # the claim is younger than the lease: maybe still in progress
    assert early.recovered == 0 and world.fakes.telegram.sent() == []
    world.clock.now = at_local(11, 10, 2)
    await world.dispatcher.tick()
    assert row(world.database, person, "day_before").status == "sent"
    assert [m["text"] for m in world.fakes.telegram.sent()] == ["Eslatma"]


WELCOME = """\
name: welcome
description: A welcome message when a person is enrolled (written by a caseworker).
trigger: person_enrolled
steps:
  - id: hello
    offset: 0 minutes
    message:
      en: "Welcome to Hamroh. Write to me whenever you need anything."
      ru: "Добро пожаловать в Hamroh. Если что-то понадобится, пишите в любое время."
      uz: "Hamroh xizmatiga xush kelibsiz. Biror narsa kerak bo'lsa, istalgan vaqtda yozing."
      uz-Cyrl: "Hamroh хизматига хуш келибсиз. Бирор нарса керак бўлса, исталган вақтда ёзинг."
      kk: "Hamroh қызметіне қош келдіңіз. Бірдеңе қажет болса, кез келген уақытта жазыңыз."
      ky: "Hamroh'ко кош келиңиз. Бир нерсе керек болсо, каалаган убакта жазыңыз."
      tg: "Ба Hamroh хуш омадед. Агар ягон чиз лозим шавад, дар вақти дилхоҳ нависед."
"""


async def test_a_new_flow_file_takes_effect_without_a_restart(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    flows_dir = tmp_path / "flows"
    shutil.copytree(FLOWS_DIR, flows_dir)
    monkeypatch.setenv("HAMROH_FLOWS_DIR", str(flows_dir))
    monkeypatch.setenv("HAMROH_DATABASE_URL", world.database.url)
    get_settings.cache_clear()
    runtime.flow_library.cache_clear()
    runtime.database.cache_clear()
    try:
        before = enrol(world.database, "ky")
        (flows_dir / "welcome.yml").write_text(WELCOME, encoding="utf-8")
        assert main(["flows", "validate"]) == 0
        assert "6 valid flow(s), 0 error(s)" in capsys.readouterr().out
        assert main(["flows", "list"]) == 0
        assert "welcome: on person_enrolled: hello (+0 minute(s))" in capsys.readouterr().out
        after = enrol(world.database, "ky")
        assert main(["flows", "preview", "welcome", "--person", str(after)]) == 0
        assert "кош келиңиз" in capsys.readouterr().out
        with world.database.transaction() as session:
            assert [m.flow for m in outbox.list_outbox(session, before)] == []
            [planned] = [m for m in outbox.list_outbox(session, after) if m.flow == "welcome"]
        assert planned.due_at is not None
        world.clock.now = planned.due_at
        report = await world.dispatcher.tick()
        assert report.sent == 1
        assert [m["text"] for m in world.fakes.telegram.sent()] == [f"flow_message {planned.id} in ky"]
    finally:
        get_settings.cache_clear()
        runtime.flow_library.cache_clear()
        runtime.database.cache_clear()


async def test_an_unexpected_error_retries_a_message_not_yet_handed_to_the_provider(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = enrol(world.database)
    book(world.database, person, at_local(12, 15))
    world.clock.now = at_local(11, 10)

    async def broken(*args: object) -> None:
        raise KeyError("bug")

    monkeypatch.setattr(world.dispatcher.engine, "trigger_intent", broken)
    report = await world.dispatcher.tick()
    waiting = row(world.database, person, "day_before")
    assert report.retried == 1 and waiting.status == "pending" and waiting.last_error == "KeyError"


async def test_an_unexpected_error_during_the_provider_call_is_left_for_the_provider_check(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = enrol(world.database, "uz", "sms")
    book(world.database, person, at_local(12, 15))
    world.clock.now = at_local(11, 10)

    async def broken(*args: object) -> None:
        raise RuntimeError("after the request went out")

    monkeypatch.setattr(world.dispatcher.senders["sms"], "send", broken)
    await world.dispatcher.tick()
    stopped = row(world.database, person, "day_before")
    assert stopped.status == "delivering" and stopped.last_error == "RuntimeError"
    world.clock.now = at_local(11, 10, 2)  # past the lease: the provider's log decides (nothing there: sent)
    monkeypatch.undo()
    await world.dispatcher.tick()
    assert row(world.database, person, "day_before").status == "sent"
    assert len(world.fakes.twilio.messages) == 1
