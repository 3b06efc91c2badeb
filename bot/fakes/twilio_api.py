"""A fake Twilio REST API (Messages): records every message; can refuse the next one with an error code."""

from __future__ import annotations

import itertools
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


class FakeTwilio:
    def __init__(self) -> None:
        self.messages: list[dict[str, str]] = []
        self.errors: list[int] = []
        self._ids = itertools.count(1)
        self.app = Starlette(routes=[
            Route("/2010-04-01/Accounts/{sid}/Messages.json", self.create, methods=["POST"]),
        ])

    async def create(self, request: Request) -> JSONResponse:
        form = {key: str(value) for key, value in (await request.form()).items()}
        self.messages.append(form)
        if self.errors:
            code = self.errors.pop(0)
            return JSONResponse({"code": code, "message": f"error {code}", "status": 400}, status_code=400)
        body: dict[str, Any] = {
            "sid": f"SM{next(self._ids):032d}", "status": "queued", "to": form.get("To"), "from": form.get("From"),
            "body": form.get("Body"), "account_sid": request.path_params["sid"], "num_segments": "1",
        }
        return JSONResponse(body, status_code=201)
