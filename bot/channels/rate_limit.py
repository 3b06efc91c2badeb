"""Rate limits for sending: at most `limit` messages in any window of `period` seconds.

A sliding-window log, not a token bucket: "30 messages per second" then holds for every
second-long window, which is what Telegram and Twilio count.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class RateLimiter:
    """Waits until one more message fits in the window (shared by every task of a process)."""

    def __init__(self, limit: int, period: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("a rate limit needs limit >= 1 and period > 0")
        self.limit = limit
        self.period = period
        self.clock = clock
        self._sent: deque[float] = deque()
        self._lock = asyncio.Lock()

    def delay(self) -> float:
        """Seconds until one more message may go (0 if now); records nothing."""
        now = self.clock()
        while self._sent and self._sent[0] <= now - self.period:
            self._sent.popleft()
        if len(self._sent) < self.limit:
            return 0.0
        return self._sent[0] + self.period - now

    async def wait(self) -> None:
        """Wait for a free place in the window and take it."""
        async with self._lock:
            while (pause := self.delay()) > 0:
                await asyncio.sleep(pause)
            self._sent.append(self.clock())


#: Sends are counted when they leave; network jitter can bunch their arrival, so the window is
#: kept a little longer than the provider's.
MARGIN = 1.1


def per_second(rate: float) -> RateLimiter:
    """A limiter for `rate` messages per second (e.g. 0.5 means one every two seconds), with a margin."""
    if rate >= 1:
        return RateLimiter(int(rate), MARGIN)
    return RateLimiter(1, MARGIN / rate)


class PerAddressLimits:
    """One limiter per recipient (Telegram: one message per second per chat), the idle ones forgotten."""

    def __init__(self, limit: int, period: float, keep: int = 10_000) -> None:
        self.limit = limit
        self.period = period
        self.keep = keep
        self._limiters: OrderedDict[str, RateLimiter] = OrderedDict()

    async def wait(self, address: str) -> None:
        """Wait until `address` may get one more message."""
        limiter = self._limiters.pop(address, None) or RateLimiter(self.limit, self.period)
        self._limiters[address] = limiter
        while len(self._limiters) > self.keep:
            self._limiters.popitem(last=False)
        await limiter.wait()
