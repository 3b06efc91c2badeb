"""Two listeners in one server: the public one (channel webhooks) and the internal one (the engine's
action and reply endpoints).

One uvicorn server accepts on two sockets, so there is one event loop, one lifespan (the background
workers start once), one signal handler and one graceful shutdown. Each request is routed by the
port of the socket its connection arrived on (`scope["server"]`, taken from the socket, not from any
header a client sends); a connection whose local address is unknown gets the public app, so the
internal routes fail closed.
"""

from __future__ import annotations

import socket

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send


class ByListener:
    """ASGI app: requests on `internal_port` go to `internal`, all others (and the lifespan) to `public`."""

    def __init__(self, public: ASGIApp, internal: ASGIApp, internal_port: int) -> None:
        self.public = public
        self.internal = internal
        self.internal_port = internal_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        local = scope.get("server") if scope["type"] != "lifespan" else None
        internal = local is not None and local[1] == self.internal_port
        await (self.internal if internal else self.public)(scope, receive, send)


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host`:`port` (IPv4 or IPv6)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def server(app: ASGIApp) -> uvicorn.Server:
    """A uvicorn server for `app` that serves whatever sockets it is given (see `bind`)."""
    return uvicorn.Server(uvicorn.Config(app, log_level="warning", proxy_headers=False, server_header=False))
