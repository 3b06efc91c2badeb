"""`hamroh chat`: a terminal conversation with the real engine, line by line on stdin."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any, TextIO

from bot.channels.linking import link_code_in
from bot.channels.options import chosen_payload, numbered_options
from bot.engine.client import EngineClient
from bot.nlp.normalize import normalize_text
from bot.responses.catalog import Catalog

#: Redeems a link code; returns the reply's name and the linked person's language.
LinkHandler = Callable[[str], tuple[str, str | None]]


def render(replies: list[dict[str, Any]], channel: str) -> tuple[str, list[dict[str, Any]]]:
    """Show replies as `channel` would; return the text and the buttons now on offer."""
    blocks: list[str] = []
    buttons: list[dict[str, Any]] = []
    for reply in replies:
        if reply.get("text"):
            blocks.append(reply["text"])
        if reply.get("buttons"):
            buttons = reply["buttons"]
            if channel == "sms":
                blocks.append(numbered_options(buttons))
            else:
                blocks.append("  ".join(f"[{n}: {b['title']}]" for n, b in enumerate(buttons, 1)))
    return "\n".join(blocks), buttons


async def chat(
    client: EngineClient,
    conversation_id: str,
    channel: str,
    language: str | None,
    link: LinkHandler,
    catalog: Catalog,
    lines: TextIO = sys.stdin,
    output: TextIO = sys.stdout,
) -> None:
    """Read messages from `lines` until end of input and print each reply.

    `/start CODE` and `LINK CODE` are handled here, as the channel gateways do, before the engine.
    """
    buttons: list[dict[str, Any]] = []
    interactive = lines.isatty()
    while True:
        if interactive:
            output.write("> ")
            output.flush()
        line = await asyncio.to_thread(lines.readline)
        if not line:
            break
        text = normalize_text(line)
        if not text:
            continue
        code = link_code_in(text)
        if code is not None:
            reply_name, person_language = await asyncio.to_thread(link, code)
            language = person_language or language
            output.write(catalog.render(reply_name, language, channel).text + "\n\n")
            output.flush()
            continue
        message = chosen_payload(text, buttons) or text
        metadata = {"channel": channel, "language_hint": language}
        replies = await client.send(conversation_id, message, metadata)
        shown, offered = render(replies, channel)
        buttons = offered or buttons
        output.write(f"{shown}\n\n" if shown else "\n")
        output.flush()
