import pytest

from bot.channels.keywords import keyword_of
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
    "text, expected",
    [
        ("STOP", ("opt_out", None)), ("стоп", ("opt_out", "ru")), ("TO'XTAT", ("opt_out", "uz")),
        ("toʻxtat", ("opt_out", "uz")), ("TOXTAT", ("opt_out", "uz")), ("ТЎХТАТ", ("opt_out", "uz-Cyrl")),
        ("ТОҚТАТ", ("opt_out", "kk")), ("ТОКТОТ", ("opt_out", "ky")), ("БАС", ("opt_out", "tg")),
        ("Unsubscribe.", ("opt_out", "en")), ("START", ("opt_in", None)), ("старт", ("opt_in", None)),
        ("stop sending the course info", None), ("Salom", None), ("", None),
    ],
)
def test_keywords(text: str, expected: tuple[str, str | None] | None) -> None:
    assert keyword_of(text) == expected
