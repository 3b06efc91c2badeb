"""Rate limits for sending: at most `limit` messages reach the provider in any window of `period`
seconds.

A sliding-window log, not a token bucket: "30 messages per second" then holds for every
second-long window, which is what Telegram and Twilio count. A send is counted from the moment
it starts until `period` after it completes: its request reaches the provider somewhere in
between, so however slow or bunched the network is, no window at the provider sees more than
`limit` of them.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext

#: How often to look again while every counted send is still in flight.
POLL_SECONDS = 0.02


class _Send:
    """One counted send: in flight (`done` None) or completed at `done`."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done: float | None = None


class RateLimiter:
    """Makes senders wait for a free place in the window (shared by every task of a process)."""

    def __init__(self, limit: int, period: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("a rate limit needs limit >= 1 and period > 0")
        self.limit = limit
        self.period = period
        self.clock = clock
        self._sends: list[_Send] = []
        self._lock = asyncio.Lock()

    def delay(self) -> float:
        """Seconds until one more send may start (0 if now); records nothing."""
        now = self.clock()
        self._sends = [s for s in self._sends if s.done is None or s.done > now - self.period]
        if len(self._sends) < self.limit:
            return 0.0
        finished = [s.done for s in self._sends if s.done is not None]
        return min(finished) + self.period - now if finished else POLL_SECONDS

    @asynccontextmanager
    async def sending(self) -> AsyncIterator[None]:
        """Wait for a free place, then hold it while the provider call inside runs."""
        async with self._lock:
            while (pause := self.delay()) > 0:
                await asyncio.sleep(pause)
            send = _Send()
            self._sends.append(send)
        try:
            yield
        finally:
            send.done = self.clock()


def sending(limiter: RateLimiter | None) -> AbstractAsyncContextManager[None]:
    """`limiter.sending()`, or no limit at all."""
    return limiter.sending() if limiter is not None else nullcontext()


def per_second(rate: float) -> RateLimiter:
    """A limiter for `rate` messages per second (e.g. 0.5 means one every two seconds)."""
    if rate >= 1:
        return RateLimiter(int(rate), 1.0)
    return RateLimiter(1, 1.0 / rate)


class PerAddressLimits:
    """One limiter per recipient (Telegram: one message per second per chat), the idle ones forgotten."""

    def __init__(self, limit: int, period: float, keep: int = 10_000) -> None:
        self.limit = limit
        self.period = period
        self.keep = keep
        self._limiters: OrderedDict[str, RateLimiter] = OrderedDict()

    def limiter(self, address: str) -> RateLimiter:
        """The limiter of `address` (made on first use)."""
        limiter = self._limiters.pop(address, None) or RateLimiter(self.limit, self.period)
        self._limiters[address] = limiter
        while len(self._limiters) > self.keep:
            self._limiters.popitem(last=False)
        return limiter
