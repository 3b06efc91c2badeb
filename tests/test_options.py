import pytest

from bot.channels.options import chosen_payload, numbered_options

MENU = [{"title": "Confirm", "payload": "/confirm_appointment"}, {"title": "Cancel", "payload": "/cancel"}]


def test_numbered_options() -> None:
    assert numbered_options(MENU) == "1 Confirm\n2 Cancel"


@pytest.mark.parametrize(
    "answer, expected",
    [("1", "/confirm_appointment"), (" 2 ", "/cancel"), ("3", None), ("0", None), ("one", None), ("", None)],
)
def test_chosen_payload(answer: str, expected: str | None) -> None:
    assert chosen_payload(answer, MENU) == expected
