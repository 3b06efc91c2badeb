"""`hamroh chat`: a terminal conversation with the real engine, line by line on stdin."""

from __future__ import annotations

import asyncio
import sys
from typing import Any, TextIO

from bot.channels.options import chosen_payload, numbered_options
from bot.engine.client import EngineClient
from bot.nlp.normalize import normalize_text


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
    lines: TextIO = sys.stdin,
    output: TextIO = sys.stdout,
) -> None:
    """Read messages from `lines` until end of input and print each reply."""
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
        message = chosen_payload(text, buttons) or text
        metadata = {"channel": channel, "language_hint": language}
        replies = await client.send(conversation_id, message, metadata)
        shown, offered = render(replies, channel)
        buttons = offered or buttons
        output.write(f"{shown}\n\n" if shown else "\n")
        output.flush()
