"""Choose the one next prompt of a check-in: a message key one disclosure stage deeper.

facts -> feelings -> meaning -> next step (content brief, section 1); by emotion or topic when the
reading has one; savouring for good days; never a key from the recent ``history``; a gentle
re-ask for empty answers; a gentle close after three answers; the crisis reply for a crisis.
All keys live in ``skill/locales/<locale>/checkin.yaml``; nothing here is spoken text.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from skill.checkin.model import STAGES, FollowUp, Polarity, Reading, Stage

#: The opening question ("How was your day?").
OPEN_KEY = "checkin.open"
#: Gentle re-asks for an empty or unclear answer, in order.
REASK_KEYS: tuple[str, ...] = ("checkin.reask", "checkin.reask.soft")
#: The gentle close: offers a reflection or a lesson (good-day and step-taken variants).
CLOSE_KEY = "checkin.close"
CLOSE_GOOD_KEY = "checkin.close.good"
CLOSE_STEP_KEY = "checkin.close.step"
#: The crisis reply, spoken in sequence (care; contacts; emergency and offer to stay).
CRISIS_KEYS: tuple[str, ...] = ("checkin.crisis.care", "checkin.crisis.contacts",
                                "checkin.crisis.stay")
#: A shorter crisis reply when the crisis reply was already given in this conversation.
CRISIS_AGAIN_KEY = "checkin.crisis.again"
#: Spoken when asked for more contacts: the other lines from the content brief.
CRISIS_MORE_KEYS: tuple[str, ...] = (
    "checkin.crisis.more_contacts", "checkin.crisis.more_contacts.2",
    "checkin.crisis.more_contacts.3", "checkin.crisis.more_contacts.4",
    "checkin.crisis.more_contacts.end",
)
#: Asked after the first contacts of that list, when more remain ("Would you like more?").
CRISIS_MORE_OFFER_KEY = "checkin.crisis.more_offer"
#: At most this many contact lines per answer (content brief, section 6).
CRISIS_MORE_PER_TURN = 2
#: Said to anything else after the crisis reply: still here, no numbers, a gentle offer.
CRISIS_LISTENING_KEY = "checkin.crisis.listening"
#: The same without any offer: after a "no", or once every contact was given.
CRISIS_QUIET_KEY = "checkin.crisis.quiet"
#: Spoken when asked to repeat the number.
CRISIS_REPEAT_KEY = "checkin.crisis.repeat"
#: Card / screen text with the numbers as digits (not spoken).
CRISIS_CARD_KEY = "checkin.crisis.card"
#: ``checkin.term.<id>`` renders a lexicon term id for the ``{term}`` placeholder.
TERM_PREFIX = "checkin.term."
#: Answers in one check-in before the gentle close.
MAX_TURNS = 3

#: Reflectable term ids (both lexicons use these; each has a ``checkin.term.<id>`` key).
TERM_IDS: tuple[str, ...] = (
    "boss", "coworker", "meeting", "presentation", "deadline", "job_search", "work", "family",
    "parent", "partner", "child", "sibling", "friend", "neighbor", "health", "body", "sleep",
    "exam", "school", "money", "weather", "commute", "chores", "cooking", "hobby", "exercise",
    "pet", "promotion", "plans",
)

#: Emotion tag -> the family whose prompts fit it.
_FAMILY: dict[str, str] = {
    "tired": "tired", "sad": "sad", "disappointed": "sad", "hurt": "sad", "angry": "angry",
    "frustrated": "angry", "anxious": "anxious", "stressed": "anxious", "overwhelmed": "anxious",
    "lonely": "lonely", "embarrassed": "embarrassed", "guilty": "embarrassed", "happy": "happy",
    "excited": "happy", "loved": "happy", "hopeful": "happy", "proud": "proud",
    "grateful": "grateful", "calm": "calm", "relieved": "calm", "grief": "grief",
}
_ASK_MEANING = frozenset({"tired", "sad", "angry", "anxious", "lonely", "embarrassed", "grief"})
_ASK_STEP = frozenset({"tired", "lonely", "anxious", "grief"})
_SAVOUR_MEANING = frozenset({"happy", "proud", "grateful", "calm"})
_PROMPT_PREFIXES = ("checkin.ask.", "checkin.savour.", "checkin.reask")


def opening() -> FollowUp:
    """The check-in's first question."""
    return FollowUp(key=OPEN_KEY)


def crisis_reply(history: Sequence[str] = ()) -> FollowUp:
    """The crisis reply: care, contacts, the offer to stay; shorter if already given.

    Never closes the session and never continues the normal check-in flow.
    """
    if any(key.startswith("checkin.crisis.") for key in history):
        return FollowUp(key=CRISIS_AGAIN_KEY, then=(CRISIS_KEYS[-1],), crisis=True)
    return FollowUp(key=CRISIS_KEYS[0], then=CRISIS_KEYS[1:], crisis=True)


def crisis_more_contacts(history: Sequence[str] = ()) -> FollowUp:
    """The next of the other contacts from the content brief, when the person asks for more.

    Two lines at a time (with an offer of more), then the rest with the closing line; once all
    were said in this conversation (``history``), the main contact again.
    """
    left = [key for key in CRISIS_MORE_KEYS if key not in history]
    if not left:
        return crisis_repeat()
    if len(left) <= CRISIS_MORE_PER_TURN + 1:
        return FollowUp(key=left[0], then=tuple(left[1:]), crisis=True)
    return FollowUp(key=left[0], then=(*left[1:CRISIS_MORE_PER_TURN], CRISIS_MORE_OFFER_KEY),
                    crisis=True)


def crisis_listening(history: Sequence[str] = (), declined: bool = False) -> FollowUp:
    """Anything else said after the crisis reply: stay with the person, gently. The line
    offers another contact unless the person just said no, or every contact was given."""
    if declined or all(key in history for key in CRISIS_MORE_KEYS):
        return FollowUp(key=CRISIS_QUIET_KEY, crisis=True)
    return FollowUp(key=CRISIS_LISTENING_KEY, crisis=True)


def crisis_repeat() -> FollowUp:
    """The main contact again, when the person asks to hear it again."""
    return FollowUp(key=CRISIS_REPEAT_KEY, then=(CRISIS_KEYS[-1],), crisis=True)


def follow_up(reading: Reading, history: Sequence[str] = (), *,
              max_turns: int = MAX_TURNS) -> FollowUp:
    """The next prompt for ``reading``: one stage deeper, never a key in ``history``.

    :param reading: the latest answer's reading.
    :param history: recent message keys said in this conversation (oldest first). Check-in
        prompts in it count as turns: after ``max_turns`` answers the check-in closes gently.
    :param max_turns: answers per check-in before the close.
    """
    if reading.crisis:
        return crisis_reply(history)
    if "grief" not in reading.emotions and any(key.endswith(".grief") for key in history):
        # Later answers in a check-in about a loss stay with the loss: a fond memory ("his
        # happy face every morning") is bittersweet, never a "good day" to savour.
        polarity = "mixed" if reading.polarity == "positive" else reading.polarity
        reading = dataclasses.replace(reading, emotions=("grief", *reading.emotions),
                                      polarity=polarity)
    recent = set(history)
    answers = 1 + sum(1 for key in history if key.startswith(_PROMPT_PREFIXES))
    if answers >= max_turns:
        return _close(reading, recent)
    if reading.unclear:
        for key in REASK_KEYS:
            if key not in recent:
                return FollowUp(key=key)
        return _close(reading, recent)
    if reading.stage == "next_step":
        return FollowUp(key=CLOSE_STEP_KEY, closing=True)

    target = STAGES[STAGES.index(reading.stage) + 1]
    for key in _candidates(reading, target) + _candidates(reading, _deeper(target)):
        if key not in recent:
            params = (("term", TERM_PREFIX + reading.reflect_term),) if key.endswith(".term") \
                and reading.reflect_term else ()
            return FollowUp(key=key, params=params)
    return _close(reading, recent)


def all_keys() -> frozenset[str]:
    """Every message key this module can return (for locale-file tests)."""
    keys = {OPEN_KEY, CLOSE_KEY, CLOSE_GOOD_KEY, CLOSE_STEP_KEY, CRISIS_AGAIN_KEY,
            CRISIS_REPEAT_KEY, CRISIS_CARD_KEY, *REASK_KEYS, *CRISIS_KEYS, *CRISIS_MORE_KEYS,
            CRISIS_MORE_OFFER_KEY, CRISIS_LISTENING_KEY, CRISIS_QUIET_KEY}
    keys |= {TERM_PREFIX + term for term in TERM_IDS}
    polarities: tuple[Polarity, ...] = ("positive", "negative", "neutral", "mixed")
    for polarity in polarities:
        for emotion in (*_FAMILY, None):
            for term in ("boss", None):
                reading = Reading(locale="en-US", polarity=polarity,
                                  emotions=(emotion,) if emotion else (), reflect_term=term)
                for stage in STAGES[1:]:
                    keys.update(_candidates(reading, stage))
    return frozenset(keys)


def _deeper(stage: Stage) -> Stage:
    return STAGES[min(STAGES.index(stage) + 1, len(STAGES) - 1)]


def _close(reading: Reading, recent: set[str]) -> FollowUp:
    key = CLOSE_GOOD_KEY if reading.polarity == "positive" else CLOSE_KEY
    if key in recent:
        key = CLOSE_KEY if key == CLOSE_GOOD_KEY else CLOSE_GOOD_KEY
    return FollowUp(key=key, closing=True)


def _candidates(reading: Reading, stage: Stage) -> list[str]:
    """Keys for ``stage``, most specific first."""
    families = [_FAMILY[e] for e in reading.emotions if e in _FAMILY]
    term = reading.reflect_term is not None
    keys: list[str] = []
    if reading.polarity == "positive":
        base = "checkin.savour."
        if stage == "feelings":
            keys += [base + "feelings.term"] if term else []
            keys += [base + "feelings", base + "feelings.moment"]
        elif stage == "meaning":
            keys += [base + "meaning." + f for f in families if f in _SAVOUR_MEANING][:1]
            keys += [base + "meaning.term"] if term else []
            keys += [base + "meaning"]
        else:
            keys += [base + "next_step.share", base + "next_step.keep"]
        return keys
    base = "checkin.ask."
    if "grief" in families:
        # A death or a loss is met with sorrow first, whatever stage the answer reached (the
        # key is skipped once said), never with a question about "things".
        keys.append(base + "feelings.grief")
    if stage == "feelings":
        if reading.polarity == "mixed":
            keys.append(base + "feelings.mixed")
        elif reading.polarity == "neutral":
            keys.append(base + "feelings.neutral")
        keys += [base + "feelings.term"] if term else []
        keys += [base + "feelings.hard"] if reading.polarity == "negative" else []
        keys.append(base + "feelings")
    elif stage == "meaning":
        keys += [base + "meaning.mixed"] if reading.polarity == "mixed" else []
        keys += [base + "meaning." + f for f in families if f in _ASK_MEANING][:1]
        keys += [base + "meaning.term"] if term else []
        keys.append(base + "meaning")
    else:
        keys += [base + "next_step." + f for f in families if f in _ASK_STEP][:1]
        keys += [base + "next_step.term"] if term else []
        keys += [base + "next_step.share", base + "next_step.care"]
    return keys
