"""Each service over Telegram and SMS: webhooks into the app, the real engine, replies to the fakes."""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys
import time
from urllib.parse import urlencode

import httpx
import pytest
from twilio.request_validator import RequestValidator

from bot.responses.catalog import Catalog

from .conftest import CHANNEL_ENV, Fakes, Services

pytestmark = pytest.mark.e2e
CATALOG = Catalog.load("uz")
UPDATE_IDS = itertools.count(1000)
SIDS = itertools.count(1)


def link_code(services: Services, person: int) -> str:
    out = subprocess.run([sys.executable, "-m", "bot", "admin", "people", "link-code", str(person)],
                         capture_output=True, text=True, env=services.env(), check=True).stdout
    found = re.search(r"link code for person \d+: (\w+)", out)
    assert found, out
    return found.group(1)


def fits(name: str, language: str, text: str) -> bool:
    """True if `text` is reply `name` with some value in its one placeholder."""
    before, _, after = CATALOG.render(name, language, values={"when": "\0"}).text.partition("\0")
    return text.startswith(before) and text.endswith(after) and len(text) > len(before) + len(after)


def wait_for(predicate, timeout: float = 60.0, what: object = None) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"no reply arrived: {what() if callable(what) else what}"
        time.sleep(0.2)


class TelegramUser:
    def __init__(self, services: Services, fakes: Fakes, user_id: int) -> None:
        self.url = f"{services.settings.app_url}/telegram/webhook"
        self.fakes, self.user_id = fakes, user_id

    def replies(self) -> list[dict]:
        return [m for m in self.fakes.telegram.sent() if int(m["chat_id"]) == self.user_id]

    def _post(self, update: dict) -> list[dict]:
        before = len(self.replies())
        headers = {"X-Telegram-Bot-Api-Secret-Token": CHANNEL_ENV["HAMROH_TELEGRAM_WEBHOOK_SECRET"]}
        assert httpx.post(self.url, json=update, headers=headers).status_code == 200
        wait_for(lambda: len(self.replies()) > before, what=lambda: self.fakes.telegram.calls[-3:])
        time.sleep(0.5)  # a reply may come in several messages
        return self.replies()[before:]

    def say(self, text: str) -> list[dict]:
        user = {"id": self.user_id, "is_bot": False, "first_name": "T"}
        return self._post({"update_id": next(UPDATE_IDS), "message": {
            "message_id": 1, "date": 0, "chat": {"id": self.user_id, "type": "private"}, "from": user, "text": text}})

    def press(self, reply: dict, index: int) -> list[dict]:
        data = reply["reply_markup"]["inline_keyboard"][index][0]["callback_data"]
        user = {"id": self.user_id, "is_bot": False, "first_name": "T"}
        return self._post({"update_id": next(UPDATE_IDS), "callback_query": {
            "id": f"cb{self.user_id}", "chat_instance": "c", "data": data, "from": user,
            "message": {"message_id": 5, "date": 0, "chat": {"id": self.user_id, "type": "private"}, "text": "x"}}})


class SmsUser:
    def __init__(self, services: Services, fakes: Fakes, phone: str) -> None:
        self.url = f"{services.settings.app_url}/twilio/sms"
        self.fakes, self.phone = fakes, phone

    def replies(self) -> list[dict]:
        return [m for m in self.fakes.twilio.messages if m["To"] == self.phone]

    def say(self, text: str) -> list[dict]:
        before = len(self.replies())
        params = {"MessageSid": f"SMe2e{next(SIDS):028d}", "From": self.phone, "To": "+15005550006", "Body": text,
                  "NumMedia": "0"}
        signature = RequestValidator(CHANNEL_ENV["HAMROH_TWILIO_AUTH_TOKEN"]).compute_signature(self.url, params)
        response = httpx.post(self.url, content=urlencode(params), headers={
            "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
        assert response.status_code == 200
        wait_for(lambda: len(self.replies()) > before)
        time.sleep(0.5)
        return self.replies()[before:]


def test_telegram_link_appointments_and_documents_in_uzbek_cyrillic(services: Services, fakes: Fakes) -> None:
    user = TelegramUser(services, fakes, 910001)
    linked = user.say(f"/start {link_code(services, 2)}")
    assert linked[0]["text"] == CATALOG.render("utter_link_ok", "uz-Cyrl").text
    listed = user.say("Учрашувларим қачон?")
    assert "Sample office" in listed[0]["text"] and listed[0]["reply_markup"]["inline_keyboard"]
    chosen = user.press(listed[0], 0)  # each appointment has its own choice, then confirm / another time / cancel
    confirmed = user.press(chosen[0], 0)
    assert fits("utter_appointment_confirmed", "uz-Cyrl", confirmed[0]["text"])
    assert fakes.telegram.sent("answerCallbackQuery")
    documents = user.say("/check_document_status")
    assert CATALOG.languages["uz-Cyrl"]["words"]["document_type"]["id_card"] in documents[0]["text"]


def test_sms_link_courses_and_second_factor_in_russian(services: Services, fakes: Fakes) -> None:
    user = SmsUser(services, fakes, "+77010000001")
    assert user.say(f"LINK {link_code(services, 6)}")[0]["Body"] == CATALOG.render("utter_link_ok", "ru", "sms").text
    found = user.say("есть курсы сварщика в Намангане?")
    assert "\n1 " in found[0]["Body"] and CATALOG.word("ru", "city", "Namangan") in found[0]["Body"]
    details = user.say("1")
    assert "1 " + CATALOG.languages["ru"]["buttons"]["register"] in details[0]["Body"]
    assert user.say("1")[0]["Body"] == CATALOG.render("utter_course_interest", "ru", "sms").text
    asked = user.say("/check_document_status")
    assert asked[-1]["Body"] == CATALOG.render("utter_ask_second_factor", "ru", "sms").text
    shown = user.say("01.01.1990")  # the sample second factor; sample person 6 has no documents
    assert shown[-1]["Body"] == CATALOG.render("utter_documents_none", "ru", "sms").text


def test_crisis_and_opt_out_by_sms_in_kyrgyz(services: Services, fakes: Fakes) -> None:
    user = SmsUser(services, fakes, "+996700000009")
    crisis = user.say("мен өлгүм келет, жашагым келбей калды")
    assert "SAMPLE crisis line" in crisis[0]["Body"]
    assert user.say("ТОКТОТ")[0]["Body"] == CATALOG.render("utter_opt_out", "ky", "sms").text
    before = len(fakes.twilio.messages)
    params = {"MessageSid": "SMe2equiet", "From": user.phone, "To": "+15005550006", "Body": "салам", "NumMedia": "0"}
    signature = RequestValidator(CHANNEL_ENV["HAMROH_TWILIO_AUTH_TOKEN"]).compute_signature(user.url, params)
    httpx.post(user.url, content=urlencode(params), headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
    time.sleep(2)
    assert len(fakes.twilio.messages) == before  # nothing of any kind after opting out


def test_telegram_courses_support_human_and_crisis_in_kazakh(services: Services, fakes: Fakes) -> None:
    user = TelegramUser(services, fakes, 910002)
    user.say(f"/start {link_code(services, 3)}")
    found = user.say("Наманганда дәнекерлеу курсы бар ма?")
    assert CATALOG.word("kk", "city", "Namangan") in found[0]["text"]
    details = user.press(found[0], 0)
    assert user.press(details[0], 0)[0]["text"] == CATALOG.render("utter_course_interest", "kk").text
    consent = user.say("/request_psych_support")
    question = user.press(consent[0], 0)  # yes
    for _ in range(4):
        question = user.press(question[0], 0)
    assert question[0]["text"] == CATALOG.render("utter_referral_created", "kk").text
    human = user.say("/talk_to_human")
    assert human[0]["text"] == CATALOG.render("utter_human", "kk", values={"opens": "09:00", "closes": "18:00"}).text
    assert "SAMPLE crisis line KZ" in user.say("/crisis")[0]["text"]


def test_sms_appointments_support_and_human_in_tajik(services: Services, fakes: Fakes) -> None:
    user = SmsUser(services, fakes, "+992900000001")
    user.say(f"LINK {link_code(services, 5)}")
    listed = user.say("/ask_appointments")
    assert "Sample office" in listed[0]["Body"] and "\n2 " in listed[0]["Body"]
    chosen = user.say("1")  # the first appointment: confirm / another time / cancel
    assert "\n3 " in chosen[0]["Body"]
    asked = user.say("3")  # cancel: asks once
    assert asked[0]["Body"].endswith("\n1 " + CATALOG.languages["tg"]["buttons"]["yes"] + "\n2 "
                                     + CATALOG.languages["tg"]["buttons"]["no"])
    assert user.say("2")[0]["Body"] == CATALOG.render("utter_appointment_kept", "tg", "sms").text
    consent = user.say("/request_psych_support")
    assert consent[0]["Body"].startswith(CATALOG.render("utter_triage_consent", "tg", "sms").text)
    question = user.say("1")
    for _ in range(4):
        question = user.say("1")
    assert question[0]["Body"] == CATALOG.render("utter_referral_created", "tg", "sms").text
    human = user.say("/talk_to_human")
    assert human[0]["Body"] == CATALOG.render("utter_human", "tg", "sms", {"opens": "09:00", "closes": "18:00"}).text


def test_chat_via_gateway_shows_both_channels_offline(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """`make demo CHANNEL=sms|telegram`: the webhooks, the real engine and the fake providers."""
    env = dict(os.environ, HAMROH_DATABASE_URL=f"sqlite:///{tmp_path / 'demo.db'}")
    for channel, expected in (("sms", "\n1 "), ("telegram", "[1: ")):
        result = subprocess.run([sys.executable, "-m", "bot", "chat", "--via-gateway", "--channel", channel],
                                input="Assalomu alaykum, yaxshimisiz\n", capture_output=True, text=True,
                                timeout=300, env=env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(CATALOG.render("utter_greet", "uz", channel).text) and expected in result.stdout


def test_a_crisis_in_a_message_as_long_as_telegram_allows_gets_the_crisis_contacts(services: Services,
                                                                                  fakes: Fakes) -> None:
    """From about 2,000 characters the language detector divided by zero, the engine answered nothing
    and the message was marked done: no reply at all, even to a crisis."""
    story = "Uyga qaytganimdan beri hech kim bilan gaplasha olmayapman, ishim ham yoʻq, oilam ham uzoqda. "
    text = (story * (4000 // len(story)) + "Endi yashagim kelmayapti.")[:4096]
    assert len(text) > 3900
    replies = TelegramUser(services, fakes, 910077).say(text)
    assert "SAMPLE crisis line" in replies[0]["text"]
