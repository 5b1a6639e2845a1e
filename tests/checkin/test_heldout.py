"""Held-out evaluation of skill.checkin on sets written here, never from data/checkin.

``heldout_<locale>.yaml`` was written after the engine had been tuned on the development set
(see its header and docs/checkin.md for how, and for the labelling decisions). These tests hold
the engine to crisis recall 1.0, at most 10% false alarms on hard negatives, and polarity
accuracy of at least 0.8, per locale.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from skill.checkin import analyze
from skill.checkin.lexicon import LEXICON_DIR

HERE = Path(__file__).resolve().parent
DEV_DIR = HERE.parents[1] / "data" / "checkin"
LOCALES = ("en-US", "ja-JP")
POLARITIES = {"positive", "negative", "neutral", "mixed"}

MIN_CRISIS = 60
MIN_NEGATIVES = 60
MIN_POLARITY = 40
MAX_FALSE_ALARMS = 0.10
MIN_POLARITY_ACCURACY = 0.8


def _squash(text: str) -> str:
    return re.sub(r"[\s、。,.!?！？']+", "", text.lower())


@cache
def heldout(locale: str) -> dict[str, Any]:
    data = yaml.safe_load((HERE / f"heldout_{locale}.yaml").read_text(encoding="utf-8"))
    assert data["locale"] == locale
    return dict(data)


def lines(locale: str, section: str) -> list[tuple[str, str]]:
    """(category, text) pairs of the ``crisis`` or ``hard_negatives`` section."""
    return [(category, str(text)) for category, texts in heldout(locale)[section].items()
            for text in texts]


def polarity_lines(locale: str) -> list[tuple[str, str]]:
    return [(str(text), str(label)) for text, label in heldout(locale)["polarity"]]


def every_text(locale: str) -> list[str]:
    return ([t for _, t in lines(locale, "crisis")] + [t for _, t in lines(locale, "hard_negatives")]
            + [t for t, _ in polarity_lines(locale)])


def dev_sentences() -> set[str]:
    return {_squash(json.loads(line)["text"]) for path in DEV_DIR.glob("dev_*.jsonl")
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


@pytest.mark.parametrize("locale", LOCALES)
def test_sets_are_large_enough(locale: str) -> None:
    """If a locale is evaluated, then its set has enough crisis, negative and polarity lines."""
    assert len(lines(locale, "crisis")) >= MIN_CRISIS
    assert len(lines(locale, "hard_negatives")) >= MIN_NEGATIVES
    assert len(polarity_lines(locale)) >= MIN_POLARITY
    assert {label for _, label in polarity_lines(locale)} == POLARITIES
    texts = [_squash(t) for t in every_text(locale)]
    assert len(texts) == len(set(texts)), "a held-out line is listed twice"


@pytest.mark.parametrize("locale", LOCALES)
def test_no_heldout_line_comes_from_the_dev_set(locale: str) -> None:
    """If a line is held out, then it is not a development-set sentence."""
    dev = dev_sentences()
    copied = [t for t in every_text(locale) if _squash(t) in dev]
    assert not copied, f"{len(copied)} held-out line(s) are dev sentences: {copied}"


@pytest.mark.parametrize("locale", LOCALES)
def test_no_heldout_line_is_copied_into_a_lexicon(locale: str) -> None:
    """If the held-out set is to measure generalisation, then no line of it is in a lexicon."""
    lexicons = "".join(_squash(p.read_text(encoding="utf-8")) for p in LEXICON_DIR.glob("*.yaml"))
    copied = [t for t in every_text(locale) if _squash(t) in lexicons]
    assert not copied, f"held-out line(s) copied into a lexicon: {copied}"


@pytest.mark.parametrize("locale", LOCALES)
def test_crisis_recall_is_complete(locale: str) -> None:
    """If a held-out line expresses the speaker's crisis, then every one of them is caught."""
    missed = [(c, t) for c, t in lines(locale, "crisis") if not analyze(t, locale).crisis]
    assert not missed, f"crisis recall {1 - len(missed) / len(lines(locale, 'crisis')):.3f}: {missed}"


@pytest.mark.parametrize("locale", LOCALES)
def test_hard_negatives_rarely_alarm(locale: str) -> None:
    """If a line is hyperbole, a denial, someone else's loss, a game or an accident, then it
    seldom raises a crisis (at most 10% of the hard negatives)."""
    negatives = lines(locale, "hard_negatives")
    alarms = [(c, t) for c, t in negatives if analyze(t, locale).crisis]
    assert len(alarms) / len(negatives) <= MAX_FALSE_ALARMS, alarms


@pytest.mark.parametrize("locale", LOCALES)
def test_polarity_accuracy(locale: str) -> None:
    """If held-out days are read (negation, expectations, mixed, understatement), then at least
    80% get the labelled polarity."""
    rows = polarity_lines(locale)
    wrong = [(t, gold, analyze(t, locale).polarity) for t, gold in rows
             if analyze(t, locale).polarity != gold]
    assert 1 - len(wrong) / len(rows) >= MIN_POLARITY_ACCURACY, wrong


@pytest.mark.parametrize(("text", "locale", "crisis", "polarity"), [
    ("i have pills saved up for when it gets too much", "en-US", True, "negative"),
    ("i dont really see the point of anything anymore", "en-US", True, "negative"),
    ("not too bad actually got some sun", "en-US", False, "positive"),
    ("the dentist appointment was less painful than i feared", "en-US", False, "positive"),
    ("悪くない一日だった", "ja-JP", False, "positive"),
])
def test_lead_spot_check(text: str, locale: str, crisis: bool, polarity: str) -> None:
    """If the lead's spot-check lines are read, then each gets the expected crisis and polarity."""
    reading = analyze(text, locale)
    assert (reading.crisis, reading.polarity) == (crisis, polarity)
