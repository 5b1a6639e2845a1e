"""Spoken durations to ISO-8601, as AMAZON.DURATION resolves them."""

from __future__ import annotations

import pytest

from skill.simulator.durations import parse_duration


@pytest.mark.parametrize(("text", "locale", "iso"), [
    ("two minutes", "en-US", "PT2M"),
    ("two minute", "en-US", "PT2M"),
    ("a minute", "en-US", "PT1M"),
    ("ninety seconds", "en-US", "PT1M30S"),
    ("a minute and a half", "en-US", "PT1M30S"),
    ("twenty five minutes", "en-US", "PT25M"),
    ("10 minutes", "en-US", "PT10M"),
    ("one hour", "en-US", "PT1H"),
    ("2分", "ja-JP", "PT2M"),
    ("２分", "ja-JP", "PT2M"),
    ("二分", "ja-JP", "PT2M"),
    ("一分半", "ja-JP", "PT1M30S"),
    ("90秒", "ja-JP", "PT1M30S"),
    ("十分間", "ja-JP", "PT10M"),
])
def test_parses(text: str, locale: str, iso: str) -> None:
    """If a duration is spoken, then its ISO-8601 form comes back."""
    assert parse_duration(text, locale) == iso


@pytest.mark.parametrize(("text", "locale"), [
    ("soon", "en-US"), ("zero minutes", "en-US"), ("blue minutes", "en-US"),
    ("すぐ", "ja-JP"), ("0分", "ja-JP"), ("", "en-US"),
])
def test_rejects(text: str, locale: str) -> None:
    """If the words name no positive duration, then None comes back."""
    assert parse_duration(text, locale) is None
