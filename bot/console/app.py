"""The console's ASGI app (mounted at /console): sign-in, the guard every page passes, routes.

Every page but sign-in needs a live session and its role's permission (`bot/console/access.py`);
every POST needs a same-origin `Origin` and, once signed in, the session's CSRF token.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from bot.channels.gateway import Sender
from bot.console import i18n
from bot.console.access import Can, allowed
from bot.console.auth import COOKIE, Accounts
from bot.console.pages import inbox, people, requests, signin
from bot.console.rendering import Templates
from bot.db.models import Caseworker
from bot.db.session import Database
from bot.responses.catalog import Catalog
from bot.settings import Settings

logger = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"
#: The most fields any console form has; more is not a form of ours.
MAX_FORM_FIELDS = 50


@dataclass
class Visit:
    """One request of a signed-in caseworker."""

    request: Request
    account: Caseworker
    token: str
    form: FormData | None = None
    csrf: str = ""

    @property
    def actor(self) -> str:
        """Who did it, for the audit log."""
        return f"caseworker:{self.account.id}"


PageHandler = Callable[[Visit], Response] | Callable[[Visit], Awaitable[Response]]


class Console:
    """The console's pages over one database, with their dependencies passed in."""

    def __init__(self, settings: Settings, database: Database, accounts: Accounts | None = None,
                 senders: Mapping[str, Sender] | None = None, catalog: Catalog | None = None) -> None:
        self.settings = settings
        self.database = database
        self.accounts = accounts or Accounts(database, settings)
        #: The channels' senders (the gateway's: same rate limits and delivery records), for replies.
        self.senders = dict(senders or {})
        self.catalog = catalog
        self.templates = Templates()
        self.secure_cookie = settings.production or settings.public_base_url.startswith("https://")

    def page(self, can: Can | None, handler: PageHandler) -> Callable[[Request], Awaitable[Response]]:
        """`handler` behind the guard: signed in, allowed, and for a POST same-origin with the
        session's CSRF token. A plain handler runs in a worker thread (it reads the database); an
        async one (it sends to a channel) on the event loop."""

        async def guarded(request: Request) -> Response:
            token = request.cookies.get(COOKIE, "")
            account = await run_in_threadpool(self.accounts.current, token)
            if account is None:
                return RedirectResponse(f"{self.prefix(request)}/login?next={request.url.path}", status_code=303)
            visit = Visit(request, account, token, csrf=self.accounts.csrf_token(token))
            if can is not None and not allowed(account.role, can):
                return self.error(visit, 403)
            if request.method == "POST":
                if not self.same_origin(request):
                    return self.error(visit, 403)
                visit.form = await read_form(request)
                given = str(visit.form.get("csrf") or request.headers.get("x-csrf-token", ""))
                if not self.accounts.csrf_ok(token, given):
                    return self.error(visit, 403)
            if inspect.iscoroutinefunction(handler):
                return await handler(visit)
            return await run_in_threadpool(handler, visit)  # type: ignore[arg-type]

        return guarded

    def render(self, visit: Visit, name: str, status_code: int = 200, **context: Any) -> Response:
        """A page for the signed-in caseworker, in their language and time zone."""
        return self.templates.render(name, visit.account.locale, visit.account.time_zone, status_code,
                                     account=visit.account, csrf=visit.csrf, can=lambda what: allowed(
                                         visit.account.role, what), Can=Can, base=self.prefix(visit.request),
                                     path=visit.request.url.path, **context)

    def error(self, visit: Visit, status_code: int) -> Response:
        """The 403 or 404 page (the same words whether a record exists or is someone else's)."""
        return self.render(visit, "error.html", status_code, status=status_code)

    @staticmethod
    def prefix(request: Request) -> str:
        """Where the console is mounted (/console)."""
        return str(request.scope.get("root_path", "")).rstrip("/")

    def same_origin(self, request: Request) -> bool:
        """True if the browser says the form came from this console (the `Origin` header, which
        a page on another site cannot set): the public base URL's origin or this request's host."""
        origin = request.headers.get("origin")
        if origin is None:  # browsers send it on every POST; a missing one is not a browser form
            return False
        allowed_origins = {f"{request.url.scheme}://{request.headers.get('host', '')}"}
        if self.settings.public_base_url:
            parts = urlsplit(self.settings.public_base_url)
            allowed_origins.add(f"{parts.scheme}://{parts.netloc}")
        return origin in allowed_origins

    def cookie(self, response: Response, token: str, max_age: int | None) -> None:
        """Set (or with max_age 0, clear) the session cookie: HttpOnly, SameSite=Lax, Secure behind HTTPS."""
        response.set_cookie(COOKIE, token, max_age=max_age, path="/console", httponly=True,
                            secure=self.secure_cookie, samesite="lax")


async def read_form(request: Request) -> FormData:
    """The POSTed form (no files); a body that is not a form is an empty form."""
    try:
        return await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
    except HTTPException:
        raise
    except Exception:  # malformed multipart or encoding: nothing usable was sent
        logger.info("console: unreadable form")
        return FormData()


def local_path(target: str, prefix: str) -> str:
    """`target` if it is a path inside the console (no other site, no scheme), else the console's home."""
    if target.startswith(f"{prefix}/") and not target.startswith("//") and "\\" not in target:
        return target
    return f"{prefix}/"


def create_console(settings: Settings, database: Database, accounts: Accounts | None = None,
                   senders: Mapping[str, Sender] | None = None, catalog: Catalog | None = None) -> Starlette:
    """The console app, to be mounted at /console on the public listener; `senders` are the
    channels' (replies go out through them), `catalog` the bot's replies (a person joins, leaves)."""
    console = Console(settings, database, accounts, senders, catalog)
    routes = [
        *signin.routes(console),
        *inbox.routes(console),
        *requests.routes(console),
        *people.routes(console),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]

    async def not_found(request: Request, exc: Exception) -> Response:
        language = i18n.supported(request.query_params.get("lang"))
        return console.templates.render("error.html", language, "UTC", 404, status=404, account=None,
                                        base=console.prefix(request))

    return Starlette(routes=routes, exception_handlers={404: not_found})
