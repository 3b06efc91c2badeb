"""`hamroh chat`: a terminal conversation, line by line on stdin, through the same inbound chain
as Telegram and SMS (crisis check, keywords, link codes, the second factor, then the engine)."""

from __future__ import annotations

import asyncio
import sys
import uuid
from typing import TextIO

from bot.channels.inbound import InboundChain, Outgoing
from bot.channels.options import numbered_options
from bot.db.models import InboundMessage
from bot.db.session import Database
from bot.repositories import identities


def render(replies: list[Outgoing], channel: str) -> str:
    """Show replies as `channel` would: SMS numbered options, or buttons in brackets."""
    blocks: list[str] = []
    for reply in replies:
        if reply.text:
            blocks.append(reply.text)
        if reply.buttons:
            if channel == "sms":
                blocks.append(numbered_options(reply.buttons))
            else:
                blocks.append("  ".join(f"[{n}: {b['title']}]" for n, b in enumerate(reply.buttons, 1)))
    return "\n".join(blocks)


def start_in(database: Database, channel: str, address: str, language: str) -> None:
    """`--lang`: the conversation starts in `language`, as if the person had chosen it."""
    with database.transaction() as session:
        identity = identities.identity_for(session, channel, address)
        identity.language = identity.language_override = language


def _record(database: Database, channel: str, address: str, text: str) -> InboundMessage:
    """Keep the line as an inbound message, like a webhook does (it is handled at once)."""
    with database.transaction() as session:
        message = InboundMessage(channel=channel, provider_id=uuid.uuid4().hex, address=address, kind="text",
                                 text=text, status="done")
        session.add(message)
        session.flush()
        session.expunge(message)
        return message


async def chat(
    chain: InboundChain,
    channel: str,
    address: str,
    lines: TextIO = sys.stdin,
    output: TextIO = sys.stdout,
) -> None:
    """Read messages from `lines` until end of input and print each reply.

    On the terminal channel, buttons are answered by their number as by SMS.
    """
    interactive = lines.isatty()
    while True:
        if interactive:
            output.write("> ")
            output.flush()
        line = await asyncio.to_thread(lines.readline)
        if not line:
            break
        if not line.strip():
            continue
        message = await asyncio.to_thread(_record, chain.database, channel, address, line)
        shown = render(await chain.handle(message), channel)
        output.write(f"{shown}\n\n" if shown else "\n")
        output.flush()
