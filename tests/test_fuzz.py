"""Property-based fuzzing of every public route (Hypothesis): whatever arrives, the answer is 2xx,
400, 403, 404, 405 or 413, never a 5xx, and the log holds no traceback and nothing anyone wrote.

Real HTTP on loopback (both listeners), a real database (SQLite, and PostgreSQL when it is
running); the fake engine answers, so accepted messages go through the whole inbound chain to the
fake Telegram and Twilio APIs. Budget: HAMROH_FUZZ_EXAMPLES per route (default 40; `make fuzz`
runs more).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from bot.channels.inputs import is_identifier
from bot.db.models import InboundMessage

from .test_security import AUTH_TOKEN, SECRET, Harness, serve  # noqa: F401 (serve is a fixture)

EXAMPLES = int(os.environ.get("HAMROH_FUZZ_EXAMPLES", "40"))
ALLOWED = {200, 204, 400, 403, 404, 405, 413}
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                              HealthCheck.too_slow])

#: Pieces that have broken text handling before, or that the inbound chain reacts to.
SPECIAL = ["\x00", "\ud800", "\udfff", "²", "٣", "\u202e", "\ufeff", "\n", "\t", " ", "'", "ʻ", "’", "0", "9",
           "STOP", "START", "СТОП", "TO'XTAT", "LINK ", "/start ", "/help", "p:", "1", "+998"]
any_character = st.characters(codec=None, exclude_categories=())  # lone surrogates and NUL included
texts = st.one_of(st.text(any_character, max_size=300),
                  st.lists(st.one_of(st.sampled_from(SPECIAL), any_character), max_size=30).map("".join))
ids = st.one_of(st.integers(), st.integers(min_value=1, max_value=2**40), st.text(max_size=20), st.none())
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4), max_leaves=20)
user = st.fixed_dictionaries({"id": ids, "is_bot": st.booleans(), "first_name": texts})
chat = st.fixed_dictionaries({"id": ids, "type": st.sampled_from(["private", "group", "x"])})
telegram_message = st.fixed_dictionaries(
    {"message_id": ids, "date": st.integers(), "chat": chat, "from": user},
    optional={"text": texts, "voice": json_values, "photo": json_values, "contact": json_values})
callback = st.fixed_dictionaries(
    {"id": texts, "chat_instance": texts, "from": user,
     "data": st.one_of(texts, st.builds(lambda tail: f"p:{tail}", texts), st.integers().map(lambda n: f"p:{n}"))},
    optional={"message": telegram_message})
updates = st.one_of(
    st.fixed_dictionaries({"update_id": ids, "message": telegram_message}),
    st.fixed_dictionaries({"update_id": ids, "callback_query": callback}),
    st.fixed_dictionaries({"update_id": ids}, optional={"edited_message": telegram_message, "x": json_values}),
    json_values,
)
twilio_keys = st.sampled_from(["From", "MessageSid", "Body", "NumMedia", "To", "MessageStatus", "ErrorCode"])
phones = st.one_of(st.from_regex(r"\A\+[0-9]{8,15}\Z"), texts)
sids = st.one_of(st.from_regex(r"\ASM[0-9a-f]{32}\Z"), texts)
forms = st.one_of(
    st.fixed_dictionaries({"From": phones, "MessageSid": sids, "Body": texts},
                          optional={"NumMedia": texts, "To": phones}),
    st.fixed_dictionaries({"MessageSid": sids, "MessageStatus": st.sampled_from(["delivered", "failed", "x"])},
                          optional={"ErrorCode": texts}),
    st.dictionaries(st.one_of(twilio_keys, texts), texts, max_size=6),
)
no_surrogates = st.text(st.characters(codec="utf-8"), max_size=200)
#: Any header value HTTP lets a client send (no NUL, no line breaks or other vertical space, no surrounding blanks).
header_values = st.binary(max_size=80).map(lambda raw: bytes(b for b in raw if b not in b"\r\n\x00\x0b\x0c").strip())


@pytest.fixture
def app(serve: Callable[..., Any], caplog: pytest.LogCaptureFixture) -> Iterator[tuple[Harness, list[str]]]:  # noqa: F811
    """The running app and the texts sent to it; afterwards the log is checked."""
    caplog.set_level(logging.INFO)
    sent: list[str] = []
    with serve(engine_up=True) as harness:
        yield harness, sent
        _settle(harness)
    private = {text for text in sent if len(text.strip()) >= 10}
    for record in caplog.records:
        message = record.getMessage()
        assert record.exc_info is None and "Traceback" not in message, message
        assert not any(text in message for text in private), message


def _settle(harness: Harness) -> None:
    """Let the inbound chain finish what the webhooks accepted (it runs after the 200)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        with harness.database.transaction() as session:
            if not session.scalar(select(func.count()).where(InboundMessage.status == "pending")):
                return
        time.sleep(0.2)


def _check(response: httpx.Response) -> None:
    assert response.status_code in ALLOWED, (response.status_code, response.text[:200])


@FUZZ
@given(update=updates)
def test_telegram_webhook(app: tuple[Harness, list[str]], update: Any) -> None:
    harness, sent = app
    body = json.dumps(update).encode()  # ASCII escapes: lone surrogates survive the trip
    sent.extend(text for text in _strings(update))
    response = httpx.post(f"{harness.url}/telegram/webhook", content=body,
                          headers={"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"})
    _check(response)


@FUZZ
@given(body=st.binary(max_size=2000), secret=st.one_of(st.just(SECRET.encode()), header_values))
def test_telegram_webhook_raw_bytes(app: tuple[Harness, list[str]], body: bytes, secret: bytes) -> None:
    harness, _ = app
    response = httpx.post(f"{harness.url}/telegram/webhook", content=body,
                          headers={"X-Telegram-Bot-Api-Secret-Token": secret})
    _check(response)
    if secret != SECRET.encode():
        assert response.status_code in (400, 403)  # 400: a header value HTTP itself does not allow


@FUZZ
@given(params=forms, path=st.sampled_from(["/twilio/sms", "/twilio/status"]))
def test_twilio_signed(app: tuple[Harness, list[str]], params: dict[str, str], path: str) -> None:
    harness, sent = app
    sent.extend(params.values())
    url = f"{harness.url}{path}"
    encoded = urlencode([(key.encode("utf-8", "surrogatepass"), value.encode("utf-8", "surrogatepass"))
                         for key, value in params.items()])
    signed = dict(parse_qsl(encoded, keep_blank_values=True))  # what the app will see
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, signed)
    response = httpx.post(url, content=encoded, headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
    _check(response)
    if path == "/twilio/sms" and response.status_code == 400:
        assert not (is_identifier(signed.get("From", ""), 32) and is_identifier(signed.get("MessageSid", ""), 64))


@FUZZ
@given(body=st.binary(max_size=2000), signature=header_values, path=st.sampled_from(["/twilio/sms", "/twilio/status"]))
def test_twilio_raw_bytes(app: tuple[Harness, list[str]], body: bytes, signature: bytes, path: str) -> None:
    harness, _ = app
    headers = {"Content-Type": b"application/x-www-form-urlencoded", "X-Twilio-Signature": signature}
    _check(httpx.post(f"{harness.url}{path}", content=body, headers=headers))


@FUZZ
@given(method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]),
       path=st.one_of(st.sampled_from(["/health", "/telegram/webhook", "/twilio/sms", "/twilio/status", "/webhook",
                                       "/nlg", "/"]), st.from_regex(r"\A/[a-z0-9/._%-]{0,40}\Z")),
       query=st.dictionaries(no_surrogates, no_surrogates, max_size=3))
def test_any_method_and_path(app: tuple[Harness, list[str]], method: str, path: str, query: dict[str, str]) -> None:
    harness, _ = app
    response = httpx.request(method, f"{harness.url}{path}", params=query)
    _check(response)
    if path in ("/webhook", "/nlg"):
        assert response.status_code in (404, 405)  # never on the public listener


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
