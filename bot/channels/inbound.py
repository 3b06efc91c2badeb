"""What happens to one inbound message: an ordered chain of small steps, read top to bottom.

Each step looks at the message (and what is known about who sent it) and either answers it,
which ends the chain, or passes it on, possibly changed. The order is the safety design:

1. `unsupported`: voice, photos, stickers get a polite "text only" (nothing else to read).
2. `keywords`: the channel keywords STOP / START and their equivalents act at once.
3. `opted_out`: after STOP nothing is answered until START.
4. `link_code`: `/start CODE` or `LINK CODE` links the account (never reaches the engine).
5. `numbered_option`: "1" by SMS becomes the payload of the last menu's first button.
6. `engine`: everything else is understood and answered by the engine.

The chain returns the messages to send; the gateway sends them and records the outcome.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.channels.keywords import keyword_of
from bot.channels.linking import link_code_in, redeem
from bot.channels.options import chosen_payload
from bot.db.models import ChannelIdentity, InboundMessage, Person, utcnow
from bot.db.session import Database
from bot.engine.client import EngineClient
from bot.nlp.normalize import normalize_text
from bot.repositories import identities
from bot.responses.catalog import Catalog
from bot.settings import Settings


@dataclass(frozen=True)
class Outgoing:
    """One message to send: text and buttons ({title, payload})."""

    text: str
    buttons: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Turn:
    """One inbound message on its way through the chain."""

    message: InboundMessage
    identity: ChannelIdentity
    language: str
    text: str
    replies: list[Outgoing] = field(default_factory=list)

    @property
    def is_text(self) -> bool:
        return self.message.kind == "text"


#: A step answers the turn (True: the chain ends) or passes it on (False).
Step = Callable[[Turn], Awaitable[bool]]


class InboundChain:
    """The steps every inbound message goes through, in order (see the module docstring)."""

    def __init__(self, database: Database, engine: EngineClient, catalog: Catalog, settings: Settings) -> None:
        self.database = database
        self.engine = engine
        self.catalog = catalog
        self.settings = settings
        self.steps: list[tuple[str, Step]] = [
            ("unsupported", self.unsupported),
            ("keywords", self.keywords),
            ("opted_out", self.opted_out),
            ("link_code", self.link_code),
            ("numbered_option", self.numbered_option),
            ("engine", self.ask_engine),
        ]

    async def handle(self, message: InboundMessage) -> list[Outgoing]:
        """Run the chain for one message; return what to send."""
        identity, language = await asyncio.to_thread(self._identity, message.channel, message.address)
        turn = Turn(message, identity, language, normalize_text(message.text))
        for _, step in self.steps:
            if await step(turn):
                break
        return turn.replies

    # --- state ---

    def _identity(self, channel: str, address: str) -> tuple[ChannelIdentity, str]:
        with self.database.transaction() as session:
            identity = identities.identity_for(session, channel, address)
            person = session.get(Person, identity.person_id) if identity.person_id else None
            language = (person.language if person else None) or identity.language or self.settings.default_language
            return identity, language

    def _set_opt_out(self, identity_id: int, opted_out: bool, language: str | None) -> None:
        with self.database.transaction() as session:
            identity = session.get(ChannelIdentity, identity_id)
            assert identity is not None
            identities.set_opted_out(session, identity, opted_out)
            if language:
                identity.language = language

    def _remember(self, identity_id: int, menu: list[str] | None, language: str | None) -> None:
        with self.database.transaction() as session:
            identity = session.get(ChannelIdentity, identity_id)
            assert identity is not None
            if menu is not None:
                identity.last_menu = menu
            if language:
                identity.language = language

    def _say(self, turn: Turn, name: str, language: str | None = None) -> None:
        reply = self.catalog.render(name, language or turn.language, turn.identity.channel)
        turn.replies.append(Outgoing(reply.text, reply.buttons))

    # --- the steps ---

    async def unsupported(self, turn: Turn) -> bool:
        """Voice, photos, stickers, contacts: ask for text (unless the person opted out)."""
        if turn.message.kind != "unsupported":
            return False
        if not turn.identity.opted_out:
            self._say(turn, "utter_text_only")
        return True

    async def keywords(self, turn: Turn) -> bool:
        """STOP and its equivalents stop everything at once, with one confirmation; START resumes."""
        found = keyword_of(turn.text) if turn.is_text else None
        if found is None:
            return False
        keyword, language = found
        if keyword == "opt_out":
            if not turn.identity.opted_out:
                await asyncio.to_thread(self._set_opt_out, turn.identity.id, True, language)
                self._say(turn, "utter_opt_out", language)
            return True
        await asyncio.to_thread(self._set_opt_out, turn.identity.id, False, None)
        turn.identity.opted_out = False
        turn.text = "/greet"
        return False

    async def opted_out(self, turn: Turn) -> bool:
        """Nothing of any kind is answered until the person opts back in."""
        return turn.identity.opted_out

    async def link_code(self, turn: Turn) -> bool:
        """A caseworker's one-time code links this account or phone to the person's record."""
        code = link_code_in(turn.text) if turn.is_text else None
        if code is None:
            return False
        key = self.settings.hashing_key()
        identity = turn.identity
        name, person_language = await asyncio.to_thread(
            redeem, self.database, key, identity.channel, identity.address, code, utcnow())
        self._say(turn, name, person_language)
        return True

    async def numbered_option(self, turn: Turn) -> bool:
        """By SMS "1" means the first button of the last menu."""
        if turn.is_text and turn.identity.last_menu:
            buttons = [{"payload": payload} for payload in turn.identity.last_menu]
            turn.text = chosen_payload(turn.text, buttons) or turn.text
        return not turn.text

    async def ask_engine(self, turn: Turn) -> bool:
        """The engine understands the message and answers in the conversation's language."""
        identity = turn.identity
        metadata = {"channel": identity.channel, "language_hint": turn.language}
        replies = await self.engine.send(identity.conversation_id, turn.text, metadata)
        menu: list[str] | None = None
        spoken: str | None = None
        for reply in replies:
            if "custom" in reply:  # the conversation's language, from the reply catalog
                spoken = (reply["custom"] or {}).get("language") or spoken
                continue
            buttons = reply.get("buttons") or []
            if buttons:
                menu = [str(button["payload"]) for button in buttons]
            turn.replies.append(Outgoing(reply.get("text") or "", buttons))
        await asyncio.to_thread(self._remember, identity.id, menu, spoken)
        return True
