"""Fixtures for the fault-injection tests: a person with real history, and a store that misbehaves.

``seeded`` builds the app on a fresh SQLite file and lets one person use every feature once (a
finished reflection, a check-in, a lesson in the player), so there is real stored history that a
fault must not lose. ``FaultyStore`` wraps the real store and fails, or stalls, on demand.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from skill.errors import StorageUnavailableError
from skill.service import create_app
from skill.simulator.chat import make_transport
from skill.simulator.conversation import Conversation
from skill.simulator.nlu import SlotValue
from skill.storage import Store, Stored, UserRecord
from skill.storage.adapter import StorePersistenceAdapter
from tests.fuzz.support import store_snapshot

USER = "amzn1.ask.account.faults"


class FaultyStore:
    """A store proxy: reads and/or writes fail with ``StorageUnavailableError``, or every call
    first waits ``delay_s`` (cut short by :meth:`release`)."""

    def __init__(self, inner: Store) -> None:
        self.inner = inner
        self.fail_reads = False
        self.fail_writes = False
        self.delay_s = 0.0
        self.calls: list[str] = []
        self._released = threading.Event()

    @property
    def backend(self) -> str:
        return self.inner.backend

    def within(self, seconds: float) -> None:
        """``None``: this proxy stalls in Python, which no backend deadline can cut short, so
        the adapter must run its calls under the watchdog thread."""
        return None

    def release(self) -> None:
        """End every current and future delay at once (test teardown)."""
        self._released.set()

    def _gate(self, operation: str, failing: bool) -> None:
        self.calls.append(operation)
        if self.delay_s:
            self._released.wait(self.delay_s)
        if failing:
            raise StorageUnavailableError(f"injected {operation} failure")

    def get(self, user_id: str) -> Stored:
        self._gate("get", self.fail_reads)
        return self.inner.get(user_id)

    def put(self, user_id: str, attrs: Any, expected_version: int) -> int:
        self._gate("put", self.fail_writes)
        return self.inner.put(user_id, attrs, expected_version)

    def update(self, user_id: str, fn: Callable[[UserRecord], UserRecord], retries: int = 1) -> UserRecord:
        self._gate("update", self.fail_writes)
        return self.inner.update(user_id, fn, retries)

    def delete(self, user_id: str) -> bool:
        self._gate("delete", self.fail_writes)
        return self.inner.delete(user_id)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@dataclass
class Seeded:
    """The app, the person's device, the wrapped store and the SQLite file."""

    app: Flask
    db_path: Path
    store: FaultyStore

    def device(self, locale: str = "en-US", audio_player: bool = True) -> Conversation:
        return Conversation(make_transport(self.app), locale=locale, user_id=USER,
                            audio_player=audio_player)

    def snapshot(self) -> dict[str, tuple[Any, ...]]:
        return store_snapshot(self.db_path)

    def record(self) -> UserRecord:
        return self.store.inner.get(USER).record


def use_everything(conversation: Conversation) -> None:
    """One finished one-minute reflection, one check-in, one lesson started in the player."""
    conversation.launch()
    conversation.intent("StartReflectionIntent", {"duration": SlotValue("PT1M")})
    for _ in range(4):
        conversation.intent("NextStepIntent")
    conversation.launch()
    conversation.intent("CheckInStartIntent")
    conversation.say("my day was rough and my manager was unkind")
    conversation.end()
    conversation.intent_from_text("PlayLessonIntent", {"topic": "asking for help"})
    conversation.event("AudioPlayer.PlaybackStarted", {})
    conversation.event("AudioPlayer.PlaybackStopped", {"offsetInMilliseconds": "42000"})


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Seeded]:
    """A person with a streak, check-in tags (as the engine derives them) and a paused lesson,
    behind a FaultyStore."""
    db_path = tmp_path / "skill.sqlite3"
    app = create_app({"dev_skip_verification": True, "db_path": str(db_path), "log_level": "WARNING"})
    persistence: StorePersistenceAdapter = app.extensions["reflection"]["persistence"]
    faulty = FaultyStore(persistence.store)
    persistence.store = faulty  # type: ignore[assignment]
    seeded = Seeded(app, db_path, faulty)
    use_everything(seeded.device())
    record = seeded.record()
    assert record.streak.count == 1 and record.lesson is not None
    assert record.lesson.offset_ms == 42000
    yield seeded
    faulty.release()
