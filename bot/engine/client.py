"""An async HTTP client for the engine's REST API."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import httpx

logging.getLogger("httpx").setLevel(logging.WARNING)  # its INFO lines show each URL, with the token


class EngineError(RuntimeError):
    """The engine is unreachable or answered with an error."""


class EngineClient:
    """Sends messages to the engine and parses text with it, with the engine's API token."""

    def __init__(self, base_url: str, token: str = "", timeout: float = 30.0) -> None:
        params = {"token": token} if token else None  # Rasa's --auth-token is a query parameter
        self.http = httpx.AsyncClient(base_url=base_url, params=params, timeout=timeout)

    async def __aenter__(self) -> EngineClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.http.aclose()

    async def _post(self, path: str, body: dict[str, Any], params: dict[str, str] | None = None) -> Any:
        try:
            response = await self.http.post(path, json=body, params=params)
        except httpx.HTTPError as error:
            raise EngineError(f"engine unreachable: {error.__class__.__name__}") from error
        if response.status_code != 200:
            raise EngineError(f"engine answered {response.status_code} on {path}")
        return response.json()

    async def send(
        self, conversation_id: str, text: str, metadata: dict[str, Any]
    ) -> list[dict[str, Any]]:
        """Send a user message; return the bot's replies (text and buttons)."""
        body = {"sender": conversation_id, "message": text, "metadata": metadata}
        replies = await self._post("/webhooks/rest/webhook", body)
        return replies if isinstance(replies, list) else []

    async def trigger_intent(
        self, conversation_id: str, intent: str, entities: dict[str, str]
    ) -> list[dict[str, Any]]:
        """Start a turn with `intent` as if the person had sent it; return the bot's messages.

        Without an output channel the engine collects the messages and returns them in the response.
        """
        path = f"/conversations/{quote(conversation_id, safe='')}/trigger_intent"
        result = await self._post(path, {"name": intent, "entities": entities}, {"include_events": "NONE"})
        messages = result.get("messages") if isinstance(result, dict) else None
        return messages if isinstance(messages, list) else []

    async def parse(self, text: str) -> dict[str, Any]:
        """Return the engine's parse result for `text` (no conversation is touched)."""
        result = await self._post("/model/parse", {"text": text})
        return result if isinstance(result, dict) else {}

    async def is_ready(self) -> bool:
        """True if the engine answers and has a model loaded."""
        try:
            response = await self.http.get("/status")
        except httpx.HTTPError:
            return False
        return response.status_code == 200 and bool(response.json().get("model_file"))
