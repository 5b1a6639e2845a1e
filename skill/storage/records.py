"""The typed per-user record: the one place raw stored attributes become values and back.

Everything a backend stores for a user passes through :meth:`UserRecord.from_attributes` and
:meth:`UserRecord.to_attributes`. Raw dicts may come from JSON (SQLite) or from DynamoDB (numbers as
:class:`~decimal.Decimal`); older schema versions are migrated forward here, check-in tags older
than :data:`TAG_RETENTION_DAYS` are pruned here, and unknown keys are dropped here. The record holds
identifiers, counters, dates and derived tags only: never words the user said.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

#: Current schema version written by :meth:`UserRecord.to_attributes`.
SCHEMA_VERSION = 3
#: Key of the schema version inside the attribute dict.
SCHEMA_KEY = "schema_version"
#: Check-in tags older than this many days (by tag date) are dropped on every load and save.
TAG_RETENTION_DAYS = 90
#: Upper bound on stored check-in tags (a few per day within the retention window).
MAX_CHECKIN_TAGS = 270
#: Upper bound on remembered prompt ids (most recent first).
RECENT_PROMPTS_MAX = 20
#: Polarities a derived check-in tag may carry.
POLARITIES = frozenset({"positive", "negative", "neutral", "mixed"})

# Tags and ids are machine identifiers (``work``, ``reflect.gratitude.03``): never free text.
_TAG_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
_LOCALE_RE = re.compile(r"^[a-z]{2}-[A-Z]{2}$")
_MAX_TAGS_PER_FIELD = 8
#: One stored check-in tag: ``date|polarity|emotion,emotion|topic,topic`` (schema 3). Tags and
#: polarities can hold neither ``|`` nor ``,``, so the text is unambiguous; one match checks
#: every part's shape at once.
_WORD = r"[a-z0-9][a-z0-9_.-]{0,39}"
_WIRE_TAG_RE = re.compile(
    rf"(\d{{4}}-\d{{2}}-\d{{2}})\|([a-z]+)\|((?:{_WORD})(?:,{_WORD})*)?\|((?:{_WORD})(?:,{_WORD})*)?"
)


class RecordError(ValueError):
    """Raised when raw attributes cannot be read as a user record (a corrupt row)."""


class FutureSchemaError(RecordError):
    """Raised when stored attributes carry a schema version newer than this code knows."""


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


# --------------------------------------------------------------------------- field validation


def _check_tag(value: str, what: str) -> str:
    if not isinstance(value, str) or not _TAG_RE.match(value):
        raise RecordError(f"{what} must be a short lowercase identifier, got {value!r:.60}")
    return value


def _check_id(value: str, what: str) -> str:
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise RecordError(f"{what} must be a short identifier, got {value!r:.60}")
    return value


def _check_locale(value: str) -> str:
    if not isinstance(value, str) or not _LOCALE_RE.match(value):
        raise RecordError(f"locale must look like 'en-US', got {value!r:.20}")
    return value


def _check_tags(values: Iterable[str], what: str) -> tuple[str, ...]:
    tags = tuple(dict.fromkeys(_check_tag(v, what) for v in values))
    if len(tags) > _MAX_TAGS_PER_FIELD:
        raise RecordError(f"at most {_MAX_TAGS_PER_FIELD} {what} per check-in, got {len(tags)}")
    return tags


def _check_count(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RecordError(f"{what} must be a non-negative int, got {value!r:.30}")
    return value


# --------------------------------------------------------------------------- values


@dataclass(frozen=True)
class Preferences:
    """What the user chose about the skill itself."""

    #: The locale the user last spoke in (``en-US``/``ja-JP``), or ``None`` before the first visit.
    locale: str | None = None

    def __post_init__(self) -> None:
        if self.locale is not None:
            _check_locale(self.locale)


@dataclass(frozen=True)
class Streak:
    """Consecutive days with a finished reflection."""

    count: int = 0
    last_date: dt.date | None = None

    def __post_init__(self) -> None:
        _check_count(self.count, "streak count")

    def current(self, today: dt.date | None = None) -> int:
        """The streak as it stands ``today`` (UTC today when omitted): its count while the last
        reflection was today or yesterday, else 0 (a streak that lapsed is not one to praise)."""
        day = today or _today()
        if self.last_date is None or not day - dt.timedelta(days=1) <= self.last_date <= day:
            return 0
        return self.count


@dataclass(frozen=True)
class LessonProgress:
    """Where the user is in an audio lesson."""

    lesson_id: str
    locale: str
    offset_ms: int
    finished: bool
    updated_at: dt.datetime

    def __post_init__(self) -> None:
        _check_id(self.lesson_id, "lesson id")
        _check_locale(self.locale)
        _check_count(self.offset_ms, "offset_ms")
        if self.updated_at.tzinfo is None:
            raise RecordError("updated_at must be timezone-aware")


@dataclass(frozen=True)
class CheckinTag:
    """What a check-in was about, derived by the check-in engine: never the words themselves."""

    date: dt.date
    polarity: str
    emotions: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.polarity not in POLARITIES:
            raise RecordError(
                f"polarity must be one of {sorted(POLARITIES)}, got {self.polarity!r:.30}"
            )
        object.__setattr__(self, "emotions", _check_tags(self.emotions, "emotions"))
        object.__setattr__(self, "topics", _check_tags(self.topics, "topics"))

    @functools.cached_property
    def wire(self) -> str:
        """The stored form: ``2025-03-10|mixed|calm,tired|work`` (built once per tag)."""
        return (f"{self.date.isoformat()}|{self.polarity}|{','.join(self.emotions)}"
                f"|{','.join(self.topics)}")

    @staticmethod
    def from_wire(text: str) -> CheckinTag:
        """The tag stored as ``text`` (see :attr:`wire`).

        :raises RecordError: ``text`` is not a stored tag.
        """
        if not isinstance(text, str):
            raise RecordError(f"a check-in tag must be text, got {type(text).__name__}")
        return _tag_from_wire(text)


@dataclass(frozen=True)
class UserRecord:
    """Everything stored for one user, as values. Build new ones with the ``with_*`` helpers."""

    preferences: Preferences = field(default_factory=Preferences)
    streak: Streak = field(default_factory=Streak)
    lesson: LessonProgress | None = None
    #: Ids of recently used prompts, most recent first, at most :data:`RECENT_PROMPTS_MAX`.
    recent_prompts: tuple[str, ...] = ()
    #: Derived check-in tags, oldest first.
    checkin_tags: tuple[CheckinTag, ...] = ()
    #: How many times a crisis path was taken (drives softer follow-ups; no details kept).
    crisis_count: int = 0
    #: Id of a finished lesson to ask the user about next time, if any.
    ask_about_lesson: str | None = None

    def __post_init__(self) -> None:
        prompts = tuple(dict.fromkeys(_check_id(p, "prompt id") for p in self.recent_prompts))
        object.__setattr__(self, "recent_prompts", prompts[:RECENT_PROMPTS_MAX])
        tags = tuple(sorted(self.checkin_tags, key=lambda t: t.date))
        object.__setattr__(self, "checkin_tags", tags[-MAX_CHECKIN_TAGS:])
        _check_count(self.crisis_count, "crisis count")
        if self.ask_about_lesson is not None:
            _check_id(self.ask_about_lesson, "lesson id")

    # ----------------------------------------------------------------- queries

    @property
    def is_new(self) -> bool:
        """Whether nothing at all is remembered about this user."""
        return self == UserRecord()

    # ----------------------------------------------------------------- updates (pure)

    def with_locale(self, locale: str) -> UserRecord:
        """Return a copy remembering ``locale`` as the user's language."""
        return replace(self, preferences=replace(self.preferences, locale=locale))

    def with_reflection(self, today: dt.date) -> UserRecord:
        """Return a copy with the streak advanced for a reflection finished on ``today``.

        The same day twice keeps the streak; the day after the last one adds one; a gap restarts
        it at one.
        """
        last = self.streak.last_date
        if last == today:
            return self
        count = self.streak.count + 1 if last == today - dt.timedelta(days=1) else 1
        return replace(self, streak=Streak(count=count, last_date=today))

    def with_prompt_used(self, prompt_id: str) -> UserRecord:
        """Return a copy with ``prompt_id`` first in the bounded recent-prompt list."""
        rest = tuple(p for p in self.recent_prompts if p != prompt_id)
        return replace(self, recent_prompts=(prompt_id, *rest)[:RECENT_PROMPTS_MAX])

    def with_checkin_tag(self, tag: CheckinTag) -> UserRecord:
        """Return a copy with a derived check-in tag appended."""
        return replace(self, checkin_tags=(*self.checkin_tags, tag))

    def with_lesson(self, progress: LessonProgress | None) -> UserRecord:
        """Return a copy with the lesson progress replaced (``None`` forgets it)."""
        return replace(self, lesson=progress)

    def with_crisis(self) -> UserRecord:
        """Return a copy with the crisis counter incremented."""
        return replace(self, crisis_count=self.crisis_count + 1)

    def pruned(self, today: dt.date | None = None) -> UserRecord:
        """Return a copy without check-in tags older than :data:`TAG_RETENTION_DAYS`.

        :param today: the reference day; UTC today when omitted.
        """
        cutoff = (today or _today()) - dt.timedelta(days=TAG_RETENTION_DAYS)
        kept = tuple(t for t in self.checkin_tags if t.date >= cutoff)
        # ``kept`` is a subsequence: same length means nothing was dropped.
        return self if len(kept) == len(self.checkin_tags) else replace(self, checkin_tags=kept)

    # ----------------------------------------------------------------- (de)serialisation

    def to_attributes(self) -> dict[str, Any]:
        """Plain JSON-compatible attributes (str, int, bool, None, list, dict) with the schema."""
        lesson = self.lesson
        return {
            SCHEMA_KEY: SCHEMA_VERSION,
            "preferences": {"locale": self.preferences.locale},
            "streak": {
                "count": self.streak.count,
                "last_date": _date_out(self.streak.last_date),
            },
            "lesson": None
            if lesson is None
            else {
                "lesson_id": lesson.lesson_id,
                "locale": lesson.locale,
                "offset_ms": lesson.offset_ms,
                "finished": lesson.finished,
                "updated_at": lesson.updated_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
            },
            "recent_prompts": list(self.recent_prompts),
            "checkin_tags": [t.wire for t in self.checkin_tags],
            "crisis_count": self.crisis_count,
            "ask_about_lesson": self.ask_about_lesson,
        }

    @classmethod
    def from_attributes(
        cls, raw: Mapping[str, Any] | None, today: dt.date | None = None
    ) -> UserRecord:
        """Read raw stored attributes (any schema version, JSON or DynamoDB types), then prune.

        An empty or missing mapping is a new user.

        :param raw: the attribute dict as stored.
        :param today: reference day for pruning; UTC today when omitted.
        :raises FutureSchemaError: if the schema version is newer than :data:`SCHEMA_VERSION`.
        :raises RecordError: if the attributes are malformed (the caller treats the row as corrupt).
        """
        if isinstance(raw, RecordAttributes) and raw.unchanged():
            return raw.record.pruned(today)  # made from a valid record: nothing to parse
        if not raw:
            return cls()
        if not isinstance(raw, Mapping):
            raise RecordError(f"attributes must be a mapping, got {type(raw).__name__}")
        data = migrate(raw)
        try:
            record = cls(
                preferences=Preferences(locale=_opt_str(_sub(data, "preferences").get("locale"))),
                streak=_streak_in(_sub(data, "streak")),
                lesson=_lesson_in(data.get("lesson")),
                recent_prompts=tuple(_str(p) for p in _list(data.get("recent_prompts"))),
                checkin_tags=tuple(map(CheckinTag.from_wire, _list(data.get("checkin_tags")))),
                crisis_count=_int(data.get("crisis_count", 0)),
                ask_about_lesson=_opt_str(data.get("ask_about_lesson")),
            )
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            if isinstance(exc, RecordError):
                raise
            raise RecordError(f"malformed attributes: {type(exc).__name__}: {exc}") from exc
        return record.pruned(today)


class RecordAttributes(dict[str, Any]):
    """``record.to_attributes()`` that still knows ``record``: read back without parsing again.

    The persistence adapter hands these to ask-sdk and :meth:`Turn.remember` hands them back,
    so a request parses its user's stored JSON once (in :meth:`Store.get`) instead of again for
    the handlers and again for the save. A parse validates every field of the record (about
    22 us with 60 check-in tags); checking that the mapping still equals its record's
    attributes costs about a third of that. The mapping stays an ordinary dict: change it
    in place (as ask-sdk allows) and it no longer equals its record, so it is parsed and
    validated like any stored row.
    """

    __slots__ = ("record",)

    def __init__(self, record: UserRecord) -> None:
        super().__init__(record.to_attributes())
        self.record = record

    def unchanged(self) -> bool:
        """Whether the mapping still holds exactly its record's attributes."""
        return self == self.record.to_attributes()

    def __reduce__(self) -> tuple[type[dict[str, Any]], tuple[dict[str, Any]]]:
        return dict, (dict(self),)  # copies and pickles are plain dicts, parsed when read


# --------------------------------------------------------------------------- migrations

Migration = Callable[[dict[str, Any]], dict[str, Any]]


def _v1_to_v2(old: dict[str, Any]) -> dict[str, Any]:
    """v1 (flat, pre-release) -> v2 (nested groups, crisis counter, lesson-to-ask marker).

    v1: ``locale``, ``streak`` (int), ``last_reflection`` (date), ``lesson`` (same shape as v2 but
    ``position_ms``, no ``locale``), ``recent_prompts``, ``tags`` (check-in tags).
    """
    lesson = old.get("lesson")
    if isinstance(lesson, Mapping):
        lesson = {
            "lesson_id": lesson.get("lesson_id"),
            "locale": lesson.get("locale", old.get("locale") or "en-US"),
            "offset_ms": lesson.get("position_ms", 0),
            "finished": bool(lesson.get("finished", False)),
            "updated_at": lesson.get("updated_at"),
        }
    return {
        SCHEMA_KEY: 2,
        "preferences": {"locale": old.get("locale")},
        "streak": {"count": old.get("streak", 0), "last_date": old.get("last_reflection")},
        "lesson": lesson,
        "recent_prompts": old.get("recent_prompts", []),
        "checkin_tags": old.get("tags", []),
        "crisis_count": 0,
        "ask_about_lesson": None,
    }


#: ``MIGRATIONS[n]`` turns schema ``n`` into schema ``n + 1``. Add one per version bump, never edit.
def _v2_to_v3(old: dict[str, Any]) -> dict[str, Any]:
    """v2 -> v3: each check-in tag becomes one line of text instead of an object.

    ``{"date": "2025-03-10", "polarity": "mixed", "emotions": ["calm"], "topics": ["work"]}``
    becomes ``"2025-03-10|mixed|calm|work"``: a person's history (up to 270 tags) is read and
    written on every request, and as objects it cost more to parse, copy and write than
    everything else in the record together (``docs/benchmarks.md``).

    :raises RecordError: a v2 tag is malformed.
    """
    try:
        tags = [_tag_in(tag).wire for tag in _list(old.get("checkin_tags"))]
    except (TypeError, ValueError, KeyError, AttributeError) as exc:
        if isinstance(exc, RecordError):
            raise
        raise RecordError(f"malformed v2 check-in tag: {type(exc).__name__}: {exc}") from exc
    return {**old, "checkin_tags": tags}


MIGRATIONS: dict[int, Migration] = {1: _v1_to_v2, 2: _v2_to_v3}


def migrate(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Bring raw attributes to :data:`SCHEMA_VERSION` by applying each migration in turn.

    A mapping without a schema version is version 1 (the first shape ever stored).

    :raises FutureSchemaError: if the version is newer than this code knows.
    :raises RecordError: if the version is not a positive integer.
    """
    data = dict(raw)
    try:
        version = _int(data.get(SCHEMA_KEY, 1))
    except RecordError as exc:
        raise RecordError(f"bad schema version: {exc}") from None
    if version < 1:
        raise RecordError(f"bad schema version {version}")
    if version > SCHEMA_VERSION:
        raise FutureSchemaError(
            f"schema version {version} is newer than this code's {SCHEMA_VERSION}"
        )
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data)
        version += 1
        data[SCHEMA_KEY] = version
    return data


# --------------------------------------------------------------------------- raw helpers


def _int(value: Any) -> int:
    """An int from JSON or DynamoDB (``Decimal``); bools and fractions are rejected."""
    if isinstance(value, bool):
        raise RecordError("expected an integer, got a bool")
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal | float):
        try:
            if value == int(value):
                return int(value)
        except (ValueError, OverflowError, ArithmeticError):
            pass
    raise RecordError(f"expected an integer, got {type(value).__name__}")


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise RecordError(f"expected a string, got {type(value).__name__}")
    return value


def _opt_str(value: Any) -> str | None:
    return None if value is None else _str(value)


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    raise RecordError(f"expected a list, got {type(value).__name__}")


def _sub(data: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise RecordError(f"{key} must be a mapping, got {type(value).__name__}")
    return value


def _date_in(value: Any) -> dt.date | None:
    return None if value is None else dt.date.fromisoformat(_str(value))


def _date_out(value: dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _streak_in(data: Mapping[str, Any]) -> Streak:
    return Streak(count=_int(data.get("count", 0)), last_date=_date_in(data.get("last_date")))


def _lesson_in(value: Any) -> LessonProgress | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise RecordError("lesson must be a mapping")
    updated = dt.datetime.fromisoformat(_str(value["updated_at"]))
    if updated.tzinfo is None:
        updated = updated.replace(tzinfo=dt.UTC)
    finished = value.get("finished", False)
    if not isinstance(finished, bool):
        raise RecordError("lesson.finished must be a bool")
    return LessonProgress(
        lesson_id=_str(value["lesson_id"]),
        locale=_str(value["locale"]),
        offset_ms=_int(value.get("offset_ms", 0)),
        finished=finished,
        updated_at=updated,
    )


@functools.lru_cache(maxsize=8192)
def _tag_from_wire(text: str) -> CheckinTag:
    """Parse one stored tag. Tags are values, so a parse is reused for the same text: a person's
    history is read on every request, mostly the same lines as last time.

    :raises RecordError: ``text`` is not a stored tag (not cached: errors are raised afresh).
    """
    match = _WIRE_TAG_RE.fullmatch(text)
    if match is None:
        raise RecordError(f"check-in tag is not 'date|polarity|emotions|topics': {text!r:.60}")
    day, polarity, emotions, topics = match.groups()
    try:
        date = dt.date.fromisoformat(day)
    except ValueError:
        raise RecordError(f"check-in tag has no real date: {day!r}") from None
    return CheckinTag(date=date, polarity=polarity,
                      emotions=tuple(emotions.split(",")) if emotions else (),
                      topics=tuple(topics.split(",")) if topics else ())


def _tag_in(value: Any) -> CheckinTag:
    """A schema-2 tag object (migrations only)."""
    if not isinstance(value, Mapping):
        raise RecordError("check-in tag must be a mapping")
    day = _date_in(value["date"])
    if day is None:
        raise RecordError("check-in tag needs a date")
    # Each emotion and topic is checked to be a short lowercase string by CheckinTag itself.
    return CheckinTag(
        date=day,
        polarity=_str(value["polarity"]),
        emotions=tuple(_list(value.get("emotions"))),
        topics=tuple(_list(value.get("topics"))),
    )
