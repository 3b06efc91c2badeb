"""Signing in and out, and the console's language."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.console import i18n
from bot.repositories import accounts

if TYPE_CHECKING:
    from bot.console.app import Console, Visit


def requested_language(request: Request) -> str:
    """Before sign-in: `?lang=`, else the browser's first language the console speaks, else Russian."""
    asked = request.query_params.get("lang")
    if asked in i18n.BABEL_LOCALES:
        return asked
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip()
        if tag.lower().startswith("uz") and "cyrl" in tag.lower():
            return "uz-Cyrl"
        primary = tag.split("-")[0].lower()
        if primary in i18n.BABEL_LOCALES:
            return primary
    return "ru"


def routes(console: Console) -> list[Route]:
    """/login, /logout and /language."""
    from bot.console.app import local_path, read_form

    def form_page(request: Request, language: str, status_code: int = 200, failed: bool = False,
                  username: str = "", target: str = "") -> Response:
        base = console.prefix(request)
        return console.templates.render(
            "login.html", language, "UTC", status_code, account=None, base=base, failed=failed, username=username,
            next=local_path(target or request.query_params.get("next", ""), base))

    async def login(request: Request) -> Response:
        language = requested_language(request)
        if request.method == "GET":
            return form_page(request, language)
        if not console.same_origin(request):
            return form_page(request, language, 403)
        form = await read_form(request)
        username, password = str(form.get("username") or ""), str(form.get("password") or "")
        token = await run_in_threadpool(console.accounts.sign_in, username[:64], password[:1024])
        if token is None:  # the username stays filled in; the password never comes back
            return form_page(request, language, 401, failed=True, username=username[:64],
                             target=str(form.get("next") or ""))
        base = console.prefix(request)
        response = RedirectResponse(local_path(str(form.get("next") or ""), base), status_code=303)
        console.cookie(response, token, max_age=None)
        return response

    def logout(visit: Visit) -> Response:
        console.accounts.sign_out(visit.token)
        response = RedirectResponse(f"{console.prefix(visit.request)}/login", status_code=303)
        console.cookie(response, "", max_age=0)
        return response

    def language(visit: Visit) -> Response:
        assert visit.form is not None
        chosen = str(visit.form.get("language") or "")
        if chosen in i18n.BABEL_LOCALES:
            with console.database.transaction() as session:
                accounts.set_locale(session, visit.account.id, chosen)
        back = local_path(str(visit.form.get("back") or ""), console.prefix(visit.request))
        return RedirectResponse(back, status_code=303)

    return [
        Route("/login", login, methods=["GET", "POST"]),
        Route("/logout", console.page(None, logout), methods=["POST"]),
        Route("/language", console.page(None, language), methods=["POST"]),
    ]
