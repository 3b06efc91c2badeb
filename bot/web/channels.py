"""Webhook routes of the channels: Telegram updates, Twilio inbound SMS and status callbacks.

Bad input never gets a 500: too large 413, forged or missing signature 403 (logged without
personal data), malformed 400. A provider's retry of a message already recorded gets 200 and
is not processed again. Processing happens after the 200, so providers never wait on the engine.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from dataclasses import dataclass
from urllib.parse import parse_qsl

from aiogram.exceptions import AiogramError
from aiogram.types import Update
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.channels import sms, telegram
from bot.channels.gateway import Gateway, Inbound, close_connections
from bot.settings import Settings

logger = logging.getLogger(__name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


class BodyTooLarge(Exception):
    """The request body is over the configured limit."""


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refusing more than `limit` bytes without reading it all."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge
    return body


def public_url(request: Request, settings: Settings) -> str:
    """The URL as the provider called it: the configured public base, else forwarded headers."""
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/") + path
    proto = request.headers.get("x-forwarded-proto", request.url.scheme)
    host = request.headers.get("x-forwarded-host", request.headers.get("host", request.url.netloc))
    return f"{proto}://{host}{path}"


@dataclass
class ChannelRoutes:
    """The channel webhooks of one app, and the background processing they start."""

    settings: Settings
    gateway: Gateway
    telegram: telegram.TelegramSender | None = None
    sms_enabled: bool = False

    async def close(self) -> None:
        """Close the HTTP sessions to the engine and the providers."""
        await close_connections(self.gateway.engine, self.gateway.senders)

    def routes(self) -> list[Route]:
        found = []
        if self.telegram is not None and not self.settings.telegram_polling:
            found.append(Route("/telegram/webhook", self.telegram_webhook, methods=["POST"]))
        if self.sms_enabled:
            found.append(Route("/twilio/sms", self.twilio_sms, methods=["POST"]))
            found.append(Route("/twilio/status", self.twilio_status, methods=["POST"]))
        return found

    async def _accept(self, inbound: Inbound | None) -> None:
        if inbound is not None and await asyncio.to_thread(self.gateway.record, inbound):
            self.gateway.wake()  # handled in the background: the webhook answers at once

    async def poll_telegram(self) -> None:
        """Long polling: fetch updates and handle them as the webhook would (no public URL needed)."""
        assert self.telegram is not None
        bot = self.telegram.bot
        await bot.delete_webhook(drop_pending_updates=False)
        offset: int | None = None
        while True:
            try:
                updates = await bot.get_updates(offset=offset, timeout=25)
            except AiogramError as error:
                logger.warning("telegram polling failed: %s", error.__class__.__name__)
                await asyncio.sleep(5)
                continue
            for update in updates:
                offset = update.update_id + 1
                await self._accept(await asyncio.to_thread(telegram.inbound_of, update, self.telegram.payload_of))
                if update.callback_query is not None:
                    await self.telegram.acknowledge(update)

    async def telegram_webhook(self, request: Request) -> Response:
        assert self.telegram is not None
        try:
            body = await read_body(request, self.settings.max_body_bytes)
        except BodyTooLarge:
            return JSONResponse({"error": "body too large"}, status_code=413)
        token = request.headers.get("x-telegram-bot-api-secret-token", "")
        if not hmac.compare_digest(token.encode(), self.settings.telegram_webhook_secret.encode()):
            logger.warning("telegram webhook refused: missing or wrong secret token")
            return JSONResponse({"error": "forbidden"}, status_code=403)
        try:
            update = Update.model_validate(json.loads(body))
        except (ValueError, ValidationError):
            return JSONResponse({"error": "malformed update"}, status_code=400)
        sender = self.telegram
        inbound = await asyncio.to_thread(telegram.inbound_of, update, sender.payload_of)
        await self._accept(inbound)
        if update.callback_query is not None:
            await sender.acknowledge(update)
        return JSONResponse({"ok": True})

    async def _twilio_params(self, request: Request) -> dict[str, str] | Response:
        try:
            body = await read_body(request, self.settings.max_body_bytes)
        except BodyTooLarge:
            return Response("body too large", status_code=413)
        try:
            params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body)))
        except (UnicodeDecodeError, ValueError):
            return Response("malformed form data", status_code=400)
        signature = request.headers.get("x-twilio-signature", "")
        url = public_url(request, self.settings)
        if not sms.signature_is_valid(self.settings.twilio_auth_token, url, params, signature):
            logger.warning("twilio webhook refused: missing or invalid signature")
            return Response("forbidden", status_code=403)
        return params

    async def twilio_sms(self, request: Request) -> Response:
        params = await self._twilio_params(request)
        if isinstance(params, Response):
            return params
        inbound = sms.inbound_of(params)
        if inbound is None:
            return Response("missing From or MessageSid", status_code=400)
        await self._accept(inbound)
        return Response(EMPTY_TWIML, media_type="application/xml")

    async def twilio_status(self, request: Request) -> Response:
        params = await self._twilio_params(request)
        if isinstance(params, Response):
            return params
        await asyncio.to_thread(sms.update_status, self.gateway.database, params)
        return Response(status_code=204)
