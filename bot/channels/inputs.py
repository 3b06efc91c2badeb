"""What a provider's webhook may store: checked before the database sees it.

PostgreSQL refuses NUL characters in text and values longer than a column; no database can
store a lone surrogate. Whatever a webhook receives is made storable here, or refused.
"""

from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import InstrumentedAttribute

from bot.db.models import InboundMessage, OutboundMessage


def column_length(column: InstrumentedAttribute[str] | InstrumentedAttribute[str | None]) -> int:
    """The length of a String column."""
    kind = column.property.columns[0].type
    assert isinstance(kind, String) and kind.length is not None
    return kind.length


MAX_ADDRESS = column_length(InboundMessage.address)
MAX_PROVIDER_ID = column_length(InboundMessage.provider_id)
MAX_ERROR_CODE = column_length(OutboundMessage.error_code)
#: Database ids (button payloads) are 32-bit integers on PostgreSQL.
MAX_ID = 2**31 - 1


def clean_text(text: str) -> str:
    """`text` without NUL characters, and with any lone surrogate replaced (storable everywhere)."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def is_identifier(value: str, max_length: int) -> bool:
    """True if `value` can be stored as an id or address: 1 to `max_length` printable ASCII characters."""
    return 0 < len(value) <= max_length and value.isascii() and value.isprintable()


def database_id(text: str) -> int | None:
    """`text` as a row id if it is ASCII digits of a positive 32-bit integer, else None."""
    if not (0 < len(text) <= 10 and text.isascii() and text.isdecimal()):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None
