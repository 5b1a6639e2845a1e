"""SQLite backend: one row per user id, JSON attributes, WAL mode, conditional one-statement writes.

Each thread keeps one connection per process (opening and closing one per call cost about a third
of a request under load, ``docs/benchmarks.md``); nothing is shared between threads or inherited
across a gunicorn ``fork``, and a connection that failed is dropped and reopened. Every write is a
single ``INSERT``/``UPDATE``/``DELETE`` statement in autocommit mode, so it is atomic, and a busy
timeout makes a briefly locked database wait instead of failing at once.

Time limits without a thread: inside :meth:`SqliteStore.within` every statement ends by the
deadline. Waiting for another writer's lock is SQLite's busy timeout (shortened to what is left
of the deadline), and a statement still running at the deadline is interrupted by a progress
handler; either way the call raises :class:`StorageUnavailableError` in time. A filesystem that
stops answering is the one stall this cannot cut short (a local store's risk; the cloud store,
DynamoDB, runs under the adapter's watchdog thread).

``synchronous = NORMAL`` with WAL: a crash of the process or the OS never corrupts the file or
loses a committed write; only a power cut can roll back the last few commits (SQLite's documented
WAL guarantee). For streaks and check-in tags that trade is worth the fsync per request it saves.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skill.errors import ConcurrentUpdateError, StorageUnavailableError
from skill.storage.base import DEFAULT_TTL_DAYS, UNKNOWN_VERSION, Clock, RawRow, Store, utc_now
from skill.storage.records import SCHEMA_VERSION, RecordError

TABLE = "user_records"
#: SQLite virtual-machine steps between two deadline checks (a one-row statement takes fewer).
_PROGRESS_STEPS = 1000

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    user_id        TEXT PRIMARY KEY NOT NULL,
    version        INTEGER NOT NULL,
    schema_version INTEGER NOT NULL,
    attributes     TEXT NOT NULL,
    updated_at     INTEGER NOT NULL,
    expires_at     INTEGER
) WITHOUT ROWID
"""


@dataclass
class _ThreadConnection:
    """One thread's connection, the process that opened it, and its current busy timeout."""

    pid: int
    conn: sqlite3.Connection
    busy_ms: int


class SqliteStore(Store):
    """Store backed by one SQLite file.

    The file (and its directory) are created on first use with owner-only permissions; until then
    nothing touches the disk, so a bad path surfaces as :class:`StorageUnavailableError` on the
    first call rather than at start-up.

    :param path: the database file.
    :param timeout_s: how long a call waits for a locked database before giving up.
    """

    backend = "sqlite"

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout_s: float = 2.0,
        ttl_days: int | None = DEFAULT_TTL_DAYS,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(ttl_days=ttl_days, clock=clock)
        self.path = Path(path).expanduser()
        self.timeout_s = timeout_s
        #: The busy timeout every connection is opened with (shortened only inside ``within``).
        self._busy_ms = int(timeout_s * 1000)
        self._ready = False
        self._init_lock = threading.Lock()
        self._local = threading.local()

    # ----------------------------------------------------------------- connections

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self.timeout_s, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
        conn.set_progress_handler(self._past_deadline, _PROGRESS_STEPS)
        # Deleted rows are overwritten with zeros, not left in free pages ("delete my data").
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        return conn

    def _initialise(self) -> None:
        with self._init_lock:
            if self._ready:
                return
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
            with closing(self._open()) as conn:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise sqlite3.OperationalError(f"could not enable WAL (journal_mode={mode})")
                conn.execute(_SCHEMA)
                conn.execute(
                    f"DELETE FROM {TABLE} WHERE expires_at IS NOT NULL AND expires_at <= ?",
                    (int(self._clock().timestamp()),),
                )
            self._ready = True

    # ----------------------------------------------------------------- deadlines

    @contextmanager
    def within(self, seconds: float) -> Iterator[None]:
        """Every statement this thread runs inside ends within ``seconds`` from now.

        :raises StorageUnavailableError: (from the statements) the deadline passed.
        """
        outer = getattr(self._local, "deadline", None)
        deadline = time.monotonic() + seconds
        self._local.deadline = deadline if outer is None else min(outer, deadline)
        try:
            yield
        finally:
            self._local.deadline = outer

    def _past_deadline(self) -> int:
        """SQLite's progress handler: non-zero interrupts the running statement."""
        deadline = getattr(self._local, "deadline", None)
        return int(deadline is not None and time.monotonic() > deadline)

    def _fit_busy_timeout(self, cached: _ThreadConnection) -> None:
        """Shorten the connection's busy timeout to what is left of the deadline (and restore it
        afterwards); runs a statement only when the timeout has to change."""
        deadline = getattr(self._local, "deadline", None)
        wanted = self._busy_ms
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise sqlite3.OperationalError("the call's deadline passed")
            wanted = min(wanted, max(1, int(left * 1000)))
        if cached.busy_ms != wanted:
            cached.conn.execute(f"PRAGMA busy_timeout = {wanted}")
            cached.busy_ms = wanted

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection (opened on first use in this process); any sqlite/OS failure
        becomes :class:`StorageUnavailableError` and drops the connection."""
        try:
            if not self._ready:
                self._initialise()
            cached = getattr(self._local, "conn", None)
            if cached is None or cached.pid != os.getpid():
                cached = _ThreadConnection(os.getpid(), self._open(), self._busy_ms)
                self._local.conn = cached
            self._fit_busy_timeout(cached)
            yield cached.conn
        except (sqlite3.Error, OSError) as exc:
            self.close()
            raise StorageUnavailableError(f"sqlite: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        """Close this thread's connection (idempotent; the next call opens a new one)."""
        cached = getattr(self._local, "conn", None)
        self._local.conn = None
        if cached is not None and cached.pid == os.getpid():
            try:
                cached.conn.close()
            except sqlite3.Error:
                pass

    # ----------------------------------------------------------------- backend hooks

    def _load(self, user_id: str) -> RawRow | None:
        with self._connection() as conn:
            row = conn.execute(
                f"SELECT attributes, version, expires_at FROM {TABLE} WHERE user_id = ?",
                (user_id,),
            ).fetchone()
        if row is None:
            return None
        payload, version, expires_at = row
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            version = UNKNOWN_VERSION
        return RawRow(
            payload=payload,
            version=version,
            expires_at=expires_at if isinstance(expires_at, int) else None,
        )

    def _decode(self, payload: Any) -> Mapping[str, Any]:
        if isinstance(payload, bytes):
            try:
                payload = payload.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise RecordError("attributes are not UTF-8") from exc
        if not isinstance(payload, str):
            raise RecordError(f"attributes column holds {type(payload).__name__}")
        try:
            data = json.loads(payload)
        except json.JSONDecodeError as exc:
            raise RecordError(f"attributes are not JSON (at {exc.pos})") from None
        if not isinstance(data, dict):
            raise RecordError(f"attributes are a JSON {type(data).__name__}, not an object")
        return data

    def _write(
        self,
        user_id: str,
        attributes: dict[str, Any],
        expected_version: int,
        new_version: int,
        expires_at: int | None,
    ) -> None:
        body = json.dumps(attributes, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
        now = int(self._clock().timestamp())
        values = (new_version, SCHEMA_VERSION, body, now, expires_at)
        with self._connection() as conn:
            if expected_version == 0:
                cur = conn.execute(
                    f"INSERT INTO {TABLE} (version, schema_version, attributes, updated_at,"
                    " expires_at, user_id) VALUES (?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT(user_id) DO NOTHING",
                    (*values, user_id),
                )
            elif expected_version == UNKNOWN_VERSION:
                cur = conn.execute(
                    f"UPDATE {TABLE} SET version = ?, schema_version = ?, attributes = ?,"
                    " updated_at = ?, expires_at = ? WHERE user_id = ?"
                    " AND (typeof(version) != 'integer' OR version < 1)",
                    (*values, user_id),
                )
            else:
                cur = conn.execute(
                    f"UPDATE {TABLE} SET version = ?, schema_version = ?, attributes = ?,"
                    " updated_at = ?, expires_at = ? WHERE user_id = ? AND version = ?",
                    (*values, user_id, expected_version),
                )
            changed = cur.rowcount
        if changed != 1:
            raise ConcurrentUpdateError(f"version {expected_version} is no longer current")

    def _remove(self, user_id: str) -> bool:
        with self._connection() as conn:
            existed = conn.execute(f"DELETE FROM {TABLE} WHERE user_id = ?", (user_id,)).rowcount
            # Best effort: fold the WAL (which still holds old page images) into the zeroed file.
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        return existed > 0

    # ----------------------------------------------------------------- maintenance

    def ping(self) -> None:
        """Check the file opens and the table answers.

        :raises StorageUnavailableError: it does not.
        """
        with self._connection() as conn:
            conn.execute(f"SELECT 1 FROM {TABLE} LIMIT 1").fetchall()

    def keys(self) -> list[str]:
        """Every stored user id, sorted (tests and maintenance only)."""
        with self._connection() as conn:
            return [r[0] for r in conn.execute(f"SELECT user_id FROM {TABLE} ORDER BY user_id")]

    def count(self) -> int:
        """Number of stored rows."""
        with self._connection() as conn:
            return int(conn.execute(f"SELECT COUNT(*) FROM {TABLE}").fetchone()[0])

    def purge_expired(self) -> int:
        """Delete rows past their expiry; how many went. (Also done once when the store opens.)"""
        with self._connection() as conn:
            return conn.execute(
                f"DELETE FROM {TABLE} WHERE expires_at IS NOT NULL AND expires_at <= ?",
                (int(self._clock().timestamp()),),
            ).rowcount

    def checkpoint(self) -> None:
        """Fold the WAL into the main file and truncate it (so a file scan sees everything)."""
        with self._connection() as conn:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
