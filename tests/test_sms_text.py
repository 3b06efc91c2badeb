import pytest

from bot.channels.keywords import asks_opt_in, keyword_of
from bot.channels.sms_text import MAX_BODY, is_gsm7, segments, sms_safe, split_body


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Salom! O'zbek tilida", 1),
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("Привет", 1),
        ("П" * 70, 1),
        ("П" * 71, 2),
        ("O‘zbek", 1),  # ‘ forces UCS-2: still one segment, but 70 characters at most
        ("€" * 80, 1),  # extension characters count twice
        ("€" * 81, 2),
    ],
)
def test_segments(text: str, expected: int) -> None:
    assert segments(text) == expected


def test_sms_safe_keeps_uzbek_in_gsm7() -> None:
    assert not is_gsm7("Oʻzbek gʻalla")
    assert sms_safe("Oʻzbek gʻalla o‘qish") == "O'zbek g'alla o'qish"
    assert is_gsm7(sms_safe("Oʻzbek gʻalla o‘qish"))


def test_split_body_at_lines_and_never_over_the_limit() -> None:
    text = "\n".join(f"line {n} " + "x" * 300 for n in range(10))
    parts = split_body(text)
    assert all(len(part) <= MAX_BODY for part in parts)
    assert "\n".join(parts) == text
    long_line = "word " * 500
    assert all(len(part) <= MAX_BODY for part in split_body(long_line))
    assert split_body("short") == ["short"]


@pytest.mark.parametrize(
    "text, language, expected",
    [
        # carrier words act in any conversation, even before its language is known
        ("STOP", None, ("opt_out", None)), ("стоп", "kk", ("opt_out", None)), ("START", "uz", ("opt_in", None)),
        ("старт", None, ("opt_in", None)), ("Unsubscribe.", "ru", ("opt_out", None)),
        # a language's own words, read in that language
        ("TO'XTAT", "uz", ("opt_out", "uz")), ("toʻxtat", None, ("opt_out", "uz")), ("TOXTAT", "uz", ("opt_out", "uz")),
        ("ТЎХТАТ", "uz-Cyrl", ("opt_out", "uz-Cyrl")), ("ТОҚТАТ", "kk", ("opt_out", "kk")),
        ("ТОКТОТ", "ky", ("opt_out", "ky")), ("бас кунед", "tg", ("opt_out", "tg")),
        ("баста", "kk", ("opt_in", "kk")),
        # "баста" is Russian for "enough": never a START in a Russian conversation
        ("баста", "ru", None), ("baста", "ru", None), ("баста", None, None),  # unknown language: not assumed
        ("toktat", "kk", ("opt_out", "kk")), ("отписка", "tg", ("opt_out", "tg")), ("оғоз", "tg", ("opt_in", "tg")),
        # "хватит" (enough) and "бас" (enough) are no carrier words: the engine asks what is meant
        ("хватит", "ru", None), ("бас", "tg", None), ("bas", "uz", None),
        ("stop sending the course info", "en", None), ("Salom", "uz", None), ("", None, None),
    ],
)
def test_keywords(text: str, language: str | None, expected: tuple[str, str | None] | None) -> None:
    found = keyword_of(text, language)
    assert (None if found is None else (found.kind, found.language)) == expected


@pytest.mark.parametrize(
    "text, channel, opted_out, expected",
    [("CANCEL", "sms", False, "opt_out"), ("cancel", "telegram", False, None),  # Twilio blocks on it by SMS
     ("Yes", "sms", True, "opt_in"), ("yes", "sms", False, None), ("yes", "telegram", True, None)],
)
def test_twilio_keywords_count_by_sms_only(text: str, channel: str, opted_out: bool, expected: str | None) -> None:
    found = keyword_of(text, "en", channel, opted_out)
    assert (found.kind if found else None) == expected


@pytest.mark.parametrize(
    "text, language, expected",
    [("START please", "en", True), ("please start again", None, True), ("qayta obuna iltimos", "uz", True),
     ("kursni boshlash qachon", "uz", False), ("баста", "ru", False),
     ("I want to start a welding course in Tashkent next month please", "en", False),
     ("stop", None, False), ("хочу снова получать сообщения", "ru", False)],
)
def test_opt_in_inside_a_short_sentence(text: str, language: str | None, expected: bool) -> None:
    assert asks_opt_in(text, language) is expected
