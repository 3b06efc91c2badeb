"""A fake Twilio REST API (Messages): records every message, lists the accepted ones, can refuse the next one."""

from __future__ import annotations

import itertools
import time
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


class FakeTwilio:
    def __init__(self) -> None:
        self.messages: list[dict[str, str]] = []
        self.errors: list[int] = []
        self.times: list[float] = []  # when each message arrived (time.monotonic)
        self._ids = itertools.count(1)
        self.app = Starlette(routes=[
            Route("/2010-04-01/Accounts/{sid}/Messages.json", self.create, methods=["POST"]),
            Route("/2010-04-01/Accounts/{sid}/Messages.json", self.list, methods=["GET"]),
        ])
        self.accepted: list[dict[str, Any]] = []

    async def create(self, request: Request) -> JSONResponse:
        form = {key: str(value) for key, value in (await request.form()).items()}
        self.messages.append(form)
        self.times.append(time.monotonic())
        if self.errors:
            code = self.errors.pop(0)
            return JSONResponse({"code": code, "message": f"error {code}", "status": 400}, status_code=400)
        body: dict[str, Any] = {
            "sid": f"SM{next(self._ids):032d}", "status": "queued", "to": form.get("To"), "from": form.get("From"),
            "body": form.get("Body"), "account_sid": request.path_params["sid"], "num_segments": "1",
            "date_created": format_datetime(datetime.now(timezone.utc), usegmt=True), "date_sent": None,
        }
        self.accepted.append(body)
        return JSONResponse(body, status_code=201)

    async def list(self, request: Request) -> JSONResponse:
        """The message log, newest first, filtered by To and From (as Twilio's list API)."""
        query = request.query_params
        size = int(query.get("PageSize", "50"))
        found = [message for message in reversed(self.accepted)
                 if message["to"] == query.get("To", message["to"])
                 and message["from"] == query.get("From", message["from"])]
        return JSONResponse({"messages": found[:size], "next_page_uri": None, "page": 0, "page_size": size,
                             "uri": request.url.path})
