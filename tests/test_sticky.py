import pytest

from bot.nlp.langid import Detection
from bot.nlp.sticky import choose_language

SURE = 0.99


@pytest.mark.parametrize(
    "current, detection, hint, explicit, expected",
    [
        # first message: the channel's hint wins over an unsure guess, else the guess
        (None, Detection("tg", 0.4, 1), "ru", None, "ru"),
        (None, Detection("kk", 0.4, 1), None, None, "kk"),
        # …but a confident first message over two or more words wins over the hint
        (None, Detection("kk", SURE, 2), "ru", None, "kk"),
        (None, Detection("uz-Cyrl", SURE, 4), "uz", None, "uz-Cyrl"),
        (None, Detection("en", SURE, 1), "ru", None, "ru"),  # "ok" from a Russian Telegram
        (None, None, "tg", None, "tg"),
        # short or unsure messages never flip a set language
        ("ru", Detection("en", SURE, 1), None, None, "ru"),  # "ok"
        ("uz", Detection("tg", 0.6, 1), None, None, "uz"),  # "салом"
        ("kk", Detection("ru", SURE, 1), None, None, "kk"),  # "да"
        ("en", Detection("uz", SURE, 2), None, None, "en"),  # two words are not enough
        ("en", Detection("uz", 0.5, 5), None, None, "en"),  # long but unsure
        # a confident detection over several words does
        ("ru", Detection("kk", SURE, 4), None, None, "kk"),
        # Uzbek changing script needs only two words
        ("uz", Detection("uz-Cyrl", SURE, 2), None, None, "uz-Cyrl"),
        ("uz-Cyrl", Detection("uz", SURE, 2), None, None, "uz"),
        # the language menu always wins; a hint never overrides a set language
        ("ru", Detection("ru", SURE, 5), None, "ky", "ky"),
        ("ru", Detection("ru", 0.3, 1), "tg", None, "ru"),
        # nothing to go on
        (None, None, None, None, None),
        ("tg", Detection("en", 0.0, 0), None, None, "tg"),
        # an unknown explicit tag is ignored
        ("ru", None, None, "fr", "ru"),
        # an explicit language (the record's, after a link) wins over a confident detection
        (None, Detection("ru", SURE, 6), "ru", "ky", "ky"),
    ],
)
def test_choose_language(current, detection, hint, explicit, expected) -> None:  # type: ignore[no-untyped-def]
    assert choose_language(current, detection, hint=hint, explicit=explicit) == expected
