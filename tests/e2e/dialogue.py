"""Conversation tests: a person, a channel, turns in, and what each turn must bring (replies, and
the database afterwards), run through the real webhooks, app and engine.

A conversation file (`tests/conversations/*.yml`) holds a list of conversations:

    - name: crisis at the date-of-birth question
      channel: sms                 # telegram | sms
      language: uz                 # the person's language: expected replies are in it
      person: {appointments: [psychologist], documents: [passport]}   # omit: an unknown person
      turns:
        - say: hujjatlarim
          reply: utter_ask_second_factor        # one of this turn's replies is this one, in `language`
        - say: o'zimni o'ldirmoqchiman
          reply: utter_crisis
          not: [utter_second_factor_wrong]      # none of the replies is one of these (any language)
          state: {handoffs: [crisis/urgent], attempts: 0}

A turn may `press: N` (the Nth button of the last reply: on SMS the number is typed), expect
`silence: true` (no reply at all), or `reply_in: ru` (this turn's reply is in another language).
State keys: `appointments` (statuses, in order), `opted_out`, `handoffs` (reason/priority of every
handoff from this account, each carrying the account and the text), `referrals` (count),
`attempts` (failed second-factor or link attempts), `interests` (course interests).
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import yaml
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from bot.channels.sms import SmsSender
from bot.db.models import (
    AppointmentKind,
    ChannelIdentity,
    CourseInterest,
    Handoff,
    InboundMessage,
    PersonKind,
    Referral,
    utcnow,
)
from bot.db.session import Database
from bot.nlp.languages import LANGUAGES
from bot.repositories import appointments, documents, identities, people
from bot.responses.catalog import Catalog

CONVERSATIONS_DIR = Path(__file__).resolve().parent.parent / "conversations"
SECOND_FACTOR = "01.01.1990"
TIME_ZONES = {"uz": "Asia/Tashkent", "uz-Cyrl": "Asia/Tashkent", "ru": "Asia/Almaty", "en": "Asia/Tashkent",
              "kk": "Asia/Almaty", "ky": "Asia/Bishkek", "tg": "Asia/Dushanbe"}
COUNTRIES = {"uz": "UZ", "uz-Cyrl": "UZ", "ru": "KZ", "en": "UZ", "kk": "KZ", "ky": "KG", "tg": "TJ"}
_ADDRESSES = itertools.count(1)
_IDS = itertools.count(1)


@dataclass
class Turn:
    say: str | None = None
    press: int | None = None
    reply: str | None = None
    reply_in: str | None = None
    not_: list[str] = field(default_factory=list)
    silence: bool = False
    state: dict[str, Any] = field(default_factory=dict)


@dataclass
class Conversation:
    name: str
    channel: str
    language: str
    person: dict[str, Any] | None
    turns: list[Turn]
    source: str = ""

    @property
    def id(self) -> str:
        return f"{self.source}: {self.name} [{self.language}, {self.channel}]"


def load(directory: Path = CONVERSATIONS_DIR) -> list[Conversation]:
    """Every conversation in the conversation files."""
    found = []
    for path in sorted(directory.glob("*.yml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            if any(not isinstance(t.get("say", ""), str) for t in entry["turns"]):
                raise ValueError(f"{path.name}: {entry['name']}: quote every `say` (YAML reads yes/no as booleans)")
            turns = [Turn(say=None if t.get("say") is None else str(t["say"]), press=t.get("press"),
                          reply=t.get("reply"), reply_in=t.get("reply_in"), not_=list(t.get("not") or []),
                          silence=bool(t.get("silence")), state=dict(t.get("state") or {}))
                     for t in entry["turns"]]
            found.append(Conversation(entry["name"], entry["channel"], entry["language"], entry.get("person"),
                                      turns, path.stem))
    return found


class ReplyNames:
    """Tells which catalog reply (and language) a message sent to a person is."""

    def __init__(self, catalog: Catalog) -> None:
        self.patterns: list[tuple[str, str, str, re.Pattern[str]]] = []
        for language in LANGUAGES:
            for name, entry in catalog.languages[language]["responses"].items():
                for variant, text in entry.items():
                    channel = "sms" if variant == "sms" else "telegram"
                    body = SmsSender.parts(text, [])[0] if channel == "sms" else text
                    pieces = re.split(r"\{\w+\}", body)
                    pattern = "(?s)" + ".*?".join(re.escape(piece) for piece in pieces)
                    self.patterns.append((name, language, channel, re.compile(pattern)))
                    if channel == "telegram":  # a reply without an SMS variant goes by SMS as it is
                        self.patterns.append((name, language, "sms", re.compile(
                            "(?s)" + ".*?".join(re.escape(p) for p in re.split(r"\{\w+\}", SmsSender.parts(
                                text, [])[0])))))

    def of(self, text: str, channel: str) -> set[tuple[str, str]]:
        """Every (reply name, language) the message can be (a text may fit several)."""
        return {(name, language) for name, language, on, pattern in self.patterns
                if on == channel and pattern.match(text)}


@dataclass
class Outcome:
    conversation: Conversation
    met: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def expectations(self) -> int:
        return self.met + len(self.failures)


class Runner:
    """Runs conversations against a running app (webhooks at `app_url`) and its database."""

    def __init__(self, app_url: str, database: Database, fakes: Any, catalog: Catalog, channel_env: dict[str, str]):
        self.app_url, self.database, self.fakes, self.catalog = app_url, database, fakes, catalog
        self.env = channel_env
        self.names = ReplyNames(catalog)

    # --- set-up ---

    def _address(self, channel: str) -> str:
        number = next(_ADDRESSES)
        return str(930000000 + number) if channel == "telegram" else f"+99893{number:07d}"

    def _person(self, conversation: Conversation, address: str) -> None:
        spec = conversation.person
        if spec is None:
            return
        language = conversation.language
        now = utcnow()
        with self.database.transaction() as session:
            key = _hashing_key()
            person = people.add_person(
                session, kind=PersonKind(spec.get("kind", "returnee")), name="SAMPLE dialogue person",
                language=language, time_zone=TIME_ZONES[language], country=COUNTRIES[language], city="Tashkent",
                second_factor_hash=identities.keyed_hash(key, SECOND_FACTOR), consent_data=True,
            )
            for number, kind in enumerate(spec.get("appointments") or [], 1):
                appointments.add_appointment(
                    session, "caseworker:dialogue", person_id=person.id, kind=AppointmentKind(kind),
                    starts_at=now + timedelta(days=number + 1, hours=2), place="SAMPLE office",
                    caseworker_id=spec.get("caseworker"))
            for kind in spec.get("documents") or []:
                documents.set_document_status(session, person.id, kind, "ready", "SAMPLE office", "", "caseworker")
            identity = identities.identity_for(session, conversation.channel, address)
            identity.person_id = person.id
            identity.language = identity.language_override = language  # as a link code does
            if conversation.channel == "telegram":
                person.telegram_user_id = int(address)
            else:
                person.phone = address

    # --- sending ---

    def _sent(self, channel: str, address: str) -> list[dict[str, Any]]:
        if channel == "telegram":
            return [m for m in self.fakes.telegram.sent() if str(m["chat_id"]) == address]
        return [m for m in self.fakes.twilio.messages if m["To"] == address]

    def _post(self, channel: str, address: str, text: str) -> str:
        if channel == "telegram":
            update_id = next(_IDS) + 500000
            user = {"id": int(address), "is_bot": False, "first_name": "T"}
            body = {"update_id": update_id, "message": {"message_id": 1, "date": 0, "text": text, "from": user,
                                                        "chat": {"id": int(address), "type": "private"}}}
            headers = {"X-Telegram-Bot-Api-Secret-Token": self.env["HAMROH_TELEGRAM_WEBHOOK_SECRET"]}
            assert httpx.post(f"{self.app_url}/telegram/webhook", json=body, headers=headers).status_code == 200
            return f"u{update_id}"
        sid = f"SMdlg{next(_IDS):029d}"
        url = f"{self.app_url}/twilio/sms"
        params = {"MessageSid": sid, "From": address, "To": "+15005550006", "Body": text, "NumMedia": "0"}
        signature = RequestValidator(self.env["HAMROH_TWILIO_AUTH_TOKEN"]).compute_signature(url, params)
        response = httpx.post(url, content=urlencode(params), headers={
            "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
        assert response.status_code == 200
        return sid

    def _press(self, channel: str, address: str, last: list[dict[str, Any]], number: int) -> str:
        if channel == "sms":
            return self._post(channel, address, str(number))
        markup = next((m.get("reply_markup") for m in reversed(last) if m.get("reply_markup")), None)
        assert markup, "no buttons to press"
        data = markup["inline_keyboard"][number - 1][0]["callback_data"]
        update_id = next(_IDS) + 500000
        user = {"id": int(address), "is_bot": False, "first_name": "T"}
        body = {"update_id": update_id, "callback_query": {
            "id": f"cb{update_id}", "chat_instance": "c", "data": data, "from": user,
            "message": {"message_id": 5, "date": 0, "chat": {"id": int(address), "type": "private"}, "text": "x"}}}
        headers = {"X-Telegram-Bot-Api-Secret-Token": self.env["HAMROH_TELEGRAM_WEBHOOK_SECRET"]}
        assert httpx.post(f"{self.app_url}/telegram/webhook", json=body, headers=headers).status_code == 200
        return f"u{update_id}"

    def _wait_done(self, channel: str, provider_id: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.database.transaction() as session:
                status = session.scalar(select(InboundMessage.status).where(
                    InboundMessage.channel == channel, InboundMessage.provider_id == provider_id))
            if status in ("done", "failed"):
                return status
            time.sleep(0.05)
        return "pending"

    # --- checking ---

    def _state(self, channel: str, address: str) -> dict[str, Any]:
        with self.database.transaction() as session:
            identity = session.scalar(select(ChannelIdentity).where(
                ChannelIdentity.channel == channel, ChannelIdentity.address == address))
            if identity is None:
                return {}
            handoffs = list(session.scalars(select(Handoff).where(Handoff.identity_id == identity.id)
                                            .order_by(Handoff.id)))
            person_id = identity.person_id
            return {
                "opted_out": identity.opted_out,
                "attempts": identity.failed_attempts,
                "handoffs": [f"{h.reason}/{h.priority}" for h in handoffs if h.message],
                "referrals": len(list(session.scalars(select(Referral).where(Referral.identity_id == identity.id)))),
                "appointments": [a.status.value for a in appointments.list_appointments(session, person_id)]
                if person_id else [],
                "interests": len(list(session.scalars(select(CourseInterest).where(
                    CourseInterest.person_id == person_id)))) if person_id else 0,
            }

    def run(self, conversation: Conversation) -> Outcome:
        """Play the conversation; count the expectations met and describe the others."""
        outcome = Outcome(conversation)
        channel = conversation.channel
        address = self._address(channel)
        self._person(conversation, address)
        last: list[dict[str, Any]] = []
        for number, turn in enumerate(conversation.turns, 1):
            before = len(self._sent(channel, address))
            said = turn.say if turn.say is not None else f"<press {turn.press}>"
            if turn.press is not None:
                provider_id = self._press(channel, address, last, turn.press)
            else:
                provider_id = self._post(channel, address, str(turn.say))
            status = self._wait_done(channel, provider_id)
            sent = self._sent(channel, address)[before:]
            last = sent or last
            texts = [m["text"] if channel == "telegram" else m["Body"] for m in sent]
            names = set().union(*(self.names.of(text, channel) for text in texts)) if texts else set()
            where = f"turn {number} ({said!r})"

            def check(ok: bool, what: str, where: str = where, texts: list[str] = texts) -> None:
                if ok:
                    outcome.met += 1
                else:
                    outcome.failures.append(f"{where}: expected {what}; got {[t[:80] for t in texts]}")

            check(status == "done", f"the message handled (status {status})")
            if turn.silence:
                check(not texts, "no reply")
            elif turn.reply is not None:
                check((turn.reply, turn.reply_in or conversation.language) in names,
                      f"{turn.reply} in {turn.reply_in or conversation.language}")
            for name in turn.not_:
                check(all(found != name for found, _ in names), f"no {name}")
            if turn.state:
                state = self._state(channel, address)
                for key, wanted in turn.state.items():
                    check(state.get(key) == wanted, f"{key} == {wanted!r} (is {state.get(key)!r})")
        return outcome


def _hashing_key() -> bytes:
    from bot.settings import get_settings

    return get_settings().hashing_key()
