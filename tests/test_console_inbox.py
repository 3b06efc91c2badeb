"""The inbox as caseworkers use it, end to end over the real webhooks, the console and the fake
Telegram and Twilio: a crisis arrives and stands out, a reply reaches the person on their channel,
a private note never does, and while a caseworker handles a conversation the bot stays quiet
(but a crisis still gets the crisis reply)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from bot.console.saved_replies import SavedReplies
from bot.db.models import ChannelIdentity, ConsoleMessage, Handoff, HandoffStatus, PersonKind, Role, utcnow
from bot.nlp.languages import LANGUAGES
from bot.repositories import identities, people
from bot.settings import Settings

from .channel_harness import CATALOG, Harness, message, sms
from .console_harness import PASSWORD, add_account

CRISIS_UZ = "o'zimni o'ldirmoqchiman"


def _account(harness: Harness, username: str, role: Role = Role.CASEWORKER, team: str = "north") -> int:
    return add_account(harness.database, username, role, team)


@contextmanager
def _signed_in(harness: Harness, username: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=harness.url, headers={"origin": harness.url}, timeout=10) as client:
        assert client.post("/console/login", data={"username": username, "password": PASSWORD}).status_code == 303
        yield client


def _csrf(page: str) -> str:
    return re.search(r'name="csrf" value="([0-9a-f]+)"', page).group(1)  # type: ignore[union-attr]


def _post(client: httpx.Client, path: str, page: str, **data: str) -> httpx.Response:
    return client.post(path, data={"csrf": _csrf(page), "back": page_path(page), **data})


def page_path(page: str) -> str:
    return re.search(r'name="back" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def _handoff(harness: Harness) -> Handoff:
    with harness.database.transaction() as session:
        return session.scalars(select(Handoff).order_by(Handoff.id.desc())).first()  # type: ignore[return-value]


def _identity(harness: Harness, channel: str, address: str) -> ChannelIdentity:
    with harness.database.transaction() as session:
        return identities.identity_for(session, channel, address)


def test_a_crisis_by_telegram_stands_out_in_every_caseworkers_inbox(harness: Harness) -> None:
    _account(harness, "aziza")
    harness.telegram_update(message(1, "I want to talk to someone", user=501))
    harness.settle()  # the gateway has recorded the account before the test adds to it
    with harness.database.transaction() as session:  # an ordinary request, older than the crisis
        identity = identities.identity_for(session, "telegram", "501")
        from bot.repositories import support
        support.create_handoff(session, identity.conversation_id, None, "human", identity_id=identity.id)
    harness.telegram_update(message(2, CRISIS_UZ, user=502))
    harness.settle()
    with _signed_in(harness, "aziza") as client:
        page = client.get("/console/").text
        queue = client.get("/console/queue").text
    assert "1 crisis waits for a person." in page
    first, second = re.findall(r'<li class="item([^"]*)"', page)[:2]
    assert first == " crisis" and second == ""  # the crisis first, however new
    assert "Crisis" in queue and 'href="/console/requests/handoff/' in queue


@pytest.mark.parametrize(("channel", "language"), [("telegram", "ru"), ("sms", "kk"), ("sms", "uz")])
def test_a_reply_reaches_the_person_and_a_note_never_does(harness: Harness, channel: str, language: str) -> None:
    _account(harness, "aziza")
    if channel == "telegram":
        harness.telegram_update(message(1, CRISIS_UZ, user=601))
        address = "601"
    else:
        harness.sms(sms("SM1", CRISIS_UZ, sender="+77011234567"))
        address = "+77011234567"
    harness.settle()
    handoff = _handoff(harness)
    sent_before = len(harness.telegram.sent()) + len(harness.twilio.messages)
    with _signed_in(harness, "aziza") as client:
        page = client.get(f"/console/requests/handoff/{handoff.id}").text
        assert CRISIS_UZ.replace("'", "&#39;") in page  # what they wrote, for the caseworker
        identity = _identity(harness, channel, address)
        note = _post(client, f"/console/conversations/{identity.id}/note", page, text="Called the mahalla: SAMPLE")
        assert note.status_code == 303 and "done=noted" in note.headers["location"]
        sent = _post(client, f"/console/conversations/{identity.id}/reply", page, text="Salom, men Aziza. SAMPLE")
        assert "done=reply_sent" in sent.headers["location"]
        after = client.get(f"/console/requests/handoff/{handoff.id}").text
    texts = [m["text"] for m in harness.telegram.sent()] + [m["Body"] for m in harness.twilio.messages]
    assert len(texts) == sent_before + 1 and texts[-1] == "Salom, men Aziza. SAMPLE"
    assert not any("mahalla" in text for text in texts)  # the note never left
    assert "Private note by Aziza SAMPLE, never sent" in after and "Reply from Aziza SAMPLE" in after
    with harness.database.transaction() as session:
        rows = session.scalars(select(ConsoleMessage).order_by(ConsoleMessage.id)).all()
        assert [(row.kind, row.status) for row in rows] == [("note", "note"), ("reply", "sent")]


def test_no_reply_to_someone_who_stopped_messages(harness: Harness) -> None:
    _account(harness, "aziza")
    harness.sms(sms("SM1", CRISIS_UZ, sender="+998901112299"))
    harness.settle()
    handoff = _handoff(harness)
    harness.sms(sms("SM2", "STOP", sender="+998901112299"))
    harness.settle()
    before = len(harness.twilio.messages)
    with _signed_in(harness, "aziza") as client:
        page = client.get(f"/console/requests/handoff/{handoff.id}").text
        identity = _identity(harness, "sms", "+998901112299")
        response = _post(client, f"/console/conversations/{identity.id}/reply", page, text="Hello SAMPLE")
    assert "done=reply_opted_out" in response.headers["location"]
    assert len(harness.twilio.messages) == before


@pytest.mark.parametrize(("channel", "language", "hello"), [
    ("telegram", "ru", "Здравствуйте, мне нужна помощь с документами"),
    ("sms", "tg", "Салом, ба ман кӯмак лозим аст"),
])
def test_bot_is_quiet_while_a_caseworker_handles_the_conversation(harness: Harness, channel: str, language: str,
                                                                  hello: str) -> None:
    _account(harness, "aziza")
    address = "701" if channel == "telegram" else "+992901234567"

    def write(number: int, text: str) -> None:
        if channel == "telegram":
            harness.telegram_update(message(number, text, user=int(address)))
        else:
            harness.sms(sms(f"SM{number}", text, sender=address))
        harness.settle()

    def outgoing() -> list[str]:
        if channel == "telegram":
            return [m["text"] for m in harness.telegram.sent() if m.get("chat_id") in (address, int(address))]
        return [m["Body"] for m in harness.twilio.messages if m["To"] == address]

    with harness.database.transaction() as session:
        person = people.add_person(session, kind=PersonKind.RETURNEE, name="Jasur SAMPLE", language=language,
                                   time_zone="Asia/Tashkent", country="UZ", city="Toshkent", caseworker_id=None)
        session.flush()
        identity = identities.identity_for(session, channel, address)
        identity.person_id = person.id
        from bot.repositories import support
        handoff = support.create_handoff(session, identity.conversation_id, person.id, "human",
                                         identity_id=identity.id)
        handoff_id, identity_id = handoff.id, identity.id
    with _signed_in(harness, "aziza") as client:
        page = client.get(f"/console/requests/handoff/{handoff_id}").text
        assert _post(client, f"/console/conversations/{identity_id}/handle", page).status_code == 303
        joined = CATALOG.render("utter_human_joined", language, channel).text
        assert outgoing()[-1] == joined
        engine_calls = len(harness.engine.received)
        write(10, hello)
        assert len(harness.engine.received) == engine_calls and outgoing()[-1] == joined  # quiet
        page = client.get(f"/console/requests/handoff/{handoff_id}").text
        assert hello in page  # the caseworker sees what came in
        write(11, CRISIS_UZ)  # a crisis still gets the crisis reply at once, and a crisis handoff
        assert outgoing()[-1] != joined and _handoff(harness).priority == "urgent"
        assert _post(client, f"/console/conversations/{identity_id}/release", page).status_code == 303
        assert outgoing()[-1] == CATALOG.render("utter_human_left", language, channel).text
        write(12, hello)
        assert harness.engine.received[-1]["message"] == hello  # the bot answers again
        assert outgoing()[-1] == "reply"


def test_handling_runs_out_and_the_person_is_told(harness: Harness) -> None:
    caseworker = _account(harness, "aziza")
    with harness.database.transaction() as session:
        identity = identities.identity_for(session, "telegram", "801")
        identity.language = "kk"
        identity.handled_by, identity.handled_until = caseworker, utcnow() - timedelta(minutes=1)
    harness.telegram_update(message(1, "Сәлеметсіз бе", user=801))
    harness.settle()
    texts = [m["text"] for m in harness.telegram.sent()]
    assert texts[0] == CATALOG.render("utter_human_left", "kk", "telegram").text and len(texts) == 2
    assert _identity(harness, "telegram", "801").handled_by is None


def test_assign_then_close_with_an_outcome(harness: Harness) -> None:
    me = _account(harness, "aziza")
    _account(harness, "bobur")
    harness.telegram_update(message(1, CRISIS_UZ, user=901))
    harness.settle()
    handoff = _handoff(harness)
    with _signed_in(harness, "aziza") as client:
        page = client.get(f"/console/requests/handoff/{handoff.id}").text
        assert "Crisis" in client.get("/console/?folder=unassigned").text
        _post(client, f"/console/requests/handoff/{handoff.id}/assign", page, to="me")
        assert "Crisis" in client.get("/console/?folder=mine").text
        assert "Crisis" not in client.get("/console/?folder=unassigned").text
        bobur = client.post(f"/console/requests/handoff/{handoff.id}/assign",
                            data={"csrf": _csrf(page), "to": "2"})  # a caseworker may not give it away
        assert bobur.status_code == 403
        missing = _post(client, f"/console/requests/handoff/{handoff.id}/close", page, outcome="")
        assert "outcome_missing" in missing.headers["location"]
        _post(client, f"/console/requests/handoff/{handoff.id}/close", page, outcome="Talked by phone; safe now")
        assert "Crisis" not in client.get("/console/").text
    closed = _handoff(harness)
    assert closed.status is HandoffStatus.CLOSED and closed.assigned_to == me
    assert closed.outcome == "Talked by phone; safe now"


def test_someone_elses_request_is_not_found(harness: Harness) -> None:
    owner = _account(harness, "aziza")
    _account(harness, "chinara", team="south")
    with harness.database.transaction() as session:
        person = people.add_person(session, kind=PersonKind.RETURNEE, name="Timur SAMPLE", language="ru",
                                   time_zone="Asia/Tashkent", country="UZ", city="Toshkent", caseworker_id=owner)
        session.flush()
        identity = identities.identity_for(session, "telegram", "990")
        identity.person_id = person.id
        from bot.repositories import support
        handoff_id = support.create_handoff(session, identity.conversation_id, person.id, "human",
                                            identity_id=identity.id).id
        identity_id = identity.id
    with _signed_in(harness, "chinara") as client:
        assert client.get(f"/console/requests/handoff/{handoff_id}").status_code == 404
        page = client.get("/console/").text
        response = client.post(f"/console/conversations/{identity_id}/reply",
                               data={"csrf": _csrf(page), "text": "hello"})
        assert response.status_code == 404
    assert harness.telegram.sent() == []


def test_saved_replies_in_the_persons_language_fill_the_reply_box(harness: Harness) -> None:
    _account(harness, "aziza")
    harness.sms(sms("SM1", "Мен өзімді өлтіргім келеді", sender="+77019998877"))
    harness.settle()
    handoff = _handoff(harness)
    assert handoff.language == "kk"
    with _signed_in(harness, "aziza") as client:
        page = client.get(f"/console/requests/handoff/{handoff.id}").text
        filled = client.get(f"/console/requests/handoff/{handoff.id}?saved=call_today").text
    saved = SavedReplies.load(Settings().saved_replies_file)
    titles = [reply.title for reply in saved.for_language("kk")]
    assert titles and all(title in page for title in titles)
    assert saved.for_language("ru")[0].title not in page  # only the person's language
    text = next(reply.text for reply in saved.for_language("kk") if reply.key == "call_today")
    assert f">{text}</textarea>" in filled


def test_the_sample_saved_replies_are_in_every_language() -> None:
    saved = SavedReplies.load(Settings().saved_replies_file)
    counts = {language: len(saved.for_language(language)) for language in LANGUAGES}
    assert set(counts.values()) == {len(saved.replies)} and len(saved.replies) >= 3


def test_the_conversation_shows_what_the_bot_understood(harness: Harness) -> None:
    _account(harness, "aziza")
    harness.engine.replies = [{"text": "Sizga qanday yordam kerak?"},
                              {"custom": {"language": "uz", "intent": "ask_documents", "confidence": 0.913}}]
    harness.telegram_update(message(1, "hujjatlarim qachon tayyor bo'ladi", user=1201))
    harness.settle()
    with harness.database.transaction() as session:
        identity = identities.identity_for(session, "telegram", "1201")
        from bot.repositories import support
        handoff_id = support.create_handoff(session, identity.conversation_id, None, "human",
                                            identity_id=identity.id, language="uz").id
    with _signed_in(harness, "aziza") as client:
        page = client.get(f"/console/requests/handoff/{handoff_id}").text
    assert "Understood as: ask_documents (0.91) · Oʻzbekcha" in page
    assert "Sizga qanday yordam kerak?" in page  # the bot's reply, after the person's message
    assert page.index("hujjatlarim") < page.index("Sizga qanday yordam kerak?")
