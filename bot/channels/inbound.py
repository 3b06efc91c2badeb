"""What happens to one inbound message: an ordered chain of small steps, read top to bottom.

Each step looks at the message (and what is known about who sent it) and either answers it,
which ends the chain, or passes it on, possibly changed. The order is the safety design:

1. `crisis`: the crisis lexicon, before anything else, in every state (opted out, mid-question,
   locked, unlinked): the crisis contacts, an urgent handoff with a way to reach the person,
   and whatever was going on is ended. Such a message never counts as an answer or attempt.
2. `unsupported`: voice, photos, stickers get a polite "text only" (nothing else to read).
3. `keywords`: the channel keywords STOP / START and their equivalents act at once, read in
   the conversation's language.
4. `opted_out`: after an opt-out nothing is answered but a crisis or a request to opt back in
   (a keyword, or a sentence the engine reads as `opt_in`).
4a. `human`: while a caseworker handles the conversation in the console the bot stays quiet (the
   message waits for them there); once their time has run out the person is told the bot
   answers again, and the message goes on.
5. `link_code`: `/start CODE` or `LINK CODE` links the account (never reaches the engine).
6. `second_factor`: the answer to the app's date-of-birth question (never reaches the engine);
   anything that is not shaped like a date closes the question and goes on.
7. `numbered_option`: "1" by SMS becomes the payload of the last menu's first button.
8. `first_contact`: a new person whose language nobody knows yet and who said nothing to
   read (Telegram's /start) is asked to choose a language.
9. `engine`: everything else is understood and answered by the engine.

The chain returns the messages to send; the gateway sends them and records the outcome.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot import runtime
from bot.channels.keywords import OPT_OUT, asks_opt_in, keyword_of
from bot.channels.linking import check_second_factor, link_code_in, looks_like_a_date, redeem
from bot.channels.options import chosen_payload
from bot.db.models import InboundMessage, utcnow
from bot.db.session import Database
from bot.engine.client import EngineClient, EngineError
from bot.nlp.langid import LanguageIdentifier
from bot.nlp.languages import LANGUAGES
from bot.nlp.normalize import normalize_text
from bot.repositories import conversation_log, identities, inbound, support
from bot.responses.catalog import Catalog
from bot.safety.contacts import CrisisContacts
from bot.safety.crisis import CrisisLexicon
from bot.settings import Settings

logger = logging.getLogger(__name__)
#: An opted-out person's free text resumes messages only when the engine is this sure it asks to.
OPT_IN_CONFIDENCE = 0.6
GREETING = "/greet"  # what Telegram's /start becomes (bot/channels/telegram.py)


@dataclass(frozen=True)
class Outgoing:
    """One message to send: text and buttons ({title, payload})."""

    text: str
    buttons: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Who:
    """What the chain knows about the sender when the message arrives."""

    identity_id: int
    channel: str
    address: str
    conversation_id: str
    person_id: int | None
    country: str | None
    #: The person's language, or the language this account last used; None for a new person.
    language: str | None
    #: A language the record set (a link, a caseworker's change), passed to the engine as a choice.
    language_override: str | None
    opted_out: bool
    awaiting: str | None
    last_menu: list[str]
    #: A caseworker handles the conversation from the console (None: nobody), and until when.
    handled_by: int | None = None
    handled_until: datetime | None = None


@dataclass
class Turn:
    """One inbound message on its way through the chain."""

    message: InboundMessage
    who: Who
    text: str
    replies: list[Outgoing] = field(default_factory=list)

    @property
    def is_text(self) -> bool:
        return self.message.kind == "text"


#: A step answers the turn (True: the chain ends) or passes it on (False).
Step = Callable[[Turn], Awaitable[bool]]


class InboundChain:
    """The steps every inbound message goes through, in order (see the module docstring)."""

    def __init__(
        self,
        database: Database,
        engine: EngineClient,
        catalog: Catalog,
        settings: Settings,
        lexicon: CrisisLexicon | None = None,
        contacts: CrisisContacts | None = None,
        identifier: Callable[[], LanguageIdentifier] | None = None,
    ) -> None:
        self.database = database
        self.engine = engine
        self.catalog = catalog
        self.settings = settings
        self.lexicon = lexicon or CrisisLexicon.load()
        self.contacts = contacts or CrisisContacts.load(settings.crisis_contacts_file)
        self.identifier = identifier or runtime.language_identifier
        self.steps: list[tuple[str, Step]] = [
            ("crisis", self.crisis),
            ("unsupported", self.unsupported),
            ("keywords", self.keywords),
            ("opted_out", self.opted_out),
            ("human", self.human),
            ("link_code", self.link_code),
            ("second_factor", self.second_factor),
            ("numbered_option", self.numbered_option),
            ("first_contact", self.first_contact),
            ("engine", self.ask_engine),
        ]

    async def handle(self, message: InboundMessage) -> list[Outgoing]:
        """Run the chain for one message; return what to send."""
        who = await asyncio.to_thread(self._who, message)
        turn = Turn(message, who, normalize_text(message.text))
        for _, step in self.steps:
            if await step(turn):
                break
        return turn.replies

    # --- state (each a short transaction of its own) ---

    def _who(self, message: InboundMessage) -> Who:
        with self.database.transaction() as session:
            identity = identities.identity_for(session, message.channel, message.address)
            if identity.language is None and message.language in LANGUAGES:
                identity.language = message.language  # what Telegram says the person's app uses
            person = identities.person_of(session, identity)
            return Who(
                identity.id, identity.channel, identity.address, identity.conversation_id,
                identity.person_id, person.country if person else None,
                (person.language if person else None) or identity.language, identity.language_override,
                identity.opted_out, identities.awaited(identity, utcnow()), list(identity.last_menu or []),
                identity.handled_by, identity.handled_until,
            )

    def _forget_question(self, identity_id: int) -> None:
        with self.database.transaction() as session:
            identities.forget_question(identities.identity_by_id(session, identity_id))

    def _set_opt_out(self, identity_id: int, opted_out: bool, language: str | None) -> None:
        with self.database.transaction() as session:
            identity = identities.identity_by_id(session, identity_id)
            identities.set_opted_out(session, identity, opted_out)
            if language and identity.person_id is None:
                identity.language = language

    def _file_crisis(self, who: Who, language: str, text: str) -> None:
        with self.database.transaction() as session:
            identity = identities.identity_by_id(session, who.identity_id)
            identities.forget_question(identity)
            identity.last_menu = []
            support.create_handoff(session, who.conversation_id, who.person_id, "crisis", priority="urgent",
                                   identity_id=who.identity_id, language=language, message=text)
            support.create_referral(session, who.conversation_id, who.person_id, concern="crisis", urgency="now",
                                    language=language, crisis=True, identity_id=who.identity_id)

    def _end_handling(self, identity_id: int) -> None:
        with self.database.transaction() as session:
            conversation_log.hand_back(session, identities.identity_by_id(session, identity_id), "system")

    def _detect(self, text: str) -> str:
        """The language a message is written in, for a person whose language is not known yet."""
        return self.identifier().detect(text, fallback=self.settings.default_language).language

    def _say(self, turn: Turn, name: str, language: str | None = None, **values: str) -> None:
        reply = self.catalog.render(name, language or turn.who.language, turn.who.channel, values)
        turn.replies.append(Outgoing(reply.text, reply.buttons))

    # --- the steps ---

    async def crisis(self, turn: Turn) -> bool:
        """The crisis lexicon matched: contacts and an urgent handoff now, whatever else was going on."""
        found = self.lexicon.match(turn.text) if turn.is_text and not turn.text.startswith("/") else None
        if found is None:
            return False
        who = turn.who
        language = who.language if who.language else await asyncio.to_thread(self._detect, turn.text)
        await asyncio.to_thread(self._file_crisis, who, language, turn.text)
        values = {"opens": self.settings.office_opens, "closes": self.settings.office_closes,
                  "contacts": self.contacts.lines_for(language, who.country)}
        # the terminal demo has no account a caseworker could write back to: promise nothing
        reply = "utter_crisis" if who.channel in ("telegram", "sms") else "utter_crisis_unreachable"
        self._say(turn, reply, language, **values)
        try:  # end whatever the engine was doing (a pending question, the triage); the reply is out already
            await self.engine.send(who.conversation_id, "/crisis", {**self._metadata(who), "crisis_handled": True})
        except EngineError as error:
            logger.warning("crisis handled; the engine could not be told: %s", error)
        return True

    async def unsupported(self, turn: Turn) -> bool:
        """Voice, photos, stickers, contacts: ask for text (unless the person opted out)."""
        if turn.message.kind != "unsupported":
            return False
        if not turn.who.opted_out:
            self._say(turn, "utter_text_only")
        return True

    async def keywords(self, turn: Turn) -> bool:
        """STOP and its equivalents stop everything at once, with one confirmation; START resumes."""
        who = turn.who
        found = keyword_of(turn.text, who.language, who.channel, who.opted_out) if turn.is_text else None
        if found is None and turn.who.opted_out and turn.is_text and asks_opt_in(turn.text, turn.who.language):
            found = keyword_of("start", None)
        if found is None:
            return False
        if found.kind == OPT_OUT:
            if not turn.who.opted_out:
                language = found.language or turn.who.language or await asyncio.to_thread(self._detect, turn.text)
                await asyncio.to_thread(self._set_opt_out, turn.who.identity_id, True, found.language)
                self._say(turn, "utter_opt_out", language)
            return True
        await asyncio.to_thread(self._set_opt_out, turn.who.identity_id, False, found.language)
        turn.who.opted_out = False
        turn.text = "/opt_in"
        return False

    async def opted_out(self, turn: Turn) -> bool:
        """Nothing is answered after an opt-out, unless the person clearly asks to resume messages."""
        if not turn.who.opted_out:
            return False
        if not turn.is_text or len(turn.text.split()) < 2 or turn.text.startswith("/"):
            return True  # one word resumes only as a keyword ("баста" is "enough" in Russian)
        try:
            parsed = await self.engine.parse(turn.text)
        except EngineError:
            return True  # no answer is owed to an opted-out person: silence, as asked
        intent = parsed.get("intent") or {}
        if intent.get("name") != "opt_in" or float(intent.get("confidence") or 0) < OPT_IN_CONFIDENCE:
            return True
        await asyncio.to_thread(self._set_opt_out, turn.who.identity_id, False, None)
        turn.who.opted_out = False
        turn.text = "/opt_in"
        return False

    async def human(self, turn: Turn) -> bool:
        """A caseworker handles the conversation: no bot reply (they read it in the console). When
        their time ran out without a hand-back, the person hears the bot is back, and it answers."""
        who = turn.who
        if who.handled_by is None:
            return False
        if who.handled_until is not None and who.handled_until > utcnow():
            return True
        await asyncio.to_thread(self._end_handling, who.identity_id)
        self._say(turn, "utter_human_left")
        return False

    async def link_code(self, turn: Turn) -> bool:
        """A caseworker's one-time code links this account or phone to the person's record."""
        code = link_code_in(turn.text) if turn.is_text else None
        if code is None:
            return False
        key = self.settings.hashing_key()
        who = turn.who
        name, person_language = await asyncio.to_thread(
            redeem, self.database, key, who.channel, who.address, code, utcnow())
        self._say(turn, name, person_language)
        return True

    async def second_factor(self, turn: Turn) -> bool:
        """The answer to "your date of birth?"; anything else closes the question and goes on."""
        if turn.who.awaiting != "second_factor" or not turn.is_text:
            return False
        if not looks_like_a_date(turn.text):
            await asyncio.to_thread(self._forget_question, turn.who.identity_id)
            return False
        key = self.settings.hashing_key()
        result = await asyncio.to_thread(
            check_second_factor, self.database, key, turn.who.identity_id, turn.text, utcnow())
        if result == "wrong":
            self._say(turn, "utter_second_factor_wrong")
            return True
        if result == "locked":
            self._say(turn, "utter_verification_locked")
            return True
        turn.text = "/check_document_status"
        return False

    async def numbered_option(self, turn: Turn) -> bool:
        """By SMS "1" means the first button of the last menu."""
        if turn.is_text and turn.who.last_menu:
            buttons = [{"payload": payload} for payload in turn.who.last_menu]
            turn.text = chosen_payload(turn.text, buttons) or turn.text
        return not turn.text

    async def first_contact(self, turn: Turn) -> bool:
        """A new person whose language is unknown opened the chat (/start): ask for the language."""
        if turn.who.language is not None or turn.who.person_id is not None or turn.text != GREETING:
            return False
        texts = dict.fromkeys(self.catalog.render("utter_choose_language", tag).text for tag in LANGUAGES)
        menu = self.catalog.render("utter_choose_language", None, turn.who.channel)
        turn.replies.append(Outgoing("\n".join(texts), menu.buttons))
        await asyncio.to_thread(self._remember, turn.who.identity_id, menu.buttons, None, None)
        return True

    def _metadata(self, who: Who) -> dict[str, Any]:
        return {"channel": who.channel, "language_hint": who.language}

    def _remember(
        self, identity_id: int, buttons: list[dict[str, Any]], language: str | None, awaiting: str | None,
        message_id: int | None = None, understood: dict[str, Any] | None = None,
    ) -> None:
        """After a reply: its menu is the one numbers answer (none if it had no buttons), and the
        language and the app's open question are kept; the record's language has been passed on.
        What the engine understood is noted on the message, for the caseworkers' console."""
        with self.database.transaction() as session:
            if message_id is not None and understood:
                inbound.note_understood(session, message_id, understood)
            identity = identities.identity_by_id(session, identity_id)
            identity.last_menu = [str(button["payload"]) for button in buttons]
            identity.language_override = None
            if language:
                identity.language = language
            if awaiting:
                identities.ask(identity, awaiting, utcnow())

    async def ask_engine(self, turn: Turn) -> bool:
        """The engine understands the message and answers in the conversation's language."""
        who = turn.who
        metadata = self._metadata(who)
        if who.language_override:
            metadata["language_explicit"] = who.language_override
        replies = await self.engine.send(who.conversation_id, turn.text, metadata)
        buttons: list[dict[str, Any]] = []
        spoken: str | None = None
        awaiting: str | None = None
        understood: dict[str, Any] = {}
        for reply in replies:
            if "custom" in reply:  # notes for the app: the conversation's language, the app's question
                custom = reply["custom"] or {}
                spoken = custom.get("language") or spoken
                awaiting = custom.get("awaiting") or awaiting
                if custom.get("intent"):
                    understood = {"intent": str(custom["intent"])[:64], "confidence": custom.get("confidence")}
                continue
            buttons = reply.get("buttons") or []
            if reply.get("text") or buttons:
                turn.replies.append(Outgoing(reply.get("text") or "", buttons))
        if not turn.replies:  # Rasa answers [] when a component failed or no model is loaded
            raise EngineError("the engine answered nothing")
        if spoken:
            understood["language"] = spoken
        await asyncio.to_thread(self._remember, who.identity_id, buttons, spoken, awaiting,
                                turn.message.id, understood)
        return True
