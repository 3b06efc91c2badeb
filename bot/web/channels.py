"""Webhook routes of the channels: Telegram updates, Twilio inbound SMS and status callbacks.

Bad input never gets a 500: too large 413 (`bot/web/limits.py`, for every route), forged or
missing signature 403 (logged without personal data), malformed 400. A channel without its
secret (Telegram webhook secret, Twilio auth token) refuses every request: it fails closed.
A provider's retry of a message already recorded gets 200 and is not processed again.
Processing happens after the 200, so providers never wait on the engine.
"""

from __future__ import annotations

import asyncio
import hmac
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
from bot.web import limits

logger = logging.getLogger(__name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def public_url(request: Request, settings: Settings) -> str:
    """The URL as the provider called it: under the configured public base, else (local use) the
    address of the socket the request came in on. Host and X-Forwarded-* headers are never used:
    whoever sends the request chooses them."""
    path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/") + path
    if not request.scope.get("server"):
        return ""  # no address to check against (a Unix socket): no signature can match
    host, port = request.scope["server"][:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}{path}"


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
        secret = self.settings.telegram_webhook_secret.encode()
        token = request.headers.get("x-telegram-bot-api-secret-token", "").encode("latin-1")
        if not secret or not hmac.compare_digest(token, secret):
            logger.warning("telegram webhook refused: missing or wrong secret token")
            return JSONResponse({"error": "forbidden"}, status_code=403)
        try:
            update = Update.model_validate(limits.loads(await request.body(), self.settings.max_json_depth))
        except (ValueError, ValidationError):
            return JSONResponse({"error": "malformed update"}, status_code=400)
        sender = self.telegram
        inbound = await asyncio.to_thread(telegram.inbound_of, update, sender.payload_of)
        await self._accept(inbound)
        if update.callback_query is not None:
            await sender.acknowledge(update)
        return JSONResponse({"ok": True})

    async def _twilio_params(self, request: Request) -> dict[str, str] | Response:
        signature = request.headers.get("x-twilio-signature", "")
        if not self.settings.twilio_auth_token or not signature:
            logger.warning("twilio webhook refused: missing signature or no auth token configured")
            return Response("forbidden", status_code=403)
        body = await request.body()
        try:
            params = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body)))
        except (UnicodeDecodeError, ValueError):
            return Response("malformed form data", status_code=400)
        url = public_url(request, self.settings)
        if not sms.signature_is_valid(self.settings.twilio_auth_token, url, params, signature):
            logger.warning("twilio webhook refused: invalid signature")
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
