"""Which replies carry buttons, and what each button sends back to the engine."""

from __future__ import annotations

import json

from bot.nlp.languages import ENDONYMS, LANGUAGES

#: Main menu: (button key in the catalog's `buttons:`, payload the engine receives).
MAIN_MENU = [
    ("appointments", "/ask_appointments"),
    ("courses", "/ask_courses"),
    ("support", "/request_psych_support"),
    ("documents", "/check_document_status"),
    ("human", "/talk_to_human"),
    ("language", "/change_language"),
]

RESPONSE_BUTTONS = {
    "utter_greet": MAIN_MENU,
    "utter_help": MAIN_MENU,
    "utter_clarify": MAIN_MENU,
    "utter_crisis": [("human", "/talk_to_human")],
    "utter_flow_answer_no": [("human", "/talk_to_human")],
    "utter_wellbeing_low": [("support", "/request_psych_support"), ("human", "/talk_to_human")],
    "utter_distress": [("support", "/request_psych_support"), ("human", "/talk_to_human")],
    "utter_deny_gentle": [("support", "/request_psych_support"), ("human", "/talk_to_human")],
    "utter_family_cannot_change": [("human", "/talk_to_human")],
}


def payload(intent: str, **entities: object) -> str:
    """A button payload that sends `intent` with entities back to the engine."""
    return f"/{intent}{json.dumps({k: str(v) for k, v in entities.items()})}" if entities else f"/{intent}"


def language_buttons() -> list[dict[str, str]]:
    """The language menu: each language under its own name."""
    return [
        {"title": ENDONYMS[tag], "payload": "/change_language" + json.dumps({"language": tag})}
        for tag in LANGUAGES
    ]
