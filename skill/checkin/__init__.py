"""Day check-in: read one answer to "how was your day?" and choose one good follow-up.

Free of ask_sdk and Flask. Importing this package is cheap: the lexicons are read and their
patterns compiled on the first :func:`analyze` call per locale (or by :func:`warm_up`).
"""

from __future__ import annotations

from skill.checkin.engine import analyze
from skill.checkin.followup import (
    CLOSE_GOOD_KEY,
    CLOSE_KEY,
    CLOSE_STEP_KEY,
    CRISIS_AGAIN_KEY,
    CRISIS_CARD_KEY,
    CRISIS_KEYS,
    CRISIS_MORE_KEYS,
    CRISIS_REPEAT_KEY,
    MAX_TURNS,
    OPEN_KEY,
    REASK_KEYS,
    crisis_more_contacts,
    crisis_repeat,
    crisis_reply,
    follow_up,
    opening,
)
from skill.checkin.lexicon import LOCALES, LexiconError, load_lexicon, resolve_locale
from skill.checkin.model import STAGES, FollowUp, Polarity, Reading, Stage

__all__ = [
    "CLOSE_GOOD_KEY",
    "CLOSE_KEY",
    "CLOSE_STEP_KEY",
    "CRISIS_AGAIN_KEY",
    "CRISIS_CARD_KEY",
    "CRISIS_KEYS",
    "CRISIS_MORE_KEYS",
    "CRISIS_REPEAT_KEY",
    "LOCALES",
    "MAX_TURNS",
    "OPEN_KEY",
    "REASK_KEYS",
    "STAGES",
    "FollowUp",
    "LexiconError",
    "Polarity",
    "Reading",
    "Stage",
    "analyze",
    "crisis_more_contacts",
    "crisis_repeat",
    "crisis_reply",
    "follow_up",
    "opening",
    "resolve_locale",
    "warm_up",
]


def warm_up(*locales: str) -> None:
    """Load and compile the lexicons and crisis models now (e.g. at cold start), instead of on
    the first answer.

    :raises UnsupportedLocaleError: if a locale has no lexicon.
    """
    from skill.checkin.classifier import crisis_model

    for locale in locales or LOCALES:
        load_lexicon(locale)
        crisis_model(locale)
