"""The classifier's script-neutral spelling: each pair is one message written two ways."""

import pytest

from bot.nlp.romanize import romanize


@pytest.mark.parametrize(
    "one_way, other_way",
    [
        ("Не могу спать", "ne mogu spat"),  # Russian, Cyrillic and transliterated
        ("хочу поговорить", "xochu pogovorit"),
        ("хочу", "khochu"),
        ("пожалуйста", "pozhaluysta"),
        ("щас", "schas"),
        ("Ўзимни ёмон ҳис қиляпман", "O'zimni yomon his qilyapman"),  # Uzbek Cyrillic / Latin
        ("oʻqish", "o‘qish"),
        ("ҷавоб", "javob"),  # Tajik
        ("Рақмет", "Ракмет"),  # Kazakh with and without its letters
        ("өтө жакшы", "ото жакшы"),  # Kyrgyz
        ("ссылка", "сылка"),  # doubled letters
        ("цон", "tson"),
    ],
)
def test_spellings_of_one_message_meet(one_way: str, other_way: str) -> None:
    assert romanize(one_way) == romanize(other_way)


@pytest.mark.parametrize(
    "one, other",
    [
        ("да", "нет"),
        ("11", "1"),  # digits are not letters: a repeated digit stays
        ("курс", "курсы"),
    ],
)
def test_different_words_stay_apart(one: str, other: str) -> None:
    assert romanize(one) != romanize(other)


def test_output_is_lower_case_latin_without_apostrophes() -> None:
    skeleton = romanize("Ассалому алайкум, O‘ZBEKISTON! Қалайсыз? ҚАЛАЙСЫЗ")
    assert skeleton == "asalomu alaykum, ozbekiston! kalaysyz? kalaysyz"
