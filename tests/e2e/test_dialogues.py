"""Every conversation of `tests/conversations/` through the real webhooks, app and engine."""

from __future__ import annotations

import pytest

from bot.responses.catalog import Catalog

from .conftest import CHANNEL_ENV, Fakes, Services
from .dialogue import Conversation, Runner, load

pytestmark = pytest.mark.e2e
CONVERSATIONS = load()


@pytest.fixture(scope="module")
def runner(services: Services, fakes: Fakes) -> Runner:
    return Runner(services.settings.app_url, services.database, fakes, Catalog.load("uz"), CHANNEL_ENV)


def test_every_language_and_both_channels_are_covered() -> None:
    assert {c.language for c in CONVERSATIONS} == {"en", "ru", "uz", "uz-Cyrl", "kk", "ky", "tg"}
    assert {c.channel for c in CONVERSATIONS} == {"telegram", "sms"}


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=[c.id for c in CONVERSATIONS])
def test_conversation(runner: Runner, conversation: Conversation) -> None:
    outcome = runner.run(conversation)
    assert outcome.failures == [] and outcome.met > 0
