"""Trades and cities in every spelling, and the unknown trade a short course request names."""

from __future__ import annotations

import pytest

from bot.nlp.filler import is_filler
from bot.nlp.languages import LANGUAGES
from bot.nlp.normalize import fold
from bot.nlp.vocabulary import Vocabulary
from bot.settings import REPO_ROOT

from .heldout import heldout

VOCABULARY = Vocabulary.from_nlu_data(REPO_ROOT / "nlu_data")


@pytest.mark.parametrize(
    "message, trade",
    [
        # en
        ("pastry chef Tashkent", "pastry chef"),
        ("Tashkent pastry chef", "pastry chef"),
        ("jewellery courses in Osh?", "jewellery"),
        ("courses in Almaty", None),
        ("any free classes in Bishkek?", None),
        ("tailoring Tashkent", None),  # a known trade
        # ru
        ("ювелир Ташкент", "ювелир"),
        ("курсы фотографа в Алматы", "фотографа"),
        ("курсы в Ташкенте", None),
        ("какие курсы есть в Оше?", None),
        ("кондитер Алматыда", None),  # baking, known by its stem
        # uz
        ("zargarlik Toshkentda", "zargarlik"),
        ("zargarlik Farg'onada", "zargarlik"),
        ("Toshkentda qanday kurslar bor?", None),
        ("Namanganda kurs bormikan", None),
        ("sartaroshlik Samarqand", None),
        # uz-Cyrl
        ("заргарлик Тошкентда", "заргарлик"),
        ("Тошкентда қандай курслар бор?", None),
        ("Бухорода курслар борми", None),
        # kk
        ("зергер Алматыда", "зергер"),
        ("Алматыда қандай курстар бар?", None),
        ("сәлем, Шымкентте курс бар ма", None),
        # ky
        ("зергер Бишкекте", "зергер"),
        ("Бишкекте кандай курстар бар?", None),
        ("Ош шаарында курс барбы", None),
        # tg
        ("заргарӣ дар Душанбе", "заргарӣ"),
        ("дар Душанбе кадом курсҳо ҳаст?", None),
        ("салом, дар Хуҷанд курс ҳаст?", None),
        # not a short request naming a city
        ("pastry chef", None),
        ("I would like to learn pastry in Tashkent please", None),
        ("passport Tashkent", None),  # a document, not a trade
        ("курсы 2025 Ташкент", None),
    ],
)
def test_unknown_trade_is_what_a_short_request_names_besides_its_city(message: str, trade: str | None) -> None:
    assert VOCABULARY.unknown_trade(message) == trade


@pytest.mark.parametrize("language", LANGUAGES)
def test_heldout_city_only_requests_name_no_trade_and_unknown_trades_are_caught(language: str) -> None:
    """Held-out course requests (tests/data/heldout): each names a known city and no known trade."""
    city_only, unknown = heldout(language, "course_city_only"), heldout(language, "course_unknown_trade")
    for message in city_only + unknown:
        assert VOCABULARY.find("city", message) and not VOCABULARY.find("trade", message), message
    assert [m for m in city_only if VOCABULARY.unknown_trade(m) is not None] == []
    assert [m for m in unknown if VOCABULARY.unknown_trade(m) is None] == []


@pytest.mark.parametrize(
    "word, filler",
    [("курсы", True), ("kurslari", True), ("o'qish", True), ("kasb-hunar", True), ("что-то", True),
     ("ҳаст", True), ("хаст", True), ("zargarlik", False), ("pastry", False), ("суратгир", False)],
)
def test_filler_words_in_any_language_and_spelling(word: str, filler: bool) -> None:
    assert is_filler(fold(word)) is filler
