"""The app's ASGI web app (Starlette): `/webhook` runs actions, `/nlg` renders replies.

The engine (Rasa 3.6) calls both over HTTP; see engine/endpoints.yml.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from twilio.rest import Client as TwilioClient

from bot.db.session import Database
from bot.responses.catalog import Catalog, CatalogError
from bot.safety.contacts import CrisisContacts
from bot.scheduler.dispatcher import Dispatcher
from bot.scheduler.service import start_scheduler, stop_scheduler
from bot.settings import Settings, get_settings
from bot.web.channels import ChannelRoutes

logger = logging.getLogger(__name__)


async def read_json(request: Request) -> dict[str, Any] | None:
    """The request's JSON object, or None if the body is not one."""
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def create_app(settings: Settings | None = None, channels: ChannelRoutes | None = None) -> Starlette:
    """Build the web app with its action executor, catalog and crisis contacts (and channel webhooks)."""
    settings = settings or get_settings()
    executor = ActionExecutor()
    executor.register_package("bot.actions")
    catalog = Catalog.load(settings.default_language)
    contacts = CrisisContacts.load(settings.crisis_contacts_file)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def webhook(request: Request) -> JSONResponse:
        call = await read_json(request)
        if call is None:
            return JSONResponse({"error": "body must be a JSON object"}, status_code=400)
        try:
            result = await executor.run(call)
        except ActionNotFoundException as error:
            return JSONResponse({"error": error.message}, status_code=404)
        except ActionExecutionRejection as error:
            return JSONResponse({"error": error.message}, status_code=400)
        return JSONResponse(result.model_dump() if result else None)

    async def nlg(request: Request) -> JSONResponse:
        body = await read_json(request)
        if body is None or not isinstance(body.get("response"), str):
            return JSONResponse({"error": "expected {response, tracker}"}, status_code=400)
        slots = (body.get("tracker") or {}).get("slots") or {}
        arguments = body.get("arguments") or {}
        language = slots.get("language") or settings.default_language
        values = {"opens": settings.office_opens, "closes": settings.office_closes, **(arguments.get("values") or {})}
        values["contacts"] = contacts.lines_for(language, values.get("country"))
        try:
            reply = catalog.render(
                body["response"], language, slots.get("channel"), values, arguments.get("choices") or []
            )
        except CatalogError as error:
            logger.error("reply catalog: %s", error)
            return JSONResponse({"error": str(error)}, status_code=404)
        return JSONResponse(reply.as_json(language))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        workers = []
        scheduler = None
        if channels is not None:
            channels.gateway.start()
            if channels.telegram is not None and settings.telegram_polling:
                workers.append(asyncio.create_task(channels.poll_telegram()))
            if settings.dispatch_enabled:
                scheduler = start_dispatching(settings, channels)
        yield
        if scheduler is not None:
            stop_scheduler(scheduler)
        for worker in workers:
            worker.cancel()
        if channels is not None:
            await channels.gateway.stop()  # finishes or gives back the messages it holds
            await channels.close()

    return Starlette(
        routes=[
            Route("/health", health),
            Route("/webhook", webhook, methods=["POST"]),
            Route("/nlg", nlg, methods=["POST"]),
            *(channels.routes() if channels else []),
        ],
        lifespan=lifespan,
    )


def start_dispatching(settings: Settings, channels: ChannelRoutes) -> AsyncIOScheduler:
    """The flow dispatcher, sharing the channels' senders (and so their rate limits)."""
    from bot import runtime

    gateway = channels.gateway
    dispatcher = Dispatcher(gateway.database, gateway.engine, gateway.senders, settings,
                            runtime.flow_library().current)
    return start_scheduler(settings, dispatcher)


def build_channels(settings: Settings, database: Database, catalog: Catalog) -> ChannelRoutes | None:
    """The channel webhooks for the channels configured in `settings` (None if neither is)."""
    from bot.channels import sms, telegram
    from bot.channels.gateway import Gateway, Sender
    from bot.channels.rate_limit import per_second
    from bot.engine.client import EngineClient

    senders: dict[str, Sender] = {}
    telegram_sender = None
    if settings.telegram_bot_token:
        bot = telegram.make_bot(settings.telegram_bot_token, settings.telegram_api_base)
        telegram_sender = telegram.TelegramSender(bot, database, per_second(settings.telegram_messages_per_second))
        senders["telegram"] = telegram_sender
    if settings.twilio_account_sid:
        def make_client() -> TwilioClient:
            return sms.make_client(settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_api_base)

        callback = f"{settings.public_base_url.rstrip('/')}/twilio/status" if settings.public_base_url else None
        senders["sms"] = sms.SmsSender(make_client, settings.twilio_from_number, database, callback,
                                       per_second(settings.sms_messages_per_second))
    if not senders:
        return None
    gateway = Gateway(database, EngineClient(settings.engine_url), senders, catalog, settings)
    return ChannelRoutes(settings, gateway, telegram_sender, "sms" in senders)
