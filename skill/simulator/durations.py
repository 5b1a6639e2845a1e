"""Spoken durations to ISO-8601, as ``AMAZON.DURATION`` would resolve them.

"two minutes" -> ``PT2M``; "ninety seconds" -> ``PT90S``; "a minute and a half" -> ``PT1M30S``;
「2分」 -> ``PT2M``; 「一分半」 -> ``PT1M30S``; 「90秒」 -> ``PT90S``.
"""

from __future__ import annotations

import re
import unicodedata

_EN_UNITS = {
    "zero": 0, "one": 1, "a": 1, "an": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
}
_JA_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600}


def _en_number(words: list[str]) -> int | None:
    """'twenty five' -> 25; '90' -> 90; 'a' -> 1."""
    if len(words) == 1 and words[0].isdigit():
        return int(words[0])
    total = 0
    for word in words:
        if word not in _EN_UNITS:
            return None
        value = _EN_UNITS[word]
        total = total * value if value == 100 else total + value
    return total if words else None


def _ja_number(text: str) -> int | None:
    """'2' / '十五' / '二十' / '九十' -> int."""
    if text.isdigit():
        return int(text)
    if not text or any(ch not in _JA_DIGITS and ch != "十" for ch in text):
        return None
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_JA_DIGITS[tens] if tens else 1) * 10 + (_JA_DIGITS[ones] if ones else 0)
    value = 0
    for ch in text:
        value = value * 10 + _JA_DIGITS[ch]
    return value


def _iso(seconds: int) -> str | None:
    if seconds <= 0:
        return None
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    out = "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return out + (f"{secs}S" if secs else "")


def parse_duration(text: str, locale: str) -> str | None:
    """The ISO-8601 duration ``text`` names, or ``None`` if it names none."""
    text = unicodedata.normalize("NFKC", text).strip().lower()
    if locale.startswith("ja"):
        match = re.fullmatch(r"(\S+?)(時間|分|秒)(半)?(間)?", text.replace(" ", ""))
        if not match:
            return None
        number = _ja_number(match.group(1))
        if number is None:
            return None
        unit = {"時間": 3600, "分": 60, "秒": 1}[match.group(2)]
        return _iso(number * unit + (unit // 2 if match.group(3) else 0))
    text = text.replace("-", " ")
    match = re.fullmatch(r"(.+?) (second|minute|hour)s?( and a half)?( long)?", text)
    if not match:
        return None
    number = _en_number(match.group(1).split())
    if number is None:
        return None
    unit = _UNIT_SECONDS[match.group(2)]
    return _iso(number * unit + (unit // 2 if match.group(3) else 0))
