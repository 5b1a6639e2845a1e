"""How long speech takes: a per-locale speaking rate, calibrated on real synthesized speech.

The rate is *characters per second of speech*, counting letters and digits for English and kana,
kanji and digits for Japanese (spaces and punctuation do not take time in proportion; each
sentence boundary adds a short fixed pause instead). ``calibration.yaml`` beside this file records
the rates, the clips they were measured on, and when; ``python -m skill bench timing --calibrate``
re-measures them from the committed audio (script text against the ``ffprobe``-checked duration in
``audio/manifest.json``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

CALIBRATION_FILE = Path(__file__).with_name("calibration.yaml")
_EN_COUNTED = re.compile(r"[A-Za-z0-9]")
_JA_COUNTED = re.compile(r"[\u3040-\u30ff\u4e00-\u9fffA-Za-z0-9ー]")
_SENTENCE_END = re.compile(r"[.!?。！？]+")


@dataclass(frozen=True)
class SpeakingRate:
    """Counted characters per second, plus the pause each sentence end adds."""

    locale: str
    chars_per_second: float
    sentence_pause_ms: int


def counted_chars(text: str, locale: str) -> int:
    """The characters that take speaking time in ``text``."""
    pattern = _JA_COUNTED if locale.startswith("ja") else _EN_COUNTED
    return len(pattern.findall(text))


def sentences(text: str) -> int:
    """Sentence count (at least one for non-empty text)."""
    return max(1, len(_SENTENCE_END.findall(text))) if text.strip() else 0


@cache
def load_rate(locale: str) -> SpeakingRate:
    """The calibrated rate for ``locale`` (by language when the exact locale is absent).

    :raises KeyError: if the calibration file has no entry for the language.
    """
    data = yaml.safe_load(CALIBRATION_FILE.read_text(encoding="utf-8"))
    rates = data["rates"]
    entry = rates.get(locale) or next(
        (v for k, v in rates.items() if k.split("-")[0] == locale.split("-")[0]), None
    )
    if entry is None:
        raise KeyError(f"no speaking rate calibrated for {locale!r}")
    return SpeakingRate(locale, float(entry["chars_per_second"]), int(entry["sentence_pause_ms"]))


def estimate_ms(text: str, rate: SpeakingRate) -> int:
    """Estimated speaking time of ``text`` in milliseconds."""
    chars = counted_chars(text, rate.locale)
    return round(chars / rate.chars_per_second * 1000) + sentences(text) * rate.sentence_pause_ms
