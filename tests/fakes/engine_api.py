"""A fake engine REST channel: records messages; replies as told, or is down (503)."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


class FakeEngine:
    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.replies: list[dict[str, Any]] = [{"text": "reply"}]
        self.down = False
        self.app = Starlette(routes=[Route("/webhooks/rest/webhook", self.webhook, methods=["POST"])])

    async def webhook(self, request: Request) -> JSONResponse:
        if self.down:
            return JSONResponse({"error": "down"}, status_code=503)
        body = await request.json()
        self.received.append(body)
        return JSONResponse([{"recipient_id": body["sender"], **reply} for reply in self.replies])
