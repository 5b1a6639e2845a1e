"""The ask-sdk persistence adapter over both backends: per-request versions, merge, delete."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from ask_sdk_core.attributes_manager import AttributesManager
from ask_sdk_model import Context, LaunchRequest, RequestEnvelope, User
from ask_sdk_model.application import Application
from ask_sdk_model.interfaces.system import SystemState

from skill.errors import StorageUnavailableError
from skill.storage import RecordAttributes, UserRecord
from skill.storage.adapter import StorePersistenceAdapter, merge, user_id_of
from tests.storage.conftest import USER, Backend


def envelope(request_id: str, user_id: str = USER) -> RequestEnvelope:
    """A minimal request envelope for ``user_id``."""
    system = SystemState(application=Application("amzn1.ask.skill.test"), user=User(user_id))
    return RequestEnvelope(
        version="1.0",
        context=Context(system=system),
        request=LaunchRequest(request_id=request_id, locale="en-US"),
    )


def test_round_trip_through_attributes_manager(backend: Backend) -> None:
    """If a handler changes persistent attributes and saves, then the next request sees them."""
    adapter = StorePersistenceAdapter(backend.store)
    first = AttributesManager(envelope("r1"), persistence_adapter=adapter)
    attrs = first.persistent_attributes
    assert UserRecord.from_attributes(attrs).is_new
    attrs["crisis_count"] = 1
    attrs["recent_prompts"] = ["reflect.rest.01"]
    first.save_persistent_attributes()
    second = AttributesManager(envelope("r2"), persistence_adapter=adapter)
    record = UserRecord.from_attributes(second.persistent_attributes)
    assert (record.crisis_count, record.recent_prompts) == (1, ("reflect.rest.01",))
    assert backend.store.get(USER).version == 1


def test_read_attributes_carry_their_parsed_record(backend: Backend) -> None:
    """If a handler reads the attributes, then the parsed record comes with them (no second
    parse); once they are changed in place, even deep inside, they are parsed again."""
    backend.store.put(USER, UserRecord().with_crisis().with_prompt_used("reflect.rest.01"), 0)
    adapter = StorePersistenceAdapter(backend.store)
    attrs = AttributesManager(envelope("r1"), persistence_adapter=adapter).persistent_attributes
    assert isinstance(attrs, RecordAttributes)
    assert UserRecord.from_attributes(attrs) is attrs.record
    assert attrs.record == backend.store.get(USER).record
    attrs["recent_prompts"].append("reflect.rest.02")
    changed = UserRecord.from_attributes(attrs)
    assert changed is not attrs.record
    assert changed.recent_prompts == ("reflect.rest.01", "reflect.rest.02")


def test_unchanged_save_writes_nothing(backend: Backend) -> None:
    """If nothing changed in a request, then saving does not write."""
    adapter = StorePersistenceAdapter(backend.store)
    adapter.save_attributes(envelope("r0"), UserRecord().with_crisis().to_attributes())
    attrs = adapter.get_attributes(envelope("r1"))
    adapter.save_attributes(envelope("r1"), attrs)
    assert backend.store.get(USER).version == 1


def test_concurrent_requests_changing_different_fields_both_land(backend: Backend) -> None:
    """If two requests change different fields at once, then both changes are kept."""
    adapter = StorePersistenceAdapter(backend.store)
    a = adapter.get_attributes(envelope("ra"))
    b = adapter.get_attributes(envelope("rb"))
    a["crisis_count"] = 1
    b["preferences"] = {"locale": "ja-JP"}
    adapter.save_attributes(envelope("ra"), a)
    adapter.save_attributes(envelope("rb"), b)
    record = backend.store.get(USER).record
    assert (record.crisis_count, record.preferences.locale) == (1, "ja-JP")


def test_concurrent_increments_of_the_same_counter_both_count(backend: Backend) -> None:
    """If two requests each add to the same counter from the same starting point, then both
    additions are kept (no lost update), not just the last writer's value."""
    adapter = StorePersistenceAdapter(backend.store)
    a = adapter.get_attributes(envelope("ra"))
    b = adapter.get_attributes(envelope("rb"))
    a["crisis_count"] = 1
    b["crisis_count"] = 5
    adapter.save_attributes(envelope("ra"), a)
    adapter.save_attributes(envelope("rb"), b)
    assert backend.store.get(USER).record.crisis_count == 6


def test_concurrent_check_ins_both_keep_their_tag(backend: Backend) -> None:
    """If two requests each append the same-looking check-in tag, then both tags are stored."""
    import datetime as dt

    from skill.storage.records import CheckinTag

    adapter = StorePersistenceAdapter(backend.store)
    a = adapter.get_attributes(envelope("ra"))
    b = adapter.get_attributes(envelope("rb"))
    tag = CheckinTag(date=dt.date.today(), polarity="negative", emotions=("tired",))
    for request_id, attributes in (("ra", a), ("rb", b)):
        record = UserRecord.from_attributes(attributes).with_checkin_tag(tag)
        adapter.save_attributes(envelope(request_id), record.to_attributes())
    assert len(backend.store.get(USER).record.checkin_tags) == 2


def test_delete_then_stale_save_does_not_resurrect(backend: Backend) -> None:
    """If a user's data is deleted while another request holds it, then that save is refused."""
    adapter = StorePersistenceAdapter(backend.store)
    adapter.save_attributes(envelope("r0"), UserRecord().with_crisis().to_attributes())
    stale = adapter.get_attributes(envelope("r1"))
    manager = AttributesManager(envelope("r2"), persistence_adapter=adapter)
    manager.delete_persistent_attributes()
    assert backend.store.keys() == []
    stale["preferences"] = {"locale": "en-US"}
    with pytest.raises(StorageUnavailableError, match="deleted"):
        adapter.save_attributes(envelope("r1"), stale)
    assert backend.store.keys() == []


def test_unknown_keys_and_words_are_not_stored(
    backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    """If a handler puts an utterance into persistent attributes, then it is dropped, not stored."""
    utterance = "my manager yelled at me in front of everyone"
    adapter = StorePersistenceAdapter(backend.store)
    attrs: dict[str, Any] = adapter.get_attributes(envelope("r1"))
    attrs["last_utterance"] = utterance
    attrs["crisis_count"] = 2
    caplog.set_level(logging.WARNING, logger="skill.storage")
    adapter.save_attributes(envelope("r1"), attrs)
    assert "last_utterance" in caplog.text
    assert utterance not in caplog.text
    assert utterance not in backend.dump()
    assert backend.store.get(USER).record.crisis_count == 2


def test_user_id_is_required() -> None:
    """If an envelope carries no user, then the adapter refuses it."""
    bare = RequestEnvelope(version="1.0", request=LaunchRequest(request_id="r"))
    with pytest.raises(ValueError, match="userId"):
        user_id_of(bare)
    assert user_id_of(envelope("r")) == USER


def test_merge_replays_our_changes_onto_theirs() -> None:
    """If each side changed something, then merge keeps both: increments add up, and for a
    plain setting both changed, ours (the later write) wins."""
    base = UserRecord()
    ours = base.with_crisis()
    theirs = base.with_locale("en-US")
    assert merge(base, ours, theirs) == base.with_crisis().with_locale("en-US")
    assert merge(base, ours, ours).crisis_count == 2  # the same increment, made twice
    assert merge(base, base.with_locale("ja-JP"), theirs).preferences.locale == "ja-JP"


def test_skill_disabled_event_envelope_purges(backend: Backend) -> None:
    """If a SkillDisabled event's envelope is passed to delete_attributes, then the user is gone."""
    from ask_sdk_model.events.skillevents import SkillDisabledRequest

    adapter = StorePersistenceAdapter(backend.store)
    adapter.save_attributes(envelope("r0"), UserRecord().with_crisis().to_attributes())
    system = SystemState(application=Application("amzn1.ask.skill.test"), user=User(USER))
    event = RequestEnvelope(
        version="1.0",
        context=Context(system=system),
        request=SkillDisabledRequest(request_id="ev1"),
    )
    adapter.delete_attributes(event)
    assert backend.store.keys() == []
    assert USER not in backend.dump()
