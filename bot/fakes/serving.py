"""Serve an ASGI app with uvicorn on a loopback port, in a thread (fakes, tests, demos)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from bot.web.listeners import bind, server


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerThread:
    """An ASGI app served by uvicorn on a loopback port (and `internal_port`, for the app's two
    listeners), in a thread; a context manager."""

    def __init__(self, app: Callable[..., Any], port: int | None = None, internal_port: int | None = None) -> None:
        self.port = port or free_port()
        sockets = [bind("127.0.0.1", number) for number in (self.port, internal_port) if number]
        self.server = server(app)
        self.thread = threading.Thread(target=self.server.run, args=(sockets,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
