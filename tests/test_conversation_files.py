"""The conversation files are well formed: known languages, channels and reply names (no engine needed)."""

from __future__ import annotations

from bot.nlp.languages import LANGUAGES
from bot.responses.catalog import Catalog

from .e2e.dialogue import load

STATE_KEYS = {"appointments", "opted_out", "handoffs", "referrals", "attempts", "interests"}


def test_conversations_name_only_known_replies_languages_and_state() -> None:
    conversations = load()
    names = Catalog.load("en").names()
    assert len(conversations) >= 40
    for conversation in conversations:
        assert conversation.language in LANGUAGES and conversation.channel in {"telegram", "sms"}, conversation.id
        for turn in conversation.turns:
            assert (turn.say is None) != (turn.press is None), conversation.id
            assert {turn.reply, *turn.not_} - {None} <= names, conversation.id
            assert set(turn.state) <= STATE_KEYS, conversation.id
