"""The store interface shared by every backend: versioned reads, conditional writes, ``update``.

Backends implement four raw operations (:meth:`Store._load`, :meth:`Store._write`,
:meth:`Store._remove`, :meth:`Store._decode`) plus ``ping``/``keys``; everything else (parsing,
migration, pruning, TTL, corrupt-row handling, the retry loop) lives here once.

Versions: ``0`` means "no row"; a write succeeds only if the row still has the version that was
read (``put(..., expected_version=v)`` writes ``v + 1``), so a concurrent writer is never silently
overwritten. :data:`UNKNOWN_VERSION` marks a row whose version itself is unreadable.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from skill.errors import ConcurrentUpdateError, StorageUnavailableError
from skill.storage.records import FutureSchemaError, RecordError, UserRecord

log = logging.getLogger("skill.storage")

#: Rows not written for this many days expire (DynamoDB TTL; SQLite ignores and purges them).
DEFAULT_TTL_DAYS = 180
#: Version of a row that exists but whose version attribute cannot be read.
UNKNOWN_VERSION = -1

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


def user_hash(user_id: str) -> str:
    """A short, stable, non-reversible tag for a user id, safe to put in logs."""
    return hashlib.sha256(user_id.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Stored:
    """A user's record as read, with the version a conditional write must match."""

    record: UserRecord
    #: ``0`` when there is no row; :data:`UNKNOWN_VERSION` for a row with an unreadable version.
    version: int
    #: The row existed but could not be read (or had expired): ``record`` is a fresh one.
    replaced: bool = False

    @property
    def exists(self) -> bool:
        """Whether a row is stored for the user (readable or not)."""
        return self.version != 0


@dataclass(frozen=True)
class RawRow:
    """What a backend read: the undecoded payload, the version and the expiry (epoch seconds)."""

    payload: Any
    version: int
    expires_at: int | None = None


class Store(ABC):
    """Per-user record storage with optimistic concurrency; thread-safe.

    :param ttl_days: days without a write after which a row expires (``None``: never).
    :param clock: source of "now" (tests pass a fixed one).
    """

    backend = "abstract"

    def __init__(self, ttl_days: int | None = DEFAULT_TTL_DAYS, clock: Clock = utc_now) -> None:
        self.ttl_days = ttl_days
        self._clock = clock

    # ----------------------------------------------------------------- backend hooks

    @abstractmethod
    def _load(self, user_id: str) -> RawRow | None:
        """Read the raw row, or ``None``. :raises StorageUnavailableError: backend failure."""

    @abstractmethod
    def _decode(self, payload: Any) -> Mapping[str, Any]:
        """Turn a stored payload into an attribute mapping. :raises RecordError: unreadable."""

    @abstractmethod
    def _write(
        self,
        user_id: str,
        attributes: dict[str, Any],
        expected_version: int,
        new_version: int,
        expires_at: int | None,
    ) -> None:
        """Write the row iff its version is ``expected_version`` (``0``: iff absent).

        :raises ConcurrentUpdateError: the version did not match.
        :raises StorageUnavailableError: backend failure.
        """

    @abstractmethod
    def _remove(self, user_id: str) -> bool:
        """Delete the row; whether one existed. :raises StorageUnavailableError: backend failure."""

    @abstractmethod
    def ping(self) -> None:
        """Check the backend answers. :raises StorageUnavailableError: it does not."""

    @abstractmethod
    def keys(self) -> list[str]:
        """Every stored user id (tests and maintenance only: scans everything)."""

    def within(self, seconds: float) -> AbstractContextManager[None] | None:
        """A context in which every call ends within ``seconds`` by the backend's own means, or
        ``None`` when the backend cannot promise that: the adapter then runs each call on a
        watchdog thread instead (about 45 us of CPU per call on the reference machine, so
        backends that can bound their calls themselves should say so here).
        """
        return None

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing open
        """Release resources held by the store (idempotent)."""

    # ----------------------------------------------------------------- public API

    def count(self) -> int:
        """Number of stored rows (tests and maintenance only)."""
        return len(self.keys())

    def get(self, user_id: str) -> Stored:
        """Read a user's record; a missing, expired or corrupt row reads as a fresh record.

        :raises StorageUnavailableError: the backend failed, or the row was written by a newer
            schema version (it is left untouched rather than overwritten).
        """
        _check_user_id(user_id)
        row = self._load(user_id)
        if row is None:
            return Stored(UserRecord(), 0)
        now = self._clock()
        if row.expires_at is not None and row.expires_at <= int(now.timestamp()):
            return Stored(UserRecord(), row.version, replaced=True)
        try:
            record = UserRecord.from_attributes(self._decode(row.payload), today=now.date())
        except FutureSchemaError as exc:
            log.error("storage: user %s has a newer schema (%s)", user_hash(user_id), exc)
            raise StorageUnavailableError("stored record has a newer schema version") from exc
        except RecordError as exc:
            log.warning(
                "storage: unreadable record for user %s, starting fresh (%s)",
                user_hash(user_id),
                type(exc).__name__,
            )
            return Stored(UserRecord(), row.version, replaced=True)
        return Stored(record, row.version)

    def put(
        self, user_id: str, attrs: UserRecord | Mapping[str, Any], expected_version: int
    ) -> int:
        """Write a record iff the stored version is still ``expected_version``; the new version.

        :param attrs: a record, or raw attributes (validated; unknown keys are dropped).
        :param expected_version: the version :meth:`get` returned (``0``: create only).
        :raises RecordError: ``attrs`` is not a valid record.
        :raises ConcurrentUpdateError: another writer got there first.
        :raises StorageUnavailableError: the backend failed.
        """
        _check_user_id(user_id)
        now = self._clock()
        if isinstance(attrs, UserRecord):
            record = attrs.pruned(now.date())
        else:
            record = UserRecord.from_attributes(attrs, today=now.date())
        new_version = expected_version + 1 if expected_version > 0 else 1
        expires_at = (
            None if self.ttl_days is None else int(now.timestamp()) + self.ttl_days * 86_400
        )
        self._write(user_id, record.to_attributes(), expected_version, new_version, expires_at)
        return new_version

    def delete(self, user_id: str) -> bool:
        """Remove everything stored for a user; whether anything was there.

        :raises StorageUnavailableError: the backend failed.
        """
        _check_user_id(user_id)
        existed = self._remove(user_id)
        log.info("storage: deleted user %s (existed=%s)", user_hash(user_id), existed)
        return existed

    def update(
        self, user_id: str, fn: Callable[[UserRecord], UserRecord], retries: int = 1
    ) -> UserRecord:
        """Read, apply ``fn``, write conditionally; on conflict re-read and re-apply.

        Nothing is written when ``fn`` returns an equal record for a readable row.

        :param fn: pure function from the current record to the new one (may run several times).
        :param retries: extra attempts after the first conflict.
        :raises ConcurrentUpdateError: still conflicting after ``retries`` retries.
        :raises StorageUnavailableError: the backend failed.
        """
        for attempt in range(retries + 1):
            stored = self.get(user_id)
            new = fn(stored.record)
            if new == stored.record and not stored.replaced:
                return new
            try:
                self.put(user_id, new, stored.version)
            except ConcurrentUpdateError:
                log.info(
                    "storage: write conflict for user %s (attempt %d)",
                    user_hash(user_id),
                    attempt + 1,
                )
                continue
            return new
        raise ConcurrentUpdateError(f"gave up after {retries + 1} conflicting writes")


def _check_user_id(user_id: str) -> None:
    if not isinstance(user_id, str) or not user_id:
        raise ValueError("user id must be a non-empty string")
