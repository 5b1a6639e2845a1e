"""Slow storage: an answer must reach Alexa within its ~8 s, storage or not.

Every store call has a time budget (``storage_budget_s``, 2.5 s). A store that can keep it by
itself keeps it (SQLite: the busy wait is cut to what is left of the budget and a statement
still running at the deadline is interrupted); any other store, such as DynamoDB or the stalling
proxy used here, runs each call under a watchdog thread. Either way a call past its budget ends
in the spoken storage apology, in time, and a write that did not happen changes nothing.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import closing
from typing import Any

from skill.simulator.conversation import Conversation
from tests.faults.conftest import Seeded
from tests.fuzz.support import ALEXA_DEADLINE_S, says_one_of, speech_of

#: Margin left for the network between Alexa and the skill.
MARGIN_S = 1.0


def _answer_within(conversation: Conversation, intent: str, seconds: float) -> dict[str, Any] | None:
    """Send ``intent`` on a worker thread; its payload if it came back within ``seconds``."""
    result: dict[str, Any] = {}

    def run() -> None:
        result["payload"] = conversation.intent(intent)[1]

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    return result.get("payload")


def test_slow_but_within_budget_is_answered_normally(seeded: Seeded) -> None:
    """If each storage call takes 0.2 s, then the person hears the normal answer (no apology)."""
    conversation = seeded.device()
    conversation.launch()
    seeded.store.delay_s = 0.2
    payload = _answer_within(conversation, "WhatDoYouRememberIntent", ALEXA_DEADLINE_S - MARGIN_S)
    assert payload is not None
    assert says_one_of(payload, "en-US", "privacy.summary.intro")


def test_stalled_storage_gets_an_apology_in_time(seeded: Seeded) -> None:
    """If the store stalls for longer than Alexa waits, then the skill still answers within
    Alexa's deadline (less a network margin) with the storage apology, and loses nothing."""
    conversation = seeded.device()
    conversation.launch()
    before = seeded.snapshot()
    seeded.store.delay_s = 30.0
    started = time.monotonic()
    try:
        payload = _answer_within(conversation, "WhatDoYouRememberIntent", ALEXA_DEADLINE_S - MARGIN_S)
    finally:
        seeded.store.release()
    assert payload is not None, f"no answer after {time.monotonic() - started:.1f} s"
    assert says_one_of(payload, "en-US", "error.storage"), speech_of(payload)
    assert seeded.snapshot() == before


def test_a_write_lock_held_elsewhere_gets_an_apology_in_time(seeded: Seeded) -> None:
    """If another process holds the SQLite write lock past the storage budget, then SQLite's own
    deadline (no watchdog thread: the busy wait is cut to what is left of the budget) ends the
    wait: the person hears the storage apology within the budget, and nothing stored changes."""
    persistence = seeded.app.extensions["reflection"]["persistence"]
    persistence.store = seeded.store.inner  # the real SQLite store, which bounds its own calls
    persistence.budget_s = 0.5
    conversation = seeded.device()
    conversation.launch()
    conversation.intent("CheckInStartIntent")
    before = seeded.snapshot()
    with closing(sqlite3.connect(seeded.db_path, isolation_level=None)) as holder:
        holder.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        payload = conversation.say("my day was long and tiring")[1]
        elapsed = time.monotonic() - started
        holder.execute("ROLLBACK")
    assert says_one_of(payload, "en-US", "error.storage"), speech_of(payload)
    assert elapsed < persistence.budget_s + MARGIN_S
    assert seeded.snapshot() == before
