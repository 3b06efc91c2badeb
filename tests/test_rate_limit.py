"""Sending limits: never more than `limit` messages reach the provider in any window of `period`."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from bot.channels.rate_limit import PerAddressLimits, RateLimiter, per_second, sending


class ManualClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_a_send_counts_from_its_start_until_a_period_after_it_completes() -> None:
    clock = ManualClock()
    limiter = RateLimiter(2, 1.0, clock)
    async with limiter.sending():
        assert limiter.delay() == 0  # one in flight, one place left
        async with limiter.sending():
            clock.now = 100.5
        assert limiter.delay() > 0  # both count: one in flight, one completed half a second ago
        clock.now = 103.0  # a slow provider call
    assert limiter.delay() == pytest.approx(0.0)  # the other completed at 100.5: long gone
    async with limiter.sending():
        pass
    assert limiter.delay() == pytest.approx(1.0)  # two completed at 103.0, the window is full


async def test_concurrent_senders_with_jittery_calls_never_arrive_over_the_limit() -> None:
    limiter = RateLimiter(3, 0.2)
    arrivals: list[float] = []
    rng = random.Random(3)

    async def send() -> None:
        async with limiter.sending():
            await asyncio.sleep(rng.uniform(0, 0.05))  # the request travels…
            arrivals.append(time.monotonic())  # …arrives at the provider…
            await asyncio.sleep(rng.uniform(0, 0.05))  # …and the answer travels back

    await asyncio.gather(*(send() for _ in range(12)))
    arrivals.sort()
    assert len(arrivals) == 12
    for first, fourth in zip(arrivals, arrivals[3:], strict=False):
        assert fourth - first >= 0.2 - 1e-3  # any 4 arrivals span at least one window


async def test_no_limiter_means_no_waiting() -> None:
    started = time.monotonic()
    for _ in range(100):
        async with sending(None):
            pass
    assert time.monotonic() - started < 0.1


def test_rates_below_one_per_second_space_the_messages_out() -> None:
    slow = per_second(0.5)
    assert (slow.limit, slow.period) == (1, 2.0)
    fast = per_second(30)
    assert (fast.limit, fast.period) == (30, 1.0)
    with pytest.raises(ValueError):
        RateLimiter(0, 1.0)


async def test_each_chat_has_its_own_limit_and_idle_chats_are_forgotten() -> None:
    limits = PerAddressLimits(1, 0.3, keep=2)
    started = time.monotonic()

    async def send(address: str) -> None:
        async with limits.limiter(address).sending():
            pass

    await asyncio.gather(send("a"), send("b"))
    assert time.monotonic() - started < 0.25  # two chats: no waiting
    await send("a")
    assert time.monotonic() - started >= 0.3 - 1e-3  # the same chat again: waits out its window
    await send("c")
    assert list(limits._limiters) == ["a", "c"]
