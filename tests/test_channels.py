"""The channel gateway, courier-style: each case is an HTTP request in, the expected engine call
and the expected outgoing provider call. Real HTTP on loopback: the app, a fake Telegram Bot API,
a fake Twilio API and a fake engine."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx
import pytest
from sqlalchemy import select

from bot.db.models import ChannelIdentity, InboundMessage, OutboundMessage
from bot.fakes.serving import ServerThread
from bot.fakes.telegram_api import FakeTelegram
from bot.nlp.languages import LANGUAGES

from .channel_harness import CATALOG, SECRET, TEXT_ONLY, Harness, message, sms

Case = tuple[str, Callable[[Harness], list[httpx.Response]], list[int], int, Callable[[Harness], None]]

TELEGRAM_CASES: list[Case] = [
    ("text goes to the engine under a pseudonym and the reply comes back",
     lambda h: [h.telegram_update(message(1, "Salom, o‘zimni yomon his qilyapman"))], [200], 1,
     lambda h: (
         _check(h.engine.received[0]["sender"] != "777" and len(h.engine.received[0]["sender"]) == 32),
         _check(h.engine.received[0]["message"] == "Salom, oʻzimni yomon his qilyapman"),
         _check(h.engine.received[0]["metadata"]["channel"] == "telegram"),
         _check([(m["chat_id"], m["text"]) for m in h.telegram.sent()] == [(777, "reply")]),
     )),
    ("a forged secret token is refused", lambda h: [h.telegram_update(message(2), secret="wrong")], [403], 0,
     lambda h: _check(h.telegram.sent() == [])),
    ("a missing secret token is refused", lambda h: [h.telegram_update(message(3), secret=None)], [403], 0,
     lambda h: _check(h.telegram.sent() == [])),
    ("a retried update is processed once", lambda h: [h.telegram_update(message(4)), h.telegram_update(message(4))],
     [200, 200], 1, lambda h: _check(len(h.telegram.sent()) == 1)),
    ("an oversized body gets 413",
     lambda h: [httpx.post(f"{h.url}/telegram/webhook", content=b"{" + b" " * 70000 + b"}",
                           headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})], [413], 0, lambda h: None),
    ("malformed JSON gets 400",
     lambda h: [httpx.post(f"{h.url}/telegram/webhook", content=b"{not json",
                           headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})], [400], 0, lambda h: None),
    ("a voice message gets a polite 'text only'",
     lambda h: [h.telegram_update(message(5, None, voice={"file_id": "v", "file_unique_id": "u", "duration": 3}))],
     [200], 0, lambda h: _check([m["text"] for m in h.telegram.sent()] == [TEXT_ONLY])),
    ("a photo gets 'text only' too",
     lambda h: [h.telegram_update(message(12, None, photo=[{"file_id": "p", "file_unique_id": "u", "width": 1,
                                                            "height": 1}]))],
     [200], 0, lambda h: _check([m["text"] for m in h.telegram.sent()] == [TEXT_ONLY])),
    ("a sticker gets 'text only' in the language the person's Telegram app uses",
     lambda h: [h.telegram_update(message(15, None, language_code="ru", sticker={
         "file_id": "s", "file_unique_id": "u", "type": "regular", "width": 1, "height": 1, "is_animated": False,
         "is_video": False}))],
     [200], 0,
     lambda h: _check(h.telegram.sent()[-1]["text"] == CATALOG.render("utter_text_only", "ru").text)),
    ("a contact or a location is handled without errors",
     lambda h: [h.telegram_update(message(16, None, location={"latitude": 41.3, "longitude": 69.2})),
                h.telegram_update(message(17, None, contact={"phone_number": "+998", "first_name": "A"}))],
     [200, 200], 0, lambda h: _check(len(h.telegram.sent()) == 2)),
    ("the person blocking the bot (no message) is acknowledged",
     lambda h: [h.telegram_update({"update_id": 18, "my_chat_member": {
         "chat": {"id": 777, "type": "private"}, "from": {"id": 777, "is_bot": False, "first_name": "T"}, "date": 0,
         "old_chat_member": {"status": "member", "user": {"id": 1, "is_bot": True, "first_name": "B"}},
         "new_chat_member": {"status": "kicked", "until_date": 0,
                             "user": {"id": 1, "is_bot": True, "first_name": "B"}}}})],
     [200], 0, lambda h: _check(h.telegram.sent() == [])),
    ("an edited message (no new message) is acknowledged and ignored",
     lambda h: [h.telegram_update({"update_id": 6, "edited_message": message(6)["message"]})], [200], 0,
     lambda h: _check(h.telegram.sent() == [])),
    ("emoji-only messages still reach the engine", lambda h: [h.telegram_update(message(7, "👍"))], [200], 1,
     lambda h: _check(h.engine.received[0]["message"] == "👍")),
    ("STOP confirms once and then nothing is sent until START",
     lambda h: [h.telegram_update(message(8, "STOP")), h.telegram_update(message(9, "salom")),
                h.telegram_update(message(10, "СТОП")), h.telegram_update(message(11, "START"))], [200] * 4, 1,
     lambda h: (
         _check(h.telegram.sent()[0]["text"] in [CATALOG.render("utter_opt_out", tag).text for tag in LANGUAGES]),
         _check(len(h.telegram.sent()) == 2),  # the confirmation, then the reply after START
         _check(h.engine.received[0]["message"] == "/opt_in"),
     )),
]


def _check(condition: bool) -> None:
    assert condition


@pytest.mark.parametrize("name, requests, statuses, engine_calls, expect", TELEGRAM_CASES,
                         ids=[case[0] for case in TELEGRAM_CASES])
def test_telegram(harness: Harness, name: str, requests, statuses, engine_calls, expect) -> None:  # type: ignore[no-untyped-def]
    responses = requests(harness)
    harness.settle()
    assert [r.status_code for r in responses] == statuses
    assert len(harness.engine.received) == engine_calls
    expect(harness)


def test_telegram_buttons_become_an_inline_keyboard_and_a_press_is_answered(harness: Harness) -> None:
    long_payload = '/reschedule_appointment{"appointment_id": "123456", "slot_id": "7891011"}'
    harness.engine.replies = [{"text": "choose", "buttons": [{"title": "10.12 15:00", "payload": long_payload}]}]
    harness.telegram_update(message(20, "boshqa vaqt"))
    harness.settle()
    markup = harness.telegram.sent()[0]["reply_markup"]
    data = markup["inline_keyboard"][0][0]["callback_data"]
    assert len(data.encode()) <= 64 and long_payload not in data
    press = {"update_id": 21, "callback_query": {
        "id": "cb1", "chat_instance": "c", "data": data, "from": {"id": 777, "is_bot": False, "first_name": "T"},
        "message": {"message_id": 100, "date": 0, "chat": {"id": 777, "type": "private"}, "text": "choose"}}}
    assert harness.telegram_update(press).status_code == 200
    harness.settle()
    assert harness.engine.received[-1]["message"] == long_payload
    assert [p["callback_query_id"] for p in harness.telegram.sent("answerCallbackQuery")] == ["cb1"]
    assert harness.telegram.sent("editMessageReplyMarkup")[0]["message_id"] == 100


def test_telegram_long_replies_are_split_and_blocked_bots_mark_the_person_unreachable(harness: Harness) -> None:
    harness.engine.replies = [{"text": "\n".join(["x" * 1000] * 6)}]
    harness.telegram_update(message(30))
    harness.settle()
    assert len(harness.telegram.sent()) == 2 and all(len(m["text"]) <= 4096 for m in harness.telegram.sent())
    harness.telegram.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    harness.telegram_update(message(31))
    harness.settle()
    with harness.database.transaction() as session:
        assert session.scalars(select(ChannelIdentity).where(ChannelIdentity.address == "777")).one().unreachable


def test_telegram_429_is_retried_after_the_given_time(harness: Harness) -> None:
    harness.telegram.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    harness.telegram_update(message(40))
    time.sleep(1.5)
    harness.settle()
    assert len(harness.telegram.sent()) == 2  # refused once, then sent


def test_engine_down_keeps_the_message_and_processes_it_when_back(harness: Harness) -> None:
    harness.engine.down = True
    assert harness.telegram_update(message(50, "salom")).status_code == 200
    time.sleep(1)
    with harness.database.transaction() as session:
        assert session.scalars(select(InboundMessage)).one().status == "pending"
    harness.engine.down = False
    deadline = time.monotonic() + 10
    while not harness.telegram.sent() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert [m["text"] for m in harness.telegram.sent()] == ["reply"]


SMS_CASES: list[Case] = [
    ("inbound SMS goes to the engine and the reply is sent by Twilio",
     lambda h: [h.sms(sms("SM1", "Salom"))], [200], 1,
     lambda h: (
         _check(h.engine.received[0]["sender"] != "+998901112233"),
         _check(h.engine.received[0]["metadata"]["channel"] == "sms"),
         _check([(m["To"], m["From"], m["Body"]) for m in h.twilio.messages] ==
                [("+998901112233", "+15005550006", "reply")]),
     )),
    ("a forged signature is refused", lambda h: [h.sms(sms("SM2"), sign=False)], [403], 0,
     lambda h: _check(h.twilio.messages == [])),
    ("a retried MessageSid is processed once", lambda h: [h.sms(sms("SM3")), h.sms(sms("SM3"))], [200, 200], 1,
     lambda h: _check(len(h.twilio.messages) == 1)),
    ("MMS without text gets 'text only'", lambda h: [h.sms(sms("SM4", "", NumMedia="1"))], [200], 0,
     lambda h: _check(h.twilio.messages[0]["Body"] == CATALOG.render("utter_text_only", "uz", "sms").text)),
    ("an empty form without sender gets 400", lambda h: [h.sms({})], [400], 0, lambda h: None),
    ("an empty SMS is acknowledged and not processed", lambda h: [h.sms(sms("SM7", "   "))], [200], 0,
     lambda h: _check(h.twilio.messages == [])),
    ("emoji-only SMS reaches the engine", lambda h: [h.sms(sms("SM8", "🙏"))], [200], 1,
     lambda h: _check(h.engine.received[0]["message"] == "🙏")),
    ("START after STOP resumes", lambda h: [h.sms(sms("SM12", "STOP")), h.sms(sms("SM13", "START"))], [200, 200], 1,
     lambda h: _check(h.engine.received[0]["message"] == "/opt_in" and len(h.twilio.messages) == 2)),
    ("TO'XTAT opts out with one confirmation", lambda h: [h.sms(sms("SM5", "TO'XTAT")), h.sms(sms("SM6", "salom"))],
     [200, 200], 0, lambda h: _check(len(h.twilio.messages) == 1)),
]


@pytest.mark.parametrize("name, requests, statuses, engine_calls, expect", SMS_CASES,
                         ids=[case[0] for case in SMS_CASES])
def test_sms(harness: Harness, name: str, requests, statuses, engine_calls, expect) -> None:  # type: ignore[no-untyped-def]
    responses = requests(harness)
    harness.settle()
    assert [r.status_code for r in responses] == statuses
    assert len(harness.engine.received) == engine_calls
    expect(harness)


def test_the_engine_tells_the_conversation_language_and_it_is_not_delivered(harness: Harness) -> None:
    harness.engine.replies = [{"text": "Салом!"}, {"custom": {"language": "tg"}}]
    harness.telegram_update(message(70, "салом"))
    harness.settle()
    harness.telegram_update(message(71, None, voice={"file_id": "v", "file_unique_id": "u", "duration": 1}))
    harness.settle()
    assert [m["text"] for m in harness.telegram.sent()] == ["Салом!", CATALOG.render("utter_text_only", "tg").text]


def test_sms_numbered_options_map_back_and_uzbek_apostrophes_stay_gsm(harness: Harness) -> None:
    buttons = [{"title": "Ha", "payload": "/affirm"}, {"title": "Yoʻq", "payload": "/deny"}]
    harness.engine.replies = [{"text": "Uchrashuvni tasdiqlaysizmi? Oʻylab koʻring", "buttons": buttons}]
    harness.sms(sms("SM10", "bekor qilish"))
    harness.settle()
    assert harness.twilio.messages[0]["Body"] == "Uchrashuvni tasdiqlaysizmi? O'ylab ko'ring\n1 Ha\n2 Yo'q"
    harness.engine.replies = [{"text": "ok"}]
    harness.sms(sms("SM11", "2"))
    harness.settle()
    assert harness.engine.received[-1]["message"] == "/deny"


def test_status_callbacks_and_21610_opt_out(harness: Harness) -> None:
    harness.sms(sms("SM20"))
    harness.settle()
    with harness.database.transaction() as session:
        sid = session.scalars(select(OutboundMessage)).one().provider_id
    assert sid
    assert harness.sms({"MessageSid": sid, "MessageStatus": "delivered"}, path="/twilio/status").status_code == 204
    assert harness.sms({"MessageSid": sid, "MessageStatus": "delivered"}, sign=False,
                       path="/twilio/status").status_code == 403
    with harness.database.transaction() as session:
        assert session.scalars(select(OutboundMessage)).one().status == "delivered"
    harness.twilio.errors.append(21610)
    harness.sms(sms("SM21", "yana"))
    harness.settle()
    harness.sms(sms("SM22", "yana bir"))
    harness.settle()
    with harness.database.transaction() as session:
        identity = session.scalars(select(ChannelIdentity).where(ChannelIdentity.channel == "sms")).one()
        assert identity.opted_out
    assert len(harness.engine.received) == 2  # after 21610 nothing more is processed


def test_oversized_and_malformed_sms_bodies(harness: Harness) -> None:
    big = httpx.post(f"{harness.url}/twilio/sms", content=b"Body=" + b"x" * 70000,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert big.status_code == 413
    bad = httpx.post(f"{harness.url}/twilio/sms", content=b"\xff\xfe=\xff",
                     headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": "x"})
    assert bad.status_code == 400
    unsigned = httpx.post(f"{harness.url}/twilio/sms", content=b"\xff\xfe=\xff",
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert unsigned.status_code == 403  # nothing is parsed before a signature is there
    assert json.dumps(harness.twilio.messages) == "[]"


@pytest.mark.parametrize("harness", [True], indirect=True)
def test_long_polling_handles_updates_without_a_webhook(harness: Harness) -> None:
    assert harness.telegram_update(message(60)).status_code == 404  # no webhook route while polling
    harness.telegram.updates.append(message(61, "salom"))
    deadline = time.monotonic() + 10
    while not harness.telegram.sent() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [m["text"] for m in harness.telegram.sent()] == ["reply"]
    assert harness.engine.received[0]["message"] == "salom"
    assert "deleteWebhook" in [name for name, _ in harness.telegram.calls]


def test_register_sets_the_secret_token_and_the_commands(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.cli import main
    from bot.settings import get_settings

    fake = FakeTelegram()
    with ServerThread(fake.app) as server:
        env = {"HAMROH_TELEGRAM_BOT_TOKEN": "123456:TEST", "HAMROH_TELEGRAM_WEBHOOK_SECRET": SECRET,
               "HAMROH_PUBLIC_BASE_URL": "https://hamroh.example", "HAMROH_TELEGRAM_API_BASE": server.url}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        get_settings.cache_clear()
        assert main(["telegram", "register"]) == 0
    get_settings.cache_clear()
    webhook = fake.sent("setWebhook")[0]
    assert webhook["url"] == "https://hamroh.example/telegram/webhook" and webhook["secret_token"] == SECRET
    assert [c["command"] for c in fake.sent("setMyCommands")[0]["commands"]] == ["start", "help", "language"]


def test_a_callback_id_that_cannot_be_sent_back_is_still_accepted(harness: Harness) -> None:
    body = ('{"update_id": 9001, "callback_query": {"id": "a\\udfff", "chat_instance": "c", "data": "p:1", '
            '"from": {"id": 4321, "is_bot": false, "first_name": "T"}}}')
    response = httpx.post(f"{harness.url}/telegram/webhook", content=body,
                          headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"})
    assert response.status_code == 200
