"""The app's ASGI web app (Starlette), on two listeners (`bot/web/listeners.py`).

Public (`HAMROH_APP_HOST/PORT`): the channel webhooks and `/health`. Internal
(`HAMROH_INTERNAL_HOST/PORT`, loopback by default): `/webhook` runs actions and `/nlg` renders
replies for the engine (Rasa 3.6, see engine/endpoints.yml), only with the shared token.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send
from twilio.rest import Client as TwilioClient

from bot.db.session import Database
from bot.responses.catalog import Catalog, CatalogError
from bot.safety.contacts import CrisisContacts
from bot.scheduler.dispatcher import Dispatcher
from bot.scheduler.service import start_scheduler, stop_scheduler
from bot.settings import Settings, get_settings
from bot.web import limits
from bot.web.channels import ChannelRoutes
from bot.web.listeners import ByListener

logger = logging.getLogger(__name__)
TOKEN_HEADER = "x-hamroh-token"


class RequireToken:
    """ASGI middleware: every request needs `token` in the X-Hamroh-Token header (constant-time
    comparison), else 403 before anything is read. An empty token refuses everything."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = next((value for name, value in scope["headers"] if name == TOKEN_HEADER.encode()), b"")
            if not self.token or not hmac.compare_digest(given, self.token):
                logger.warning("internal endpoint refused: missing or wrong token")
                await JSONResponse({"error": "forbidden"}, status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def read_json(request: Request, max_depth: int) -> dict[str, Any] | None:
    """The request's JSON object, or None if the body is not one (or nests too deep)."""
    try:
        body = limits.loads(await request.body(), max_depth)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def create_app(settings: Settings | None = None, channels: ChannelRoutes | None = None,
               console: ASGIApp | None = None) -> ByListener:
    """Build both listeners' apps: the internal one with the action executor, catalog and crisis
    contacts; the public one with the channel webhooks, the caseworkers' console under /console
    (and the background workers' lifespan)."""
    settings = settings or get_settings()
    executor = ActionExecutor()
    executor.register_package("bot.actions")
    catalog = Catalog.load(settings.default_language)
    contacts = CrisisContacts.load(settings.crisis_contacts_file)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def webhook(request: Request) -> JSONResponse:
        call = await read_json(request, settings.max_json_depth)
        if call is None or not is_action_call(call):
            return JSONResponse({"error": "expected {next_action, tracker: {sender_id, slots, events}}"},
                                status_code=400)
        try:
            result = await executor.run(call)
        except ActionNotFoundException as error:
            return JSONResponse({"error": error.message}, status_code=404)
        except ActionExecutionRejection as error:
            return JSONResponse({"error": error.message}, status_code=400)
        return JSONResponse(result.model_dump() if result else None)

    async def nlg(request: Request) -> JSONResponse:
        body = await read_json(request, settings.max_json_depth)
        if body is None or not is_reply_request(body):
            return JSONResponse({"error": "expected {response, tracker, arguments}"}, status_code=400)
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
        intent = ((body.get("tracker") or {}).get("latest_message") or {}).get("intent") or {}
        name, confidence = intent.get("name"), intent.get("confidence")
        return JSONResponse(reply.as_json(language, name if isinstance(name, str) else None,
                                          confidence if isinstance(confidence, int | float) else None))

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

    internal = Starlette(
        routes=[Route("/health", health), Route("/webhook", webhook, methods=["POST"]),
                Route("/nlg", nlg, methods=["POST"])],
        middleware=[Middleware(RequireToken, token=settings.internal_token),
                    Middleware(limits.LimitBodies, limit=settings.max_internal_body_bytes)],
    )
    public = Starlette(
        routes=[Route("/health", health), *(channels.routes() if channels else []),
                *([Mount("/console", console)] if console is not None else [])],
        middleware=[Middleware(limits.LimitBodies, limit=settings.max_body_bytes)],
        lifespan=lifespan,
    )
    return ByListener(public, internal, settings.internal_port)


def _object_or_none(value: Any, *keys: str) -> bool:
    """True if `value` is missing (None) or a JSON object whose `keys` are strings or missing."""
    return value is None or (isinstance(value, dict) and all(isinstance(value.get(k, ""), str | None) for k in keys))


def is_action_call(call: dict[str, Any]) -> bool:
    """The shape the action executor relies on (the engine always sends it; anything else is a 400)."""
    tracker = call.get("tracker")
    return (isinstance(call.get("next_action"), str) and isinstance(tracker, dict)
            and isinstance(tracker.get("sender_id"), str) and isinstance(tracker.get("slots", {}), dict)
            and isinstance(tracker.get("events", []), list) and _object_or_none(tracker.get("latest_message"))
            and _object_or_none(call.get("domain")))


def is_reply_request(body: dict[str, Any]) -> bool:
    """The shape `/nlg` relies on: a response name, slots and arguments as objects."""
    tracker, arguments = body.get("tracker"), body.get("arguments")
    if not isinstance(body.get("response"), str) or not _object_or_none(tracker) or not _object_or_none(arguments):
        return False
    values, choices = (arguments or {}).get("values"), (arguments or {}).get("choices")
    scalars = isinstance(values, dict) and all(isinstance(v, str | int | float) for v in values.values())
    return (_object_or_none((tracker or {}).get("slots"), "language", "channel")
            and (values is None or scalars)
            and (choices is None or (isinstance(choices, list) and all(isinstance(c, dict) for c in choices))))


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
    gateway = Gateway(database, EngineClient(settings.engine_url, settings.engine_token), senders, catalog, settings)
    return ChannelRoutes(settings, gateway, telegram_sender, "sms" in senders)
