import pytest

from bot.nlp.normalize import CANONICAL_APOSTROPHE, fold, normalize_text, unify_apostrophes

A = CANONICAL_APOSTROPHE


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("o'zimni", f"o{A}zimni"),
        ("o`zimni", f"o{A}zimni"),
        ("o‘zimni", f"o{A}zimni"),
        ("o’zimni", f"o{A}zimni"),
        (f"o{A}zimni", f"o{A}zimni"),
        ("g'alla  ", f"g{A}alla"),
        ("'quoted'", "'quoted'"),  # apostrophes outside words stay
        ("салом   дўстим", "салом дўстим"),
        ("й", "й"),  # NFC: и + combining breve
    ],
)
def test_normalize_text(typed: str, expected: str) -> None:
    assert normalize_text(typed) == expected


def test_unify_apostrophes_keeps_length() -> None:
    text = "men o‘zbekman, g'ishtli"
    assert len(unify_apostrophes(text)) == len(text)
    assert "‘" not in unify_apostrophes(text) and "'" not in unify_apostrophes(text)


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("Өзімді ӨЛТІРЕМ", "озимди олтирем"),
        ("o‘zimni O'LDIRAMAN", "ozimni oldiraman"),
        ("Ҷонам ба лаб расид", "чонам ба лаб расид"),
        ("Ёлка", "елка"),
    ],
)
def test_fold(typed: str, expected: str) -> None:
    assert fold(typed) == expected
