"""A request (handoff or referral) and its conversation: take it, give it to someone, close it
with an outcome; reply to the person on their channel, write a private note, handle the
conversation in person (the bot stays quiet) and hand it back."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.channels.gateway import Delivery
from bot.console.access import Can, allowed
from bot.console.saved_replies import SavedReplies
from bot.db.models import ChannelIdentity, Handoff, utcnow
from bot.repositories import caseload, conversation_log, support
from bot.web.limits import decimal

if TYPE_CHECKING:
    from bot.console.app import Console, Visit

PAGE_SIZE = 30
MAX_TEXT = 1000


def routes(console: Console) -> list[Route]:
    """/requests/{kind}/{id} and its actions; /conversations/{identity}/reply, note, handle, release."""
    from bot.console.app import local_path

    saved = SavedReplies.load(console.settings.saved_replies_file)

    def back(visit: Visit, note: str = "") -> Response:
        assert visit.form is not None
        target = local_path(str(visit.form.get("back") or ""), console.prefix(visit.request))
        return RedirectResponse(target + (f"?done={note}" if note else ""), status_code=303)

    def request_id(visit: Visit) -> int | None:
        return decimal(str(visit.request.path_params["request_id"]), 12)

    def show(visit: Visit) -> Response:
        kind, number = str(visit.request.path_params["kind"]), request_id(visit)
        before_text = visit.request.query_params.get("before", "")
        try:
            before = datetime.fromisoformat(before_text) if before_text else None
        except ValueError:
            before = None
        if before is not None and before.tzinfo is None:
            before = None
        with console.database.transaction() as session:
            request = caseload.visible_request(session, visit.account, kind, number) if number else None
            if request is None:
                return console.error(visit, 404)
            support.record_reading(session, visit.account, kind, request.id, request.person_id)
            identity = support.reach(session, request.identity_id)
            entries = conversation_log.page(session, identity, before, PAGE_SIZE) if identity else []
            context: dict[str, Any] = {
                "kind": kind, "request": request, "identity": identity, "entries": entries,
                "older": entries[0].at.isoformat() if len(entries) >= PAGE_SIZE else "",
                "person": caseload.people_by_id(session, {request.person_id or 0}).get(request.person_id or 0),
                "colleagues": caseload.colleagues(session, visit.account),
                "names": caseload.names(session),
                "handled": identity is not None and conversation_log.handled(identity, utcnow()),
                "done": visit.request.query_params.get("done", ""),
                "crisis": is_crisis(request),
                "saved": saved.for_language(request.language),
                "saved_text": next((reply.text for reply in saved.for_language(request.language)
                                    if reply.key == visit.request.query_params.get("saved")), ""),
            }
        return console.render(visit, "request.html", **context)

    def assign(visit: Visit) -> Response:
        assert visit.form is not None
        kind, number = str(visit.request.path_params["kind"]), request_id(visit)
        wanted = str(visit.form.get("to") or "")
        with console.database.transaction() as session:
            request = caseload.visible_request(session, visit.account, kind, number) if number else None
            if request is None:
                return console.error(visit, 404)
            allowed_ids = {colleague.id for colleague in caseload.colleagues(session, visit.account)}
            if wanted == "me":
                target: int | None = visit.account.id
            elif wanted == "none":
                target = None
            else:
                target = decimal(wanted, 12)
                if target not in allowed_ids or not allowed(visit.account.role, Can.REASSIGN):
                    return console.error(visit, 403)
            support.assign(session, request, target, visit.actor)
        return back(visit, "assigned")

    def close(visit: Visit) -> Response:
        assert visit.form is not None
        kind, number = str(visit.request.path_params["kind"]), request_id(visit)
        outcome = str(visit.form.get("outcome") or "").strip()[:500]
        with console.database.transaction() as session:
            request = caseload.visible_request(session, visit.account, kind, number) if number else None
            if request is None:
                return console.error(visit, 404)
            if not outcome:
                return RedirectResponse(f"{console.prefix(visit.request)}/requests/{kind}/{request.id}"
                                        "?done=outcome_missing", status_code=303)
            support.close_request(session, request, outcome, visit.actor)
        return back(visit, "closed")

    def identity_of(visit: Visit) -> ChannelIdentity | None:
        number = decimal(str(visit.request.path_params["identity_id"]), 12)
        with console.database.transaction() as session:
            return caseload.visible_identity(session, visit.account, number) if number else None

    def language_of(identity: ChannelIdentity) -> str | None:
        with console.database.transaction() as session:
            person = caseload.people_by_id(session, {identity.person_id or 0}).get(identity.person_id or 0)
        return (person.language if person else None) or identity.language

    async def send(identity: ChannelIdentity, text: str) -> Delivery:
        sender = console.senders.get(identity.channel)
        if sender is None:
            return Delivery.FAILED
        if identity.opted_out:
            return Delivery.OPTED_OUT
        return await sender.send(identity.id, identity.address, text, [])

    async def tell(identity: ChannelIdentity, reply: str) -> None:
        if console.catalog is None:
            return
        language = await run_in_threadpool(language_of, identity)
        text = console.catalog.render(reply, language, identity.channel).text
        await send(identity, text)

    async def reply(visit: Visit) -> Response:
        assert visit.form is not None
        identity = await run_in_threadpool(identity_of, visit)
        if identity is None:
            return console.error(visit, 404)
        text = str(visit.form.get("text") or "").strip()
        if not text or len(text) > MAX_TEXT:
            return back(visit, "reply_empty" if not text else "reply_too_long")

        def record() -> int:
            with console.database.transaction() as session:
                row = conversation_log.add_reply(session, session.merge(identity), visit.account.id, text)
                if identity.handled_by == visit.account.id:
                    conversation_log.handle(session, session.merge(identity), visit.account.id, until())
                return row.id

        reply_id = await run_in_threadpool(record)
        delivery = await send(identity, text)

        def settle() -> None:
            with console.database.transaction() as session:
                conversation_log.set_reply_status(session, reply_id, delivery.value)

        await run_in_threadpool(settle)
        return back(visit, f"reply_{delivery.value}")

    def note(visit: Visit) -> Response:
        assert visit.form is not None
        text = str(visit.form.get("text") or "").strip()
        number = decimal(str(visit.request.path_params["identity_id"]), 12)
        with console.database.transaction() as session:
            identity = caseload.visible_identity(session, visit.account, number) if number else None
            if identity is None:
                return console.error(visit, 404)
            if not text or len(text) > MAX_TEXT:
                return back(visit, "note_empty" if not text else "note_too_long")
            conversation_log.add_note(session, identity, visit.account.id, text)
        return back(visit, "noted")

    def until() -> datetime:
        return utcnow() + timedelta(minutes=console.settings.console_handling_minutes)

    async def handle(visit: Visit) -> Response:
        identity = await run_in_threadpool(identity_of, visit)
        if identity is None:
            return console.error(visit, 404)

        def take() -> bool:
            with console.database.transaction() as session:
                return conversation_log.handle(session, session.merge(identity), visit.account.id, until())

        if await run_in_threadpool(take):
            await tell(identity, "utter_human_joined")
        return back(visit, "handling")

    async def release(visit: Visit) -> Response:
        identity = await run_in_threadpool(identity_of, visit)
        if identity is None:
            return console.error(visit, 404)

        def give_back() -> bool:
            with console.database.transaction() as session:
                return conversation_log.hand_back(session, session.merge(identity), visit.actor)

        if await run_in_threadpool(give_back):
            await tell(identity, "utter_human_left")
        return back(visit, "handed_back")

    work = Can.WORK_INBOX
    return [
        Route("/requests/{kind}/{request_id}", console.page(work, show)),
        Route("/requests/{kind}/{request_id}/assign", console.page(work, assign), methods=["POST"]),
        Route("/requests/{kind}/{request_id}/close", console.page(work, close), methods=["POST"]),
        Route("/conversations/{identity_id}/reply", console.page(work, reply), methods=["POST"]),
        Route("/conversations/{identity_id}/note", console.page(work, note), methods=["POST"]),
        Route("/conversations/{identity_id}/handle", console.page(work, handle), methods=["POST"]),
        Route("/conversations/{identity_id}/release", console.page(work, release), methods=["POST"]),
    ]


def is_crisis(request: Handoff | Any) -> bool:
    """A crisis handoff (urgent) or crisis referral."""
    return bool(request.priority == "urgent") if isinstance(request, Handoff) else bool(request.crisis)

