"""The app server as the engine uses it: actions (`/webhook`) and replies (`/nlg`), over real HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bot.responses.catalog import Catalog

from .conftest import INTERNAL_TOKEN

CATALOG = Catalog.load("uz")
TOKEN = {"X-Hamroh-Token": INTERNAL_TOKEN}


def tracker(
    slots: dict[str, Any] | None = None,
    detected: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    intent: str = "greet",
) -> dict[str, Any]:
    latest = {"text": "…", "intent": {"name": intent, "confidence": 0.9}, "entities": entities or []}
    if detected:
        latest["language"] = detected
    return {
        "sender_id": "pseudonym",
        "slots": {"language": None, "channel": None, **(slots or {})},
        "latest_message": latest,
        "events": [{"event": "user", "text": "…", "parse_data": latest, "metadata": metadata or {}}],
        "paused": False,
        "followup_action": None,
        "active_loop": {},
        "latest_action_name": "action_listen",
    }


def call_action(app_url: str, name: str, state: dict[str, Any]) -> httpx.Response:
    body = {"next_action": name, "sender_id": "pseudonym", "tracker": state, "domain": {}, "version": "3.6.21"}
    return httpx.post(f"{app_url}/webhook", json=body, headers=TOKEN)


@pytest.mark.parametrize(
    "state, expected_events",
    [
        # first message, detected language taken; channel from metadata
        (tracker(detected={"name": "kk", "confidence": 0.9, "words": 3}, metadata={"channel": "sms"}),
         [{"event": "slot", "name": "language", "value": "kk"}, {"event": "slot", "name": "channel", "value": "sms"}]),
        # the channel's hint fills an empty language even when detection is unsure
        (tracker(detected={"name": "tg", "confidence": 0.3, "words": 1}, metadata={"language_hint": "ru"}),
         [{"event": "slot", "name": "language", "value": "ru"}]),
        # "ok" does not flip Russian to English
        (tracker(slots={"language": "ru"}, detected={"name": "en", "confidence": 0.99, "words": 1}), []),
        # several confident words do
        (tracker(slots={"language": "ru"}, detected={"name": "ky", "confidence": 0.97, "words": 5}),
         [{"event": "slot", "name": "language", "value": "ky"}]),
        # the language menu
        (tracker(slots={"language": "ru"}, entities=[{"entity": "language", "value": "tg"}], intent="change_language"),
         [{"event": "slot", "name": "language", "value": "tg"}]),
    ],
)
def test_track_conversation(app_url: str, state: dict[str, Any], expected_events: list[dict[str, Any]]) -> None:
    response = call_action(app_url, "action_track_conversation", state)
    assert response.status_code == 200
    events = [{k: e[k] for k in ("event", "name", "value")} for e in response.json()["events"]]
    assert events == expected_events


@pytest.mark.parametrize(
    "entities, expected",
    [([{"entity": "language", "value": "ky"}], "utter_language_changed"), ([], "utter_choose_language")],
)
def test_change_language(app_url: str, entities: list[dict[str, Any]], expected: str) -> None:
    response = call_action(app_url, "action_change_language", tracker(entities=entities, intent="change_language"))
    assert response.status_code == 200
    assert [r["response"] for r in response.json()["responses"]] == [expected]


def nlg(app_url: str, response: str, slots: dict[str, Any]) -> httpx.Response:
    body = {"response": response, "arguments": {}, "tracker": {"slots": slots}, "channel": {"name": "rest"}}
    return httpx.post(f"{app_url}/nlg", json=body, headers=TOKEN)


def test_nlg_renders_in_the_conversation_language_and_channel(app_url: str) -> None:
    telegram = nlg(app_url, "utter_greet", {"language": "uz-Cyrl", "channel": "telegram"}).json()
    assert telegram["text"] == CATALOG.render("utter_greet", "uz-Cyrl").text
    assert len(telegram["buttons"]) == 6
    assert telegram["custom"] == {"language": "uz-Cyrl"}
    sms = nlg(app_url, "utter_greet", {"language": "kk", "channel": "sms"}).json()
    assert sms["text"] == CATALOG.render("utter_greet", "kk", "sms").text != CATALOG.render("utter_greet", "kk").text


def test_nlg_crisis_reply_lists_the_configured_sample_contacts(app_url: str) -> None:
    reply = nlg(app_url, "utter_crisis", {"language": "tg"}).json()
    assert "SAMPLE crisis line TJ" in reply["text"]
    assert "{contacts}" not in reply["text"]


def test_nlg_without_language_uses_the_default(app_url: str) -> None:
    assert nlg(app_url, "utter_thanks", {}).json()["text"] == CATALOG.render("utter_thanks", "uz").text


@pytest.mark.parametrize(
    "path, content, status",
    [
        ("/nlg", b"{not json", 400),
        ("/nlg", b"[1, 2]", 400),
        ("/nlg", b'{"response": "utter_nope", "tracker": {"slots": {}}}', 404),
        ("/webhook", b"{not json", 400),
        ("/webhook", b'{"next_action": "action_nope", "tracker": {"sender_id": "x", "events": []}, "domain": {}}', 404),
    ],
)
def test_bad_requests_get_clear_errors(app_url: str, path: str, content: bytes, status: int) -> None:
    response = httpx.post(f"{app_url}{path}", content=content, headers={"Content-Type": "application/json", **TOKEN})
    assert response.status_code == status
    assert "error" in response.json()
