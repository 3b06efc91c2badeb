"""`hamroh chat --via-gateway`: talk through the real channel gateway, offline.

The channel webhooks receive what you type (as Telegram updates or signed Twilio forms); the
replies are what the local fake Telegram or Twilio API received, shown as the person's
phone would show them. Nothing leaves this machine.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sys
import time
from typing import Any, TextIO
from urllib.parse import urlencode

import httpx
from twilio.request_validator import RequestValidator

from bot.engine.services import running_services
from bot.fakes.serving import ServerThread, free_port
from bot.fakes.telegram_api import FakeTelegram
from bot.fakes.twilio_api import FakeTwilio
from bot.settings import Settings, get_settings

DEMO_ENV = {  # demo values for the local fakes only: not secrets, nothing real
    "HAMROH_TELEGRAM_BOT_TOKEN": "123456:DEMO", "HAMROH_TELEGRAM_WEBHOOK_SECRET": "demo-secret",
    "HAMROH_TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "HAMROH_TWILIO_AUTH_TOKEN": "demo-auth-token",
    "HAMROH_TWILIO_FROM_NUMBER": "+15005550006",
}


def _print(output: TextIO, text: str) -> None:
    output.write(text + "\n\n")
    output.flush()


async def _settled(count: Any, before: int, timeout: float = 60.0) -> None:
    """Wait for new replies, then a moment more for the rest of them."""
    deadline = time.monotonic() + timeout
    while count() <= before and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.7)


async def chat_via_gateway(channel: str, address: str, lines: TextIO = sys.stdin, output: TextIO = sys.stdout) -> None:
    """Read lines and send each through the channel's webhook; print what the fake provider got."""
    telegram, twilio = FakeTelegram(), FakeTwilio()
    with ServerThread(telegram.app) as telegram_server, ServerThread(twilio.app) as twilio_server:
        app_port = free_port()
        os.environ.update(DEMO_ENV, HAMROH_TELEGRAM_API_BASE=telegram_server.url,
                          HAMROH_TWILIO_API_BASE=twilio_server.url, HAMROH_PUBLIC_BASE_URL=f"http://127.0.0.1:{app_port}")
        get_settings.cache_clear()
        settings = Settings(engine_url=f"http://127.0.0.1:{free_port()}", app_port=app_port,
                            internal_port=free_port())
        say = lambda message: print(f"hamroh: {message}", file=sys.stderr, flush=True)  # noqa: E731
        async with running_services(settings, progress=say), httpx.AsyncClient(timeout=30) as http:
            say(f"ready: you are {address} on {channel} (through the gateway; Ctrl-D to quit)")
            ids = itertools.count(1)
            keyboard: list[dict[str, Any]] = []
            while line := await asyncio.to_thread(lines.readline):
                text = line.strip()
                if not text:
                    continue
                if channel == "telegram":
                    turn = (http, settings, telegram, address, text, keyboard, next(ids), output)
                    keyboard = await _telegram_turn(*turn)
                else:
                    await _sms_turn(http, settings, twilio, address, text, next(ids), output)


async def _telegram_turn(http: httpx.AsyncClient, settings: Settings, fake: FakeTelegram, address: str, text: str,
                         keyboard: list[dict[str, Any]], number: int, output: TextIO) -> list[dict[str, Any]]:
    chat = int(address)
    user = {"id": chat, "is_bot": False, "first_name": "Demo"}
    mine = lambda: [m for m in fake.sent() if int(m["chat_id"]) == chat]  # noqa: E731
    before = len(mine())
    if text.isdigit() and 1 <= int(text) <= len(keyboard):  # press a button of the last keyboard
        pressed = {"message_id": 1, "date": 0, "chat": {"id": chat, "type": "private"}, "text": "…"}
        update = {"update_id": number, "callback_query": {
            "id": f"demo{number}", "chat_instance": "demo", "data": keyboard[int(text) - 1]["callback_data"],
            "from": user, "message": pressed}}
    else:
        update = {"update_id": number, "message": {"message_id": number, "date": 0, "from": user,
                                                   "chat": {"id": chat, "type": "private"}, "text": text}}
    await http.post(f"{settings.app_url}/telegram/webhook", json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": DEMO_ENV["HAMROH_TELEGRAM_WEBHOOK_SECRET"]})
    await _settled(lambda: len(mine()), before)
    for message in mine()[before:]:
        shown = [row[0] for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])]
        keyboard = shown or keyboard
        buttons = "  ".join(f"[{n}: {button['text']}]" for n, button in enumerate(shown, 1))
        _print(output, "\n".join(part for part in (message.get("text", ""), buttons) if part))
    return keyboard


async def _sms_turn(http: httpx.AsyncClient, settings: Settings, fake: FakeTwilio, phone: str, text: str,
                    number: int, output: TextIO) -> None:
    mine = lambda: [m for m in fake.messages if m["To"] == phone]  # noqa: E731
    before = len(mine())
    url = f"{settings.app_url}/twilio/sms"
    params = {"MessageSid": f"SMdemo{number:026d}", "From": phone, "To": DEMO_ENV["HAMROH_TWILIO_FROM_NUMBER"],
              "Body": text, "NumMedia": "0"}
    signature = RequestValidator(DEMO_ENV["HAMROH_TWILIO_AUTH_TOKEN"]).compute_signature(url, params)
    await http.post(url, content=urlencode(params), headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
    await _settled(lambda: len(mine()), before)
    for message in mine()[before:]:
        _print(output, message["Body"])
