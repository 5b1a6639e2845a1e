"""The typed user record: conversion, validation, migrations, pruning, pure update helpers."""

from __future__ import annotations

import copy
import datetime as dt
import json
import pickle
from decimal import Decimal

import pytest

from skill.storage.records import (
    MIGRATIONS,
    RECENT_PROMPTS_MAX,
    SCHEMA_VERSION,
    TAG_RETENTION_DAYS,
    CheckinTag,
    FutureSchemaError,
    LessonProgress,
    Preferences,
    RecordAttributes,
    RecordError,
    Streak,
    UserRecord,
    migrate,
)

TODAY = dt.date(2025, 3, 10)


def sample() -> UserRecord:
    """A record with every field set."""
    return UserRecord(
        preferences=Preferences("en-US"),
        streak=Streak(2, TODAY),
        lesson=LessonProgress(
            "breath.box.01", "en-US", 5000, True, dt.datetime(2025, 3, 9, 8, tzinfo=dt.UTC)
        ),
        recent_prompts=("a.one", "b.two"),
        checkin_tags=(CheckinTag(TODAY, "mixed", ("calm",), ("work",)),),
        crisis_count=3,
        ask_about_lesson="breath.box.01",
    )


def test_round_trip_through_json() -> None:
    """If a record goes to attributes, JSON and back, then it is unchanged."""
    raw = json.loads(json.dumps(sample().to_attributes()))
    assert raw["schema_version"] == SCHEMA_VERSION
    assert UserRecord.from_attributes(raw, today=TODAY) == sample()


def test_record_attributes_read_back_without_parsing() -> None:
    """If attributes were made from a record, then reading them gives that record back (pruned
    like any read), and they hold exactly what ``to_attributes`` would, as JSON."""
    record = sample()
    attrs = RecordAttributes(record)
    assert UserRecord.from_attributes(attrs, today=TODAY) is record
    assert json.loads(json.dumps(attrs)) == json.loads(json.dumps(record.to_attributes()))
    old = UserRecord(checkin_tags=(CheckinTag(TODAY - dt.timedelta(days=TAG_RETENTION_DAYS + 1),
                                              "neutral"),))
    assert UserRecord.from_attributes(RecordAttributes(old), today=TODAY).checkin_tags == ()


def test_changed_record_attributes_are_validated_like_any_row() -> None:
    """If read-back attributes are changed in place, then they are parsed and validated."""
    attrs = RecordAttributes(sample())
    attrs["streak"]["count"] = -1
    with pytest.raises(RecordError):
        UserRecord.from_attributes(attrs, today=TODAY)


def test_copies_of_record_attributes_are_plain_and_parsed_again() -> None:
    """If read-only attributes are copied, then the copy is an ordinary dict that may change,
    and reading it validates it as any stored row."""
    for copied in (copy.copy(RecordAttributes(sample())), copy.deepcopy(RecordAttributes(sample())),
                   pickle.loads(pickle.dumps(RecordAttributes(sample())))):
        assert type(copied) is dict
        copied["crisis_count"] = -1
        with pytest.raises(RecordError):
            UserRecord.from_attributes(copied, today=TODAY)


def test_decimals_from_dynamodb_are_ints() -> None:
    """If numbers arrive as Decimal, then they become ints; fractional ones are corrupt."""
    raw = sample().to_attributes()
    raw["crisis_count"] = Decimal("3")
    raw["streak"]["count"] = Decimal(2)
    raw["lesson"]["offset_ms"] = Decimal("5000")
    assert UserRecord.from_attributes(raw, today=TODAY) == sample()
    raw["crisis_count"] = Decimal("2.5")
    with pytest.raises(RecordError, match="integer"):
        UserRecord.from_attributes(raw, today=TODAY)
    raw["crisis_count"] = Decimal("NaN")
    with pytest.raises(RecordError, match="integer"):
        UserRecord.from_attributes(raw, today=TODAY)


def test_empty_is_new_user() -> None:
    """If there are no attributes, then the record is a new user's."""
    assert UserRecord.from_attributes(None).is_new
    assert UserRecord.from_attributes({}).is_new
    assert not sample().is_new


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"crisis_count": True}, "integer"),
        ({"crisis_count": -1}, "non-negative"),
        ({"recent_prompts": "a.one"}, "list"),
        ({"streak": {"count": 1, "last_date": "yesterday"}}, "Invalid isoformat"),
        ({"preferences": {"locale": "english"}}, "locale"),
        ({"lesson": {"lesson_id": "x"}}, "KeyError"),
        ({"checkin_tags": ["2025-03-10|sad||"]}, "polarity"),
        ({"checkin_tags": ["2025-03-10|mixed|Calm|"]}, "date\\|polarity"),
        ({"checkin_tags": ["2025-03-10|mixed|calm"]}, "date\\|polarity"),
        ({"checkin_tags": ["2025-02-30|mixed||"]}, "real date"),
        ({"checkin_tags": [{"date": "2025-03-10", "polarity": "mixed"}]}, "must be text"),
        ({"checkin_tags": ["2025-03-10|mixed|a,b,c,d,e,f,g,h,i|"]}, "at most 8"),
    ],
)
def test_malformed_attributes_are_record_errors(change: dict[str, object], message: str) -> None:
    """If a field is malformed, then from_attributes raises RecordError naming the problem."""
    raw = sample().to_attributes() | change
    with pytest.raises(RecordError, match=message):
        UserRecord.from_attributes(raw, today=TODAY)


def test_free_text_cannot_become_a_tag() -> None:
    """If a tag, id or polarity is free text, then the value is refused."""
    with pytest.raises(RecordError, match="identifier"):
        CheckinTag(TODAY, "positive", ("I felt great today",))
    with pytest.raises(RecordError, match="identifier"):
        UserRecord().with_prompt_used("what did you do today?")
    with pytest.raises(RecordError, match="at most 8"):
        CheckinTag(TODAY, "positive", tuple(f"e{i}" for i in range(9)))


def test_migration_chain_is_complete() -> None:
    """If a schema version is older than current, then a migration exists for it."""
    assert sorted(MIGRATIONS) == list(range(1, SCHEMA_VERSION))


def test_v1_migrates_to_current() -> None:
    """If attributes have no schema version, then they are read as v1 and migrated."""
    v1 = {
        "locale": "ja-JP",
        "streak": 5,
        "last_reflection": "2025-03-09",
        "recent_prompts": ["a.one"],
        "tags": [{"date": "2025-03-08", "polarity": "positive", "emotions": ["joy"]}],
        "lesson": {"lesson_id": "l.one", "position_ms": 10, "updated_at": "2025-03-09T10:00:00"},
    }
    migrated = migrate(v1)
    assert migrated["schema_version"] == SCHEMA_VERSION
    record = UserRecord.from_attributes(v1, today=TODAY)
    assert record.preferences.locale == "ja-JP"
    assert record.streak == Streak(5, dt.date(2025, 3, 9))
    assert record.checkin_tags == (CheckinTag(dt.date(2025, 3, 8), "positive", ("joy",)),)
    assert record.lesson == LessonProgress(
        "l.one", "ja-JP", 10, False, dt.datetime(2025, 3, 9, 10, tzinfo=dt.UTC)
    )
    assert (record.crisis_count, record.ask_about_lesson) == (0, None)


def test_v2_tag_objects_migrate_to_one_line_each() -> None:
    """If a v2 row holds check-in tags as objects, then they read as the same tags, and the row
    is written back with each tag as one line of text."""
    v2 = sample().to_attributes() | {"schema_version": 2, "checkin_tags": [
        {"date": "2025-03-08", "polarity": "negative", "emotions": ["tired", "tense"],
         "topics": []},
        {"date": "2025-03-10", "polarity": "mixed", "emotions": ["calm"], "topics": ["work"]},
    ]}
    record = UserRecord.from_attributes(v2, today=TODAY)
    assert record.checkin_tags == (
        CheckinTag(dt.date(2025, 3, 8), "negative", ("tired", "tense")),
        CheckinTag(dt.date(2025, 3, 10), "mixed", ("calm",), ("work",)),
    )
    assert record.to_attributes()["checkin_tags"] == ["2025-03-08|negative|tired,tense|",
                                                      "2025-03-10|mixed|calm|work"]
    with pytest.raises(RecordError, match="polarity"):
        migrate(v2 | {"checkin_tags": [{"date": "2025-03-08", "polarity": "sad"}]})
    with pytest.raises(RecordError, match="malformed v2 check-in tag"):
        migrate(v2 | {"checkin_tags": [{"polarity": "mixed"}]})


def test_every_tag_survives_its_line_of_text() -> None:
    """If any valid tag is written as text, then reading the text gives the same tag back."""
    for tag in (CheckinTag(TODAY, "neutral"), CheckinTag(TODAY, "positive", ("joy", "calm.1")),
                CheckinTag(TODAY, "mixed", (), ("work", "sleep_late", "family-time")),
                CheckinTag(TODAY, "negative", tuple(f"e{i}" for i in range(8)), ("x",))):
        assert CheckinTag.from_wire(tag.wire) == tag


def test_future_and_bad_versions() -> None:
    """If the schema version is newer or nonsense, then FutureSchemaError or RecordError."""
    with pytest.raises(FutureSchemaError, match="newer"):
        migrate({"schema_version": SCHEMA_VERSION + 1})
    with pytest.raises(RecordError, match="bad schema version"):
        migrate({"schema_version": "two"})
    with pytest.raises(RecordError, match="bad schema version"):
        migrate({"schema_version": 0})


def test_pruning_boundary() -> None:
    """If a tag is exactly 90 days old, then it stays; one day older goes."""
    edge = TODAY - dt.timedelta(days=TAG_RETENTION_DAYS)
    record = UserRecord(
        checkin_tags=(
            CheckinTag(edge - dt.timedelta(days=1), "neutral"),
            CheckinTag(edge, "neutral"),
        )
    )
    assert [t.date for t in record.pruned(TODAY).checkin_tags] == [edge]
    raw = record.to_attributes()
    assert len(UserRecord.from_attributes(raw, today=TODAY).checkin_tags) == 1


def test_recent_prompts_are_bounded_and_most_recent_first() -> None:
    """If many prompts are used, then the list keeps the latest, newest first, without repeats."""
    record = UserRecord()
    for i in range(RECENT_PROMPTS_MAX + 5):
        record = record.with_prompt_used(f"p.{i}")
    record = record.with_prompt_used("p.10")
    assert len(record.recent_prompts) == RECENT_PROMPTS_MAX
    assert record.recent_prompts[:2] == ("p.10", f"p.{RECENT_PROMPTS_MAX + 4}")
    assert record.recent_prompts.count("p.10") == 1


def test_streak_rules() -> None:
    """If reflections come on consecutive days, then the streak grows; a gap restarts it."""
    record = UserRecord().with_reflection(TODAY)
    assert record.streak == Streak(1, TODAY)
    assert record.with_reflection(TODAY) is record
    nxt = record.with_reflection(TODAY + dt.timedelta(days=1))
    assert nxt.streak.count == 2
    assert nxt.with_reflection(TODAY + dt.timedelta(days=5)).streak.count == 1


def test_a_streak_counts_only_while_it_lasts() -> None:
    """If the last reflection was today or yesterday, then the streak stands; after a gap of a
    day or more, or before any reflection, it is 0 (the stored count is kept as it was)."""
    streak = Streak(3, TODAY)
    assert streak.current(TODAY) == 3
    assert streak.current(TODAY + dt.timedelta(days=1)) == 3
    assert streak.current(TODAY + dt.timedelta(days=2)) == 0
    assert streak.current(TODAY + dt.timedelta(days=17)) == 0
    assert streak.current(TODAY - dt.timedelta(days=1)) == 0  # a clock behind the record
    assert Streak().current(TODAY) == 0


def test_lesson_needs_aware_time() -> None:
    """If lesson progress has a naive timestamp, then it is refused."""
    with pytest.raises(RecordError, match="timezone-aware"):
        LessonProgress("l.one", "en-US", 0, False, dt.datetime(2025, 1, 1))
    assert UserRecord().with_lesson(None).lesson is None
