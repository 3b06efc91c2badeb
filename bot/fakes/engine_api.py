"""A fake engine: the REST channel, trigger_intent and parse; records calls; replies as told, or is down (503)."""

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
        self.triggered: list[tuple[str, dict[str, Any]]] = []
        self.trigger_buttons: list[dict[str, str]] = []
        self.parsed: list[str] = []
        self.intent = {"name": "greet", "confidence": 0.9}  # what /model/parse answers
        self.app = Starlette(routes=[
            Route("/webhooks/rest/webhook", self.webhook, methods=["POST"]),
            Route("/model/parse", self.parse, methods=["POST"]),
            Route("/conversations/{conversation}/trigger_intent", self.trigger, methods=["POST"]),
        ])

    async def webhook(self, request: Request) -> JSONResponse:
        if self.down:
            return JSONResponse({"error": "down"}, status_code=503)
        body = await request.json()
        self.received.append(body)
        return JSONResponse([{"recipient_id": body["sender"], **reply} for reply in self.replies])

    async def trigger(self, request: Request) -> JSONResponse:
        """Like the engine without an output channel: the bot's messages come back in the response.

        The text names the entities it was given, so a test can see what the dispatcher asked for.
        """
        if self.down:
            return JSONResponse({"error": "down"}, status_code=503)
        body = await request.json()
        conversation = request.path_params["conversation"]
        self.triggered.append((conversation, body))
        entities = body.get("entities") or {}
        text = f"{body['name']} {entities.get('outbox_id')} in {entities.get('language')}"
        message = {"recipient_id": conversation, "text": text, "buttons": self.trigger_buttons}
        return JSONResponse({"tracker": {"sender_id": conversation}, "messages": [message]})

    async def parse(self, request: Request) -> JSONResponse:
        if self.down:
            return JSONResponse({"error": "down"}, status_code=503)
        text = (await request.json())["text"]
        self.parsed.append(text)
        return JSONResponse({"text": text, "intent": self.intent, "entities": []})
