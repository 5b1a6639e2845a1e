"""ask-sdk-core persistence adapter over a :class:`~skill.storage.base.Store`.

``get_attributes`` reads once per request and remembers the version it saw (keyed by the request
id); ``save_attributes`` writes conditionally on that version. On a conflict it retries once: it
re-reads and replays this request's changes onto the other writer's record (:func:`merge`: counters
add, tags and prompts append, so two requests doing the same thing both count), and writes again,
up to ``merge_retries`` times (5) under contention. If the record was deleted meanwhile, or every
merged write conflicts too, it raises
:class:`~skill.errors.ConcurrentUpdateError` (a :class:`~skill.errors.StorageUnavailableError`),
whose ``speech_key`` the skill's exception handler speaks.

Attributes pass through :class:`UserRecord` both ways, so only the documented schema is ever
stored: unknown keys are dropped (their names are logged, never their values).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import replace
from typing import Any, TypeVar

from ask_sdk_core.attributes_manager import AbstractPersistenceAdapter

from skill.errors import ConcurrentUpdateError, StorageUnavailableError
from skill.storage.base import Store, Stored, user_hash
from skill.storage.records import SCHEMA_KEY, SCHEMA_VERSION, RecordAttributes, UserRecord

log = logging.getLogger("skill.storage")
T = TypeVar("T")
R = TypeVar("R")
#: Runs bounded store calls; a stalled call occupies one thread until it returns.
_POOL = ThreadPoolExecutor(max_workers=16, thread_name_prefix="store")

_KNOWN_KEYS = frozenset(UserRecord().to_attributes())


class StorePersistenceAdapter(AbstractPersistenceAdapter):
    """Persistence adapter keyed by ``context.System.user.userId``; thread-safe.

    :param store: the backend (see :func:`skill.storage.open_store`).
    :param max_pending: how many read-but-not-yet-saved requests to remember.
    :param merge_retries: merged re-writes after a conflict before giving up.
    :param budget_s: time limit of one store call, in seconds.
    """

    def __init__(self, store: Store, max_pending: int = 4096, merge_retries: int = 5,
                 budget_s: float | None = None) -> None:
        self.store = store
        #: Seconds one store call may take (``None``: no limit). A call past it raises
        #: :class:`StorageUnavailableError`, so the person hears the apology in time. A store
        #: that bounds its own calls (SQLite) stops at the deadline; under the watchdog thread
        #: (other stores) the slow call finishes in the background, and its write is
        #: conditional, so nothing stored is lost or overwritten either way.
        self.budget_s = budget_s
        #: Merged re-writes after a conflict before giving up (each replays this request's
        #: changes onto the newest record, so retrying is safe).
        self.merge_retries = max(1, merge_retries)
        self._max_pending = max_pending
        self._pending: OrderedDict[tuple[str, str], Stored] = OrderedDict()
        self._lock = threading.Lock()

    # ----------------------------------------------------------------- SDK interface

    def get_attributes(self, request_envelope: Any) -> dict[str, Any]:
        """The user's stored attributes (a fresh record's for a new user), as a dict that
        carries the parsed record (:class:`RecordAttributes`).

        :raises StorageUnavailableError: the backend failed.
        """
        user_id = user_id_of(request_envelope)
        stored = self._bounded(self.store.get, user_id)
        self._remember(_request_key(request_envelope, user_id), stored)
        return RecordAttributes(stored.record)

    def save_attributes(self, request_envelope: Any, attributes: dict[str, Any]) -> None:
        """Write the attributes if they changed, conditionally on the version read.

        :raises RecordError: the attributes do not fit the schema (a handler bug).
        :raises ConcurrentUpdateError: a concurrent writer changed the same thing.
        :raises StorageUnavailableError: the backend failed.
        """
        user_id = user_id_of(request_envelope)
        ours = self._to_record(attributes, user_id)
        base = self._forget(_request_key(request_envelope, user_id))
        if base is None:
            # Saved without a read in this request: a deliberate replacement.
            self._bounded(self.store.update, user_id, lambda _current: ours, retries=1)
            return
        if ours == base.record and not base.replaced:
            return
        try:
            self._bounded(self.store.put, user_id, ours, base.version)
            return
        except ConcurrentUpdateError:
            log.info("storage: save conflict for user %s, merging", user_hash(user_id))
        for attempt in range(self.merge_retries):
            current = self._bounded(self.store.get, user_id)
            if base.exists and not current.exists:
                raise ConcurrentUpdateError("the record was deleted by another request")
            try:
                self._bounded(self.store.put, user_id, merge(base.record, ours, current.record),
                              current.version)
                return
            except ConcurrentUpdateError:
                if attempt == self.merge_retries - 1:
                    raise

    def delete_attributes(self, request_envelope: Any) -> None:
        """Delete everything stored for the request's user.

        :raises StorageUnavailableError: the backend failed.
        """
        user_id = user_id_of(request_envelope)
        self._forget(_request_key(request_envelope, user_id))
        self._bounded(self.store.delete, user_id)

    # ----------------------------------------------------------------- helpers

    def _bounded(self, call: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """``call(*args)`` within :attr:`budget_s`: on this thread when the store can bound its
        own calls (:meth:`Store.within`, e.g. SQLite), else on a small shared watchdog pool.

        :raises StorageUnavailableError: the call did not finish in time.
        """
        if self.budget_s is None:
            return call(*args, **kwargs)
        deadline = self.store.within(self.budget_s)
        if deadline is not None:
            with deadline:
                return call(*args, **kwargs)
        future = _POOL.submit(call, *args, **kwargs)
        try:
            return future.result(timeout=self.budget_s)
        except FutureTimeout:
            log.warning("storage: a call exceeded its %.1f s budget", self.budget_s)
            raise StorageUnavailableError("storage did not answer within its time budget") from None

    def _to_record(self, attributes: dict[str, Any], user_id: str) -> UserRecord:
        unknown = sorted(set(attributes) - _KNOWN_KEYS)
        if unknown:
            log.warning(
                "storage: dropping unknown attribute keys %s for user %s",
                unknown,
                user_hash(user_id),
            )
        if unknown or SCHEMA_KEY not in attributes:
            attributes = {k: v for k, v in attributes.items() if k in _KNOWN_KEYS}
            attributes.setdefault(SCHEMA_KEY, SCHEMA_VERSION)
        # Passed on as it is when nothing was dropped, so RecordAttributes that still hold
        # their record are read back without a second parse (UserRecord.from_attributes).
        return UserRecord.from_attributes(attributes)

    def _remember(self, key: tuple[str, str], stored: Stored) -> None:
        with self._lock:
            self._pending[key] = stored
            self._pending.move_to_end(key)
            while len(self._pending) > self._max_pending:
                self._pending.popitem(last=False)

    def _forget(self, key: tuple[str, str]) -> Stored | None:
        with self._lock:
            return self._pending.pop(key, None)


def merge(base: UserRecord, ours: UserRecord, theirs: UserRecord) -> UserRecord:
    """Three-way merge: this request's changes (``base`` -> ``ours``) replayed onto ``theirs``.

    Each field merges by what it means, so two requests that did the same kind of thing both
    count: the crisis counter adds our increment to theirs; check-in tags and recent prompts
    keep theirs plus the ones we added (and drop the ones we pruned); the streak keeps the later
    day; lesson progress keeps the most recently updated place; anything else we changed wins.
    """
    crisis_count = theirs.crisis_count + (ours.crisis_count - base.crisis_count)
    pruned = _minus(base.checkin_tags, ours.checkin_tags)
    tags = (*_minus(theirs.checkin_tags, pruned), *_minus(ours.checkin_tags, base.checkin_tags))
    added_prompts = [p for p in ours.recent_prompts if p not in base.recent_prompts]
    prompts = (*added_prompts, *(p for p in theirs.recent_prompts if p not in added_prompts))
    streak = theirs.streak
    if ours.streak != base.streak:
        later = (ours.streak.last_date or dt.date.min, ours.streak.count) >= (
            theirs.streak.last_date or dt.date.min, theirs.streak.count)
        streak = ours.streak if later else theirs.streak
    lesson = theirs.lesson
    if ours.lesson != base.lesson:
        lesson = ours.lesson
        if theirs.lesson is not None and ours.lesson is not None and theirs.lesson != base.lesson \
                and theirs.lesson.updated_at > ours.lesson.updated_at:
            lesson = theirs.lesson
    return replace(
        theirs,
        preferences=ours.preferences if ours.preferences != base.preferences else theirs.preferences,
        streak=streak,
        lesson=lesson,
        recent_prompts=prompts,
        checkin_tags=tags,
        crisis_count=max(0, crisis_count),
        ask_about_lesson=(ours.ask_about_lesson if ours.ask_about_lesson != base.ask_about_lesson
                          else theirs.ask_about_lesson),
    )


def _minus(items: tuple[T, ...], remove: tuple[T, ...]) -> tuple[T, ...]:
    """``items`` without one occurrence of each element of ``remove`` (a multiset difference)."""
    left = list(remove)
    kept = []
    for item in items:
        if item in left:
            left.remove(item)
        else:
            kept.append(item)
    return tuple(kept)


def user_id_of(request_envelope: Any) -> str:
    """The Alexa user id of a request (``context.System.user.userId``).

    :raises ValueError: the envelope carries no user id.
    """
    try:
        user_id = request_envelope.context.system.user.user_id
    except AttributeError:
        user_id = None
    if not isinstance(user_id, str) or not user_id:
        raise ValueError("request envelope has no context.System.user.userId")
    return user_id


def _request_key(request_envelope: Any, user_id: str) -> tuple[str, str]:
    request = getattr(request_envelope, "request", None)
    request_id = getattr(request, "request_id", None)
    if not isinstance(request_id, str):
        request_id = f"envelope-{id(request_envelope)}"
    return user_id, request_id
