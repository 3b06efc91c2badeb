"""The console's catalogs: every text of the pages translated in every language, placeholders kept."""

from __future__ import annotations

import re

import pytest
from babel.messages.pofile import read_po

from bot.console.i18n import LOCALES_DIR, translations

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _texts(language: str) -> list[tuple[str, str]]:
    with (LOCALES_DIR / f"{language}.po").open("rb") as po:
        catalog = read_po(po)
    pairs = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        pairs += [(ids[min(index, len(ids) - 1)], string) for index, string in enumerate(strings)]
    return pairs


@pytest.mark.parametrize("language", ["ru", "uz", "uz-Cyrl", "kk", "ky", "tg"])
def test_every_console_text_is_translated_with_its_placeholders(language: str) -> None:
    with (LOCALES_DIR / "messages.pot").open("rb") as pot:
        wanted = {message.id if isinstance(message.id, str) else message.id[0] for message in read_po(pot)
                  if message.id}
    pairs = _texts(language)
    assert wanted <= {source for source, _ in pairs}, "run `make console-messages`"
    for source, translated in pairs:
        assert translated, f"{language}: not translated: {source!r}"
        assert sorted(PLACEHOLDER.findall(source)) == sorted(PLACEHOLDER.findall(translated)), (language, source)
    assert translations(language).gettext("Sign in") != "Sign in"
