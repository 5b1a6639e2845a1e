"""SQLite-specific behaviour: file setup, WAL, permissions, locks, unusable paths, purging."""

from __future__ import annotations

import datetime as dt
import sqlite3
import stat
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

from skill.config import load_settings
from skill.errors import StorageUnavailableError
from skill.storage import SqliteStore, UserRecord, open_store
from skill.storage.sqlite import TABLE
from tests.conftest import raw_bytes
from tests.storage.conftest import USER, FixedClock


def test_file_is_created_lazily_in_wal_mode_owner_only(tmp_path: Path) -> None:
    """If a store is opened on a new path, then the file appears on first use, WAL, mode 0600."""
    path = tmp_path / "nested" / "dir" / "skill.sqlite3"
    store = SqliteStore(path)
    assert not path.exists()
    store.ping()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_open_store_uses_db_path(tmp_path: Path) -> None:
    """If settings say sqlite, then open_store returns a SqliteStore on settings.db_path."""
    settings = load_settings({"storage": "sqlite", "db_path": str(tmp_path / "x.sqlite3")}, {})
    store = open_store(settings)
    assert isinstance(store, SqliteStore)
    assert store.path == tmp_path / "x.sqlite3"


def test_unwritable_path_is_unavailable(tmp_path: Path) -> None:
    """If the database path cannot be created, then every call raises StorageUnavailableError."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    store = SqliteStore(blocker / "skill.sqlite3")
    with pytest.raises(StorageUnavailableError, match="sqlite: .*Error"):
        store.get(USER)
    with pytest.raises(StorageUnavailableError, match="sqlite"):
        store.put(USER, UserRecord(), expected_version=0)
    with pytest.raises(StorageUnavailableError, match="sqlite"):
        store.ping()


def test_not_a_database_is_unavailable(tmp_path: Path) -> None:
    """If the file is not an SQLite database, then calls raise StorageUnavailableError."""
    path = tmp_path / "skill.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageUnavailableError, match="DatabaseError"):
        SqliteStore(path).get(USER)


def test_locked_database_is_unavailable_and_loses_nothing(tmp_path: Path) -> None:
    """If another writer holds the lock past the busy timeout, then the write fails cleanly."""
    path = tmp_path / "skill.sqlite3"
    store = SqliteStore(path, timeout_s=0.05)
    store.put(USER, UserRecord().with_crisis(), expected_version=0)
    with closing(sqlite3.connect(path, isolation_level=None)) as holder:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(StorageUnavailableError, match="locked"):
            store.put(USER, UserRecord().with_crisis().with_crisis(), expected_version=1)
        assert store.get(USER).record.crisis_count == 1  # WAL: readers are not blocked
        holder.execute("ROLLBACK")
    stored = store.get(USER)
    assert (stored.record.crisis_count, stored.version) == (1, 1)
    store.put(USER, stored.record.with_crisis(), expected_version=1)


def test_a_lock_wait_ends_at_the_callers_deadline(tmp_path: Path) -> None:
    """If another writer holds the lock and the caller has 0.2 s left, then the write gives up
    after about 0.2 s (not the 5 s busy timeout), and the next call waits the full timeout
    again: the shortened timeout does not outlive the deadline."""
    path = tmp_path / "skill.sqlite3"
    store = SqliteStore(path, timeout_s=5.0)
    store.put(USER, UserRecord().with_crisis(), expected_version=0)
    with closing(sqlite3.connect(path, isolation_level=None, check_same_thread=False)) as holder:
        holder.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        with pytest.raises(StorageUnavailableError, match="locked"), store.within(0.2):
            store.put(USER, UserRecord().with_crisis().with_crisis(), expected_version=1)
        assert 0.15 <= time.monotonic() - started < 2.0
        release = threading.Timer(0.5, holder.execute, ("ROLLBACK",))
        release.start()
        started = time.monotonic()
        store.put(USER, UserRecord().with_crisis().with_crisis(), expected_version=1)
        assert time.monotonic() - started >= 0.4  # waited for the lock, as a busy timeout does
        release.join()
    assert store.get(USER).record.crisis_count == 2


def test_a_statement_still_running_at_the_deadline_is_interrupted(tmp_path: Path) -> None:
    """If a statement runs past the caller's deadline, then SQLite interrupts it in time."""
    store = SqliteStore(tmp_path / "skill.sqlite3")
    endless = "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT max(x) FROM n"
    started = time.monotonic()
    with pytest.raises(StorageUnavailableError, match="interrupted"), store.within(0.1), \
            store._connection() as conn:  # noqa: SLF001 - the statement must run on the store's own connection
        conn.execute(endless).fetchone()
    assert time.monotonic() - started < 1.0
    store.put(USER, UserRecord().with_crisis(), expected_version=0)  # the store still works
    assert store.get(USER).record.crisis_count == 1


def test_a_deadline_already_passed_fails_without_touching_the_file(tmp_path: Path) -> None:
    """If the caller's time is already up, then the call fails at once and writes nothing."""
    store = SqliteStore(tmp_path / "skill.sqlite3")
    store.ping()
    with pytest.raises(StorageUnavailableError, match="deadline"), store.within(-1.0):
        store.put(USER, UserRecord().with_crisis(), expected_version=0)
    assert store.keys() == []


def test_expired_rows_are_purged(tmp_path: Path) -> None:
    """If rows are past their expiry, then purge_expired and opening a store delete them."""
    path = tmp_path / "skill.sqlite3"
    now = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    clock = FixedClock(now)
    store = SqliteStore(path, clock=clock, ttl_days=1)
    store.put(USER, UserRecord().with_crisis(), expected_version=0)
    store.put("keep", UserRecord().with_crisis(), expected_version=0)
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        conn.execute(f"UPDATE {TABLE} SET expires_at = NULL WHERE user_id = 'keep'")
    clock.now = now + dt.timedelta(days=2)
    assert store.purge_expired() == 1
    assert store.keys() == ["keep"]
    store.put(USER, UserRecord().with_crisis(), expected_version=0)
    clock.now = now + dt.timedelta(days=4)
    assert SqliteStore(path, clock=clock).keys() == ["keep"]


def test_deleted_user_leaves_no_bytes_in_the_file(tmp_path: Path) -> None:
    """If a user is deleted, then neither the db file nor its WAL still holds their id."""
    path = tmp_path / "skill.sqlite3"
    store = SqliteStore(path)
    for i in range(3):
        store.put(f"{USER}-{i}", UserRecord().with_prompt_used("marker.zq9"), expected_version=0)
    store.delete(f"{USER}-1")
    store.checkpoint()
    data = raw_bytes([path, Path(f"{path}-wal")])
    assert f"{USER}-1".encode() not in data
    assert f"{USER}-2".encode() in data
