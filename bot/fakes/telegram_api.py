"""A fake Telegram Bot API: records every call; can be told to fail the next call of a method."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


class FakeTelegram:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.times: list[tuple[str, float]] = []  # when each call arrived (time.monotonic)
        self.failures: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        self.updates: list[dict[str, Any]] = []  # served by getUpdates
        self._ids = itertools.count(100)
        self.app = Starlette(routes=[Route("/bot{token}/{method}", self.handle, methods=["POST", "GET"])])

    def fail_next(self, method: str, status: int, description: str, retry_after: int | None = None) -> None:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if retry_after is not None:
            body["parameters"] = {"retry_after": retry_after}
        self.failures.setdefault(method, []).append((status, body))

    def sent(self, method: str = "sendMessage") -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    async def handle(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        if request.headers.get("content-type", "").startswith("application/json"):
            params = await request.json()
        else:
            form = await request.form()
            params = {key: _decode(str(value)) for key, value in form.items()}
        self.calls.append((method, params))
        self.times.append((method, time.monotonic()))
        if self.failures.get(method):
            status, body = self.failures[method].pop(0)
            return JSONResponse(body, status_code=status)
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            waiting = [update for update in self.updates if update["update_id"] >= offset]
            if not waiting:
                await asyncio.sleep(0.2)  # a short "long poll"
            return JSONResponse({"ok": True, "result": waiting})
        if method == "sendMessage":
            chat = int(params["chat_id"])
            result: Any = {"message_id": next(self._ids), "date": int(time.time()),
                           "chat": {"id": chat, "type": "private"}, "text": params.get("text", "")}
        else:
            result = True
        return JSONResponse({"ok": True, "result": result})


def _decode(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return value
