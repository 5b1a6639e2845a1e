"""The Store contract, run against every backend (SQLite file and a real dynalite server)."""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from skill.errors import ConcurrentUpdateError, StorageUnavailableError
from skill.storage import (
    DEFAULT_TTL_DAYS,
    SCHEMA_VERSION,
    CheckinTag,
    LessonProgress,
    Preferences,
    Streak,
    UserRecord,
    user_hash,
)
from skill.storage.records import TAG_RETENTION_DAYS
from tests.storage.conftest import USER, Backend, FixedClock

NOW = dt.datetime(2025, 3, 10, 9, 30, tzinfo=dt.UTC)
TODAY = NOW.date()


def full_record() -> UserRecord:
    """A record with every field set."""
    return UserRecord(
        preferences=Preferences(locale="ja-JP"),
        streak=Streak(count=4, last_date=TODAY - dt.timedelta(days=1)),
        lesson=LessonProgress(
            lesson_id="breath.box.01",
            locale="ja-JP",
            offset_ms=93_500,
            finished=False,
            updated_at=NOW - dt.timedelta(hours=20),
        ),
        recent_prompts=("reflect.gratitude.03", "reflect.rest.01"),
        checkin_tags=(
            CheckinTag(TODAY - dt.timedelta(days=2), "negative", ("tired",), ("work",)),
            CheckinTag(TODAY, "positive", ("calm", "grateful"), ("family",)),
        ),
        crisis_count=1,
        ask_about_lesson="sleep.wind-down.02",
    )


def test_new_user_reads_fresh(backend: Backend) -> None:
    """If nothing is stored for a user, then get returns a new record at version 0."""
    stored = backend.store.get(USER)
    assert stored.record == UserRecord()
    assert stored.record.is_new
    assert (stored.version, stored.exists, stored.replaced) == (0, False, False)


def test_round_trip(backend: Backend) -> None:
    """If a full record is written, then it reads back equal, and each write bumps the version."""
    store = backend.make(clock=FixedClock(NOW))
    assert store.put(USER, full_record(), expected_version=0) == 1
    stored = store.get(USER)
    assert stored.record == full_record()
    assert stored.version == 1
    assert store.put(USER, stored.record.with_crisis(), expected_version=1) == 2
    assert store.get(USER).record.crisis_count == 2
    assert store.keys() == [USER]
    assert store.count() == 1
    store.ping()


def test_put_accepts_raw_attributes(backend: Backend) -> None:
    """If put gets a raw attribute dict, then it is validated and stored like a record."""
    store = backend.make(clock=FixedClock(NOW))
    store.put(USER, full_record().to_attributes(), expected_version=0)
    assert store.get(USER).record == full_record()


def test_migrates_older_schema(backend: Backend) -> None:
    """If a row holds schema v1, then it reads as the current schema and is rewritten as such."""
    v1 = {
        "locale": "en-US",
        "streak": 3,
        "last_reflection": "2025-03-09",
        "lesson": {
            "lesson_id": "breath.box.01",
            "position_ms": 1200,
            "finished": True,
            "updated_at": "2025-03-09T20:00:00+00:00",
        },
        "recent_prompts": ["reflect.rest.01"],
        "tags": [{"date": "2025-03-01", "polarity": "neutral", "emotions": [], "topics": ["sleep"]}],
    }
    backend.write_raw(USER, v1, version=7)
    store = backend.make(clock=FixedClock(NOW))
    stored = store.get(USER)
    record = stored.record
    assert stored.version == 7
    assert record.preferences.locale == "en-US"
    assert record.streak == Streak(3, dt.date(2025, 3, 9))
    assert record.lesson is not None
    assert (record.lesson.locale, record.lesson.offset_ms, record.lesson.finished) == (
        "en-US",
        1200,
        True,
    )
    assert record.checkin_tags == (CheckinTag(dt.date(2025, 3, 1), "neutral", (), ("sleep",)),)
    store.update(USER, lambda r: r.with_prompt_used("reflect.gratitude.03"))
    assert store.get(USER).version == 8
    assert str(SCHEMA_VERSION) in str(backend.raw_row(USER)["schema_version"])


def test_newer_schema_is_left_alone(backend: Backend) -> None:
    """If a row has a newer schema than this code, then reads fail as unavailable, row untouched."""
    backend.write_raw(USER, {"schema_version": SCHEMA_VERSION + 1, "x": 1}, version=3)
    with pytest.raises(StorageUnavailableError, match="newer schema"):
        backend.store.get(USER)
    with pytest.raises(StorageUnavailableError, match="newer schema"):
        backend.store.update(USER, lambda r: r.with_crisis())
    assert backend.store.keys() == [USER]


def test_stale_version_conflicts(backend: Backend) -> None:
    """If a write names a version that is no longer current, then ConcurrentUpdateError."""
    store = backend.store
    store.put(USER, UserRecord(), expected_version=0)
    with pytest.raises(ConcurrentUpdateError, match="no longer current"):
        store.put(USER, UserRecord().with_crisis(), expected_version=0)
    store.put(USER, UserRecord().with_crisis(), expected_version=1)
    with pytest.raises(ConcurrentUpdateError, match="no longer current"):
        store.put(USER, UserRecord(), expected_version=1)
    assert store.get(USER).record.crisis_count == 1
    assert issubclass(ConcurrentUpdateError, StorageUnavailableError)


def test_update_without_change_writes_nothing(backend: Backend) -> None:
    """If update's function returns an equal record, then no write happens."""
    store = backend.store
    store.put(USER, full_record(), expected_version=0)
    store.update(USER, lambda r: r)
    assert store.get(USER).version == 1
    store.update(USER, lambda r: r)  # a new user with no change: still no row
    store.update("other-user", lambda r: r)
    assert store.keys() == [USER]


def test_update_gives_up_after_retries(backend: Backend) -> None:
    """If every attempt of update loses a race, then it raises ConcurrentUpdateError."""
    store = backend.store
    other = backend.make()

    def sneaky(record: UserRecord) -> UserRecord:
        other.update(USER, lambda r: r.with_crisis())  # another writer lands first each time
        return record.with_locale("en-US")

    with pytest.raises(ConcurrentUpdateError, match="gave up after 2"):
        store.update(USER, sneaky, retries=1)
    assert store.get(USER).record.crisis_count == 2
    assert store.get(USER).record.preferences.locale is None


@pytest.mark.parametrize("retries", [1, 200])
def test_concurrent_increments_are_never_lost(backend: Backend, retries: int) -> None:
    """If 8 threads increment 25 times each, then every increment reported done is stored.

    With 200 retries every one lands (each conflict means another thread's write landed, so at
    most 199 conflicts are possible); with one retry, those that give up say so.
    """
    store = backend.store

    def increment(_: int) -> bool:
        try:
            store.update(USER, lambda r: r.with_crisis(), retries=retries)
        except ConcurrentUpdateError:
            return False
        return True

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(increment, range(8 * 25)))
    done = sum(results)
    assert store.get(USER).record.crisis_count == done
    if retries == 200:
        assert done == 200


def test_delete(backend: Backend) -> None:
    """If a user is deleted, then nothing of theirs is left and other users are untouched."""
    store = backend.store
    store.put(USER, full_record(), expected_version=0)
    store.put("amzn1.ask.account.OTHER", full_record(), expected_version=0)
    assert store.delete(USER) is True
    assert store.get(USER).version == 0
    assert store.keys() == ["amzn1.ask.account.OTHER"]
    assert USER not in backend.dump()
    assert store.delete(USER) is False
    assert store.put(USER, UserRecord(), expected_version=0) == 1


def test_corrupt_row_starts_fresh(backend: Backend, caplog: pytest.LogCaptureFixture) -> None:
    """If a row cannot be read, then the user starts fresh, the log names only a hash."""
    backend.write_raw(USER, "{not json at all", version=5)
    caplog.set_level(logging.WARNING, logger="skill.storage")
    stored = backend.store.get(USER)
    assert stored.record == UserRecord()
    assert (stored.version, stored.replaced) == (5, True)
    assert user_hash(USER) in caplog.text
    assert USER not in caplog.text
    backend.store.update(USER, lambda r: r.with_locale("en-US"))
    assert backend.store.get(USER).record.preferences.locale == "en-US"


def test_corrupt_version_starts_fresh(backend: Backend) -> None:
    """If a row's version itself is unreadable, then it reads fresh and the next write replaces it."""
    backend.write_raw(USER, {"schema_version": 2, "crisis_count": "lots"}, version=None)
    stored = backend.store.get(USER)
    assert stored.replaced and stored.exists
    backend.store.update(USER, lambda r: r.with_crisis())
    stored = backend.store.get(USER)
    assert (stored.record.crisis_count, stored.version) == (1, 1)


def test_ttl_is_set_and_honoured(backend: Backend) -> None:
    """If a row is written, then it expires DEFAULT_TTL_DAYS later and reads fresh after that."""
    clock = FixedClock(NOW)
    store = backend.make(clock=clock)
    store.put(USER, full_record(), expected_version=0)
    expected = int(NOW.timestamp()) + DEFAULT_TTL_DAYS * 86_400
    raw = backend.raw_row(USER)
    assert raw["expires_at"] in (expected, {"N": str(expected)})
    clock.now = NOW + dt.timedelta(days=DEFAULT_TTL_DAYS, seconds=1)
    stored = store.get(USER)
    assert stored.record == UserRecord() and stored.replaced
    store.update(USER, lambda r: r.with_locale("en-US"))
    assert store.get(USER).record == UserRecord().with_locale("en-US")


def test_old_checkin_tags_are_pruned(backend: Backend) -> None:
    """If check-in tags are older than 90 days, then they are neither returned nor stored."""
    clock = FixedClock(NOW)
    store = backend.make(clock=clock)
    edge = TODAY - dt.timedelta(days=TAG_RETENTION_DAYS)
    old = TODAY - dt.timedelta(days=TAG_RETENTION_DAYS + 1)
    record = UserRecord(
        checkin_tags=(
            CheckinTag(old, "negative", ("lonely",), ("oldtopic",)),
            CheckinTag(edge, "neutral", (), ("edgetopic",)),
        )
    )
    store.put(USER, record, expected_version=0)
    assert [t.date for t in store.get(USER).record.checkin_tags] == [edge]
    assert "oldtopic" not in backend.dump()
    clock.now = NOW + dt.timedelta(days=1)
    assert store.get(USER).record.checkin_tags == ()


def test_stored_data_never_holds_the_utterance(backend: Backend) -> None:
    """If a check-in's derived tags are saved, then the words the user said appear nowhere stored."""
    utterance = "honestly my sister's wedding made me anxious and I barely slept"
    derived = CheckinTag(TODAY, "negative", ("anxious",), ("family", "sleep"))
    store = backend.make(clock=FixedClock(NOW))
    store.update(USER, lambda r: r.with_checkin_tag(derived).with_reflection(TODAY))
    assert store.get(USER).record.checkin_tags == (derived,)
    dump = backend.dump()
    assert "anxious" in dump  # the derived tag is there...
    for fragment in (utterance, "sister", "wedding", "barely slept"):
        assert fragment not in dump  # ...the words are not
    with pytest.raises(ValueError, match="identifier"):
        CheckinTag(TODAY, "negative", (), (utterance,))


def test_records_survive_other_users_writes(backend: Backend) -> None:
    """If many users write, then each keeps their own record."""
    store = backend.store
    for i in range(5):

        def set_count(record: UserRecord, count: int = i + 1) -> UserRecord:
            return replace(record, crisis_count=count)

        store.update(f"user-{i}", set_count)
    assert [store.get(f"user-{i}").record.crisis_count for i in range(5)] == [1, 2, 3, 4, 5]
    assert store.count() == 5


def test_a_row_changed_by_another_writer_is_parsed_afresh(backend: Backend) -> None:
    """If another process or server rewrites the row, then the next read sees its record, and a
    row rewritten as garbage reads as a fresh record."""
    mine, theirs = backend.make(clock=FixedClock(NOW)), backend.make(clock=FixedClock(NOW))
    mine.put(USER, full_record(), expected_version=0)
    assert mine.get(USER).record == full_record()
    theirs.put(USER, full_record().with_crisis(), expected_version=1)
    assert mine.get(USER).record.crisis_count == full_record().crisis_count + 1
    backend.write_raw(USER, "{not json", version=3)
    stored = mine.get(USER)
    assert stored.record.is_new and stored.replaced
