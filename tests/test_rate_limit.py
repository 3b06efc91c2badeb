"""Sending limits: never more than `limit` messages in any window of `period` seconds."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.channels.rate_limit import PerAddressLimits, RateLimiter, per_second


class ManualClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_window_fills_then_frees_as_it_slides() -> None:
    clock = ManualClock()
    limiter = RateLimiter(2, 1.0, clock)
    assert limiter.delay() == 0
    limiter._sent.extend([100.0, 100.4])
    assert limiter.delay() == pytest.approx(1.0)
    clock.now = 100.7
    assert limiter.delay() == pytest.approx(0.3)
    clock.now = 101.0
    assert limiter.delay() == 0


async def test_concurrent_senders_never_exceed_the_limit_in_any_window() -> None:
    limiter = RateLimiter(3, 0.2)
    stamps: list[float] = []

    async def send() -> None:
        await limiter.wait()
        stamps.append(time.monotonic())

    await asyncio.gather(*(send() for _ in range(10)))
    stamps.sort()
    assert len(stamps) == 10
    for first, fourth in zip(stamps, stamps[3:], strict=False):
        assert fourth - first >= 0.2 - 1e-3  # any 4 consecutive sends span at least one window


def test_rates_below_one_per_second_space_the_messages_out() -> None:
    slow = per_second(0.5)
    assert (slow.limit, slow.period) == (1, pytest.approx(2.2))
    fast = per_second(30)
    assert (fast.limit, fast.period) == (30, pytest.approx(1.1))
    with pytest.raises(ValueError):
        RateLimiter(0, 1.0)


async def test_each_chat_has_its_own_limit_and_idle_chats_are_forgotten() -> None:
    limits = PerAddressLimits(1, 0.3, keep=2)
    started = time.monotonic()
    await asyncio.gather(limits.wait("a"), limits.wait("b"))
    assert time.monotonic() - started < 0.25  # two chats: no waiting
    await limits.wait("a")
    assert time.monotonic() - started >= 0.3 - 1e-3  # the same chat again: waits out its window
    await limits.wait("c")
    assert list(limits._limiters) == ["a", "c"]
