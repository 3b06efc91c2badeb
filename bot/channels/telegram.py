"""Telegram: webhook updates in, messages with inline keyboards out (aiogram 3 `Bot`)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    AiogramError,
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.channels.gateway import Delivery, Inbound
from bot.channels.inputs import MAX_PROVIDER_ID, clean_text, database_id, is_identifier
from bot.channels.rate_limit import RateLimiter, sending
from bot.channels.sms_text import split_body
from bot.db.models import ButtonPayload, ChannelIdentity
from bot.db.session import Database
from bot.nlp.languages import LANGUAGES

logger = logging.getLogger(__name__)
MAX_TEXT = 4096
COMMANDS = {"/start": "/greet", "/help": "/help", "/menu": "/help", "/language": "/change_language"}


def make_bot(token: str, api_base: str) -> Bot:
    """An aiogram Bot talking to `api_base` (the real Bot API, or a local fake)."""
    return Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)))


async def register(bot: Bot, webhook_url: str, secret: str) -> None:
    """Set the webhook with its secret token, and the bot's commands."""
    await bot.set_webhook(webhook_url, secret_token=secret, drop_pending_updates=False)
    await bot.set_my_commands([BotCommand(command="start", description="Hamroh"),
                               BotCommand(command="help", description="Menu"),
                               BotCommand(command="language", description="Language / Til / Язык")])


def inbound_of(update: Update, payload_of: Any) -> Inbound | None:
    """The message an update carries, or None for updates without one (blocked bot, edits…) and for
    ids no real update has (the text is made storable: no NUL characters)."""
    provider_id = f"u{update.update_id}"
    if not is_identifier(provider_id, MAX_PROVIDER_ID):
        return None
    if update.callback_query is not None:
        query = update.callback_query
        data = query.data or ""
        button_id = database_id(data[2:]) if data.startswith("p:") else None
        payload = payload_of(button_id) if button_id is not None else None
        if payload is None or query.from_user is None or not _is_address(query.from_user.id):
            return None
        return Inbound("telegram", str(query.from_user.id), provider_id, "button", payload)
    message = update.message
    if message is None or message.from_user is None or not _is_address(message.from_user.id):
        return None
    address = str(message.from_user.id)
    language = language_of(message.from_user.language_code)
    if message.text is None:
        return Inbound("telegram", address, provider_id, "unsupported", language=language)
    text = clean_text(message.text).strip()
    if text.startswith("/start ") and len(text.split()) == 2:
        return Inbound("telegram", address, provider_id, "text", text, language)  # a link code
    return Inbound("telegram", address, provider_id, "text", COMMANDS.get(text, text), language)


def language_of(code: str | None) -> str | None:
    """One of our language tags for Telegram's `language_code` ("ru", "kk-KZ"), else None."""
    primary = (code or "").split("-")[0].lower()
    return primary if primary in LANGUAGES and primary != "uz-Cyrl" else None


def _is_address(user_id: int) -> bool:
    """Telegram user ids are positive and fit in 52 bits."""
    return 0 < user_id < 2**52


class TelegramSender:
    """Sends replies as Telegram messages; buttons become an inline keyboard."""

    def __init__(self, bot: Bot, database: Database, limiter: RateLimiter | None = None) -> None:
        self.bot = bot
        self.database = database
        self.limiter = limiter  # the bot-wide limit, shared by replies and flow messages

    def _callback_ids(self, buttons: list[dict[str, Any]]) -> list[int]:
        with self.database.transaction() as session:
            rows = [ButtonPayload(payload=str(button["payload"])) for button in buttons]
            session.add_all(rows)
            session.flush()
            return [row.id for row in rows]

    def payload_of(self, button_id: int) -> str | None:
        """The payload behind a callback id."""
        with self.database.transaction() as session:
            row = session.get(ButtonPayload, button_id)
            return row.payload if row else None

    def _mark_unreachable(self, identity_id: int) -> None:
        with self.database.transaction() as session:
            identity = session.get(ChannelIdentity, identity_id)
            if identity is not None:
                identity.unreachable = True

    async def send(self, identity_id: int, address: str, text: str, buttons: list[dict[str, Any]]) -> Delivery:
        markup = None
        if buttons:
            ids = await asyncio.to_thread(self._callback_ids, buttons)
            markup = InlineKeyboardMarkup(inline_keyboard=[
                [InlineKeyboardButton(text=str(button["title"])[:64], callback_data=f"p:{button_id}")]
                for button, button_id in zip(buttons, ids, strict=True)
            ])
        chunks = split_body(text or "…", MAX_TEXT)
        for number, chunk in enumerate(chunks, 1):
            delivery = await self._send(identity_id, int(address), chunk, markup if number == len(chunks) else None)
            if delivery is not Delivery.SENT:
                return delivery
        return Delivery.SENT

    async def delivered_since(
        self, address: str, text: str, buttons: list[dict[str, Any]], since: datetime
    ) -> bool | None:
        """The Bot API cannot list what a bot sent: it cannot tell."""
        return None

    async def close(self) -> None:
        """Close the Bot API session."""
        await self.bot.session.close()

    async def _send(self, identity_id: int, chat_id: int, text: str, markup: InlineKeyboardMarkup | None) -> Delivery:
        for _ in range(3):
            try:
                async with sending(self.limiter):
                    await self.bot.send_message(chat_id, text, reply_markup=markup)
                return Delivery.SENT
            except TelegramRetryAfter as error:
                await asyncio.sleep(error.retry_after)
            except TelegramForbiddenError:
                await asyncio.to_thread(self._mark_unreachable, identity_id)
                return Delivery.UNREACHABLE
            except (TelegramNetworkError, TelegramServerError) as error:
                logger.warning("telegram send failed, will retry: %s", error.__class__.__name__)
                return Delivery.RETRY
            except AiogramError as error:
                logger.warning("telegram send failed: %s", error.__class__.__name__)
                return Delivery.FAILED
        return Delivery.RETRY

    async def acknowledge(self, update: Update) -> None:
        """Stop the client's spinner and remove the pressed keyboard so it cannot be pressed twice."""
        query = update.callback_query
        if query is None:
            return
        try:
            await self.bot.answer_callback_query(query.id)
            if query.message is not None:
                await self.bot.edit_message_reply_markup(
                    chat_id=query.message.chat.id, message_id=query.message.message_id, reply_markup=None)
        except (TelegramAPIError, TelegramNetworkError, ValueError) as error:  # best effort: the update is kept
            # ValueError: an id the API cannot carry (a lone surrogate cannot be encoded as UTF-8)
            logger.warning("telegram callback acknowledgement failed: %s", error.__class__.__name__)
