"""Request limits for every route: body size (declared and streamed) and JSON depth.

Checked before a handler reads anything, so no route can be made to buffer more than its limit.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class LimitBodies:
    """ASGI middleware: a declared Content-Length over `limit` gets 413 at once, a malformed one 400;
    a streamed body is cut off with 413 as soon as it passes `limit`."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = [value for name, value in scope["headers"] if name == b"content-length"]
        if declared:
            length = decimal(declared[0].decode("latin-1"))
            if length is None or len(declared) > 1:
                await JSONResponse({"error": "malformed Content-Length"}, status_code=400)(scope, receive, send)
                return
            if length > self.limit:
                await JSONResponse({"error": "body too large"}, status_code=413)(scope, receive, send)
                return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.limit:
                raise HTTPException(413, "body too large")
            return message

        await self.app(scope, limited, send)


def decimal(text: str, max_digits: int = 18) -> int | None:
    """`text` as a non-negative integer if it is only ASCII digits (not "²" or "٣"), else None."""
    if not text or len(text) > max_digits or not (text.isascii() and text.isdecimal()):
        return None
    return int(text)


class JSONTooDeep(ValueError):
    """The JSON nests deeper than allowed."""


#: A complete JSON string (escapes included); unterminated ones are left in, so they count.
STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
NOT_BRACKETS = bytes(byte for byte in range(256) if byte not in b"[]{}")


def json_depth(body: bytes) -> int:
    """How deep arrays and objects nest in `body` (brackets inside strings do not count)."""
    depth = deepest = 0
    for byte in STRINGS.sub(b"", body).translate(None, NOT_BRACKETS):
        depth += 1 if byte in (0x5B, 0x7B) else -1
        deepest = max(deepest, depth)
    return deepest


def loads(body: bytes, max_depth: int) -> Any:
    """Parse JSON, refusing (ValueError) anything nested deeper than `max_depth` before parsing it."""
    if json_depth(body) > max_depth:
        raise JSONTooDeep(f"JSON nested deeper than {max_depth}")
    return json.loads(body)
