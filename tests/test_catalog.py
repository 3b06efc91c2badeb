"""The reply catalog: every reply in all seven languages, same structure, SMS-sized variants."""

from __future__ import annotations

import re
import string

import pytest

from bot.actions.courses import QUOTED
from bot.channels.sms import SmsSender
from bot.channels.sms_text import segments, sms_safe
from bot.nlp.languages import LANGUAGES, dominant_script
from bot.responses.catalog import Catalog, CatalogError
from bot.responses.menus import RESPONSE_BUTTONS

CATALOG = Catalog.load("en")
ENGLISH = CATALOG.languages["en"]
DOMAIN_RESPONSES = set(
    re.findall(r"^\s+- (utter_\w+)", (CATALOG_DOMAIN := open("engine/domain.yml", encoding="utf-8").read()), re.M)
)


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_catalog_has_every_reply_the_engine_uses() -> None:
    assert set(LANGUAGES) == set(CATALOG.languages)
    assert DOMAIN_RESPONSES <= CATALOG.names(), DOMAIN_RESPONSES - CATALOG.names()
    assert set(RESPONSE_BUTTONS) <= CATALOG.names()


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_has_the_same_replies_buttons_and_placeholders(language: str) -> None:
    entries = CATALOG.languages[language]
    assert set(entries["buttons"]) == set(ENGLISH["buttons"])
    assert set(entries["responses"]) == set(ENGLISH["responses"])
    for name, english in ENGLISH["responses"].items():
        entry = entries["responses"][name]
        assert set(entry) == set(english), name
        for variant in entry:
            assert entry[variant].strip(), f"{name}.{variant} is empty"
            assert placeholders(entry[variant]) == placeholders(english[variant]), f"{name}.{variant}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_sms_variants_fit_one_or_two_segments(language: str) -> None:
    for name, entry in CATALOG.languages[language]["responses"].items():
        if "sms" not in entry:
            continue
        text = entry["sms"].replace("{contacts}", "")
        limit = 130 if dominant_script(text) == "Cyrillic" else 140
        assert len(text) <= limit, f"{language} {name}: {len(text)} characters"
        assert segments(sms_safe(text)) <= 2, f"{language} {name}: more than two SMS segments as sent"


#: Replies whose SMS length depends on the data put into them (lists, details, contacts).
VARIABLE = {"utter_appointments_list", "utter_courses_found", "utter_course_details", "utter_documents_status",
            "utter_crisis", "utter_appointment_which", "utter_choose_slot", "utter_choose_language"}
SAMPLE_VALUES = {"when": "12.12 10:00", "opens": "09:00", "closes": "18:00"}


@pytest.mark.parametrize("language", LANGUAGES)
def test_sms_replies_as_sent_with_their_numbered_options_fit_two_segments(language: str) -> None:
    """Cyrillic SMS go as UCS-2: 70 characters in one segment, 134 in two (67 each)."""
    too_long = []
    for name in CATALOG.languages[language]["responses"]:
        if name in VARIABLE:
            continue
        values = {key: SAMPLE_VALUES.get(key, "x") for key in re.findall(r"\{(\w+)\}", str(
            CATALOG.languages[language]["responses"][name]))}
        reply = CATALOG.render(name, language, "sms", values)
        sent = SmsSender.parts(reply.text, reply.buttons)
        if sum(segments(part) for part in sent) > 2:
            too_long.append((name, sum(segments(part) for part in sent)))
    assert too_long == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_unknown_trade_quoted_at_its_longest_fits_the_sms(language: str) -> None:
    """Worst case: a Cyrillic trade of `QUOTED` characters makes every language's SMS UCS-2."""
    trade = "ж" * QUOTED
    unknown = CATALOG.render("utter_courses_trade_unknown", language, "sms", {"trade": trade})
    assert sum(segments(part) for part in SmsSender.parts(unknown.text, unknown.buttons)) <= 2
    in_city = CATALOG.render("utter_courses_trade_unknown_city", language, "sms", {"trade": trade, "courses": ""})
    assert segments(sms_safe(in_city.text.strip())) == 1  # the course list follows this one-segment line
    for name in ("utter_courses_trade_unknown", "utter_courses_trade_unknown_city"):
        assert "sms" in CATALOG.languages[language]["responses"][name], name


def test_sms_buttons_are_short_forms_of_known_buttons() -> None:
    for language in LANGUAGES:
        short = CATALOG.languages[language].get("sms_buttons") or {}
        assert set(short) <= set(CATALOG.languages[language]["buttons"]), language


@pytest.mark.parametrize("language", LANGUAGES)
def test_replies_are_written_in_the_languages_script(language: str) -> None:
    expected = "Latin" if language in {"en", "uz"} else "Cyrillic"
    for name, entry in CATALOG.languages[language]["responses"].items():
        text = re.sub(r"\{\w+\}", "", entry["text"])
        assert dominant_script(text) == expected, f"{language} {name}"


def test_latin_uzbek_uses_the_plain_apostrophe() -> None:
    for entry in CATALOG.languages["uz"]["responses"].values():
        for text in entry.values():
            assert "ʻ" not in text and "‘" not in text and "’" not in text


def test_render_picks_language_channel_and_buttons() -> None:
    telegram = CATALOG.render("utter_help", "ky")
    assert telegram.text == CATALOG.languages["ky"]["responses"]["utter_help"]["text"]
    menu = [CATALOG.languages["ky"]["buttons"][key] for key, _ in RESPONSE_BUTTONS["utter_help"]]
    assert [b["title"] for b in telegram.buttons] == menu
    assert CATALOG.render("utter_help", "ky", "sms").text == CATALOG.languages["ky"]["responses"]["utter_help"]["sms"]
    # a reply without an SMS variant falls back to the full text
    assert CATALOG.render("utter_thanks", "ky", "sms").text == CATALOG.render("utter_thanks", "ky").text
    assert len(CATALOG.render("utter_choose_language", "ru").buttons) == 7


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_language_has_the_same_words(language: str) -> None:
    words = CATALOG.languages[language]["words"]
    for group, english in ENGLISH["words"].items():
        assert isinstance(words[group], type(english)), group
        if isinstance(english, dict):
            assert set(words[group]) == set(english), group


def test_render_adds_an_actions_buttons_by_key_word_or_title() -> None:
    reply = CATALOG.render(
        "utter_ask_cancel", "uz-Cyrl", values={"when": "05.12 10:00"},
        choices=[{"key": "yes", "payload": "/affirm"}, {"word": "urgency.today", "payload": "/x"},
                 {"title": "05.12 10:00", "payload": "/y"}],
    )
    cyrl = CATALOG.languages["uz-Cyrl"]
    assert "05.12 10:00" in reply.text
    assert [b["title"] for b in reply.buttons] == [cyrl["buttons"]["yes"], cyrl["words"]["urgency"]["today"],
                                                    "05.12 10:00"]
    with pytest.raises(CatalogError):
        CATALOG.render("utter_ask_cancel", "uz-Cyrl")  # {when} missing


def test_render_unknown_language_falls_back_and_unknown_reply_fails() -> None:
    assert CATALOG.render("utter_thanks", "fr").text == ENGLISH["responses"]["utter_thanks"]["text"]
    with pytest.raises(CatalogError):
        CATALOG.render("utter_nothing", "en")
