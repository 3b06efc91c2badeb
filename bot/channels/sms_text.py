"""SMS text: GSM-7 or UCS-2 segments, Uzbek apostrophes, and splitting long replies."""

from __future__ import annotations

import math

_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€")  # two septets each
#: Twilio refuses bodies longer than this.
MAX_BODY = 1600
#: Apostrophe look-alikes that would force UCS-2 (and halve the segment size) in Latin Uzbek.
_APOSTROPHES = str.maketrans({"ʻ": "'", "ʼ": "'", "‘": "'", "’": "'", "`": "'"})


def sms_safe(text: str) -> str:
    """Plain apostrophes, so Latin Uzbek stays in GSM-7."""
    return text.translate(_APOSTROPHES)


def is_gsm7(text: str) -> bool:
    """True if every character fits the GSM-7 alphabet (with its extension table)."""
    return all(char in _GSM7 or char in _GSM7_EXTENDED for char in text)


def segments(text: str) -> int:
    """How many SMS segments `text` takes (153/67 per part once concatenated)."""
    if is_gsm7(text):
        length = sum(2 if char in _GSM7_EXTENDED else 1 for char in text)
        return 1 if length <= 160 else math.ceil(length / 153)
    length = sum(2 if ord(char) > 0xFFFF else 1 for char in text)
    return 1 if length <= 70 else math.ceil(length / 67)


def split_body(text: str, limit: int = MAX_BODY) -> list[str]:
    """Split at line boundaries (or spaces) into bodies of at most `limit` characters."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        while len(line) > limit:
            cut = line.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            parts.append(line[:cut])
            line = line[cut:].lstrip()
        current = line
    if current:
        parts.append(current)
    return parts
