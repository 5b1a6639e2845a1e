"""ModelSerializer answers exactly as ask-sdk-core's DefaultSerializer does, only faster.

The corpus is every kind of request the simulator can send (launch, every intent of both
interaction models with and without slot values, every AudioPlayer, PlaybackController and
system event, session ends) and every response the skill gave to them; Hypothesis then corrupts
those envelopes at random places. On each, the two serializers must produce equal objects (or
equal JSON), or both refuse with the same exception type.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import RequestEnvelope, ResponseEnvelope
from ask_sdk_model.slu.entityresolution import StatusCode
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from skill.serialization import ModelSerializer
from skill.simulator.conversation import Conversation
from skill.simulator.nlu import SlotValue, load_model
from tests.fuzz.support import FUZZ

LOCALES = ("en-US", "ja-JP")
EVENTS = (
    "AudioPlayer.PlaybackStarted", "AudioPlayer.PlaybackNearlyFinished",
    "AudioPlayer.PlaybackFinished", "AudioPlayer.PlaybackStopped", "AudioPlayer.PlaybackFailed",
    "PlaybackController.PlayCommandIssued", "PlaybackController.PauseCommandIssued",
    "PlaybackController.NextCommandIssued", "PlaybackController.PreviousCommandIssued",
    "System.ExceptionEncountered", "AlexaSkillEvent.SkillDisabled",
)
SDK = DefaultSerializer()


def _record_conversations(app: Flask) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every request kind the simulator makes, in both locales, with the skill's answers."""
    client = app.test_client()
    requests: list[dict[str, Any]] = []
    responses: list[dict[str, Any]] = []

    def transport(envelope: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        requests.append(copy.deepcopy(envelope))
        answer = client.post("/", json=envelope)
        payload = answer.get_json()
        responses.append(payload)
        return answer.status_code, payload

    for locale in LOCALES:
        conversation = Conversation(transport, locale=locale, user_id=f"amzn1.ask.account.{locale}")
        conversation.launch()
        model = load_model(locale)["interactionModel"]["languageModel"]
        for intent in model["intents"]:
            conversation.intent(intent["name"])
            slots = {slot["name"]: SlotValue("something", "ID", "name")
                     for slot in intent.get("slots", [])}
            if slots:
                conversation.intent(intent["name"], slots)
        for sample in ("start a reflection", "play a lesson on asking for help", "my day was rough"):
            conversation.say(sample)
        for event in EVENTS:
            conversation.event(event, {"offsetInMilliseconds": "1200"})
        conversation.end("ERROR")
    return requests, responses


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from skill.service import create_app

    db = tmp_path_factory.mktemp("serialization") / "skill.sqlite3"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REFLECT_DEV_SKIP_VERIFICATION", "1")
        app = create_app({"db_path": str(db)})
    return _record_conversations(app)


def _outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", call()
    except Exception as exc:  # the type is what must match, not the wording
        return "raised", type(exc)


def test_the_corpus_covers_every_request_kind(corpus: Any) -> None:
    """The equivalence tests below mean something only if the corpus is varied."""
    requests, responses = corpus
    kinds = {r["request"]["type"] for r in requests}
    assert {"LaunchRequest", "IntentRequest", "SessionEndedRequest"} <= kinds
    assert {e for e in EVENTS} <= kinds
    assert any(d for r in responses for d in r.get("response", {}).get("directives", []))


def test_every_request_decodes_to_what_the_sdk_decodes(corpus: Any) -> None:
    """If a request is one the simulator sends, then both serializers build equal envelopes."""
    ours = ModelSerializer()
    for envelope in corpus[0]:
        text = json.dumps(envelope)
        expected = SDK.deserialize(text, RequestEnvelope)
        assert ours.deserialize(text, RequestEnvelope) == expected
        assert ours.from_data(envelope, RequestEnvelope) == expected


def test_decoding_leaves_the_parsed_body_untouched(corpus: Any) -> None:
    """If the edge hands over the dict it verified, then decoding does not change it."""
    ours = ModelSerializer()
    for envelope in corpus[0]:
        before = copy.deepcopy(envelope)
        ours.from_data(envelope, RequestEnvelope)
        assert envelope == before


def test_every_response_encodes_to_the_sdks_json(corpus: Any) -> None:
    """If the skill answered with it, then both serializers write the same JSON."""
    ours = ModelSerializer()
    for payload in corpus[1]:
        model = SDK.deserialize(json.dumps(payload), ResponseEnvelope)
        assert ours.serialize(model) == SDK.serialize(model)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


def _replace(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    copied = copy.deepcopy(value)
    target = copied
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return copied


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=20) | st.sampled_from(["2026-11-25T21:00:00Z", "IntentRequest", "yesterday"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@FUZZ
@given(data=st.data())
def test_corrupted_requests_get_the_same_answer_from_both(corpus: Any, data: st.DataObject) -> None:
    """If any field of a real request is replaced by any JSON, then both serializers build equal
    envelopes or both refuse it with the same exception type."""
    envelope = data.draw(st.sampled_from(corpus[0]))
    path = data.draw(st.sampled_from(_paths(envelope)))
    broken = _replace(envelope, path, data.draw(JSON))
    text = json.dumps(broken)
    expected = _outcome(lambda: SDK.deserialize(text, RequestEnvelope))
    assert _outcome(lambda: ModelSerializer().from_data(broken, RequestEnvelope)) == expected


@pytest.mark.parametrize("stamp", [
    "2026-11-25T21:00:00Z", "2026-11-25T21:00:00.250Z", "2026-11-25T21:00:00+09:00",
    "2026-11-25T21:00:00", "2026-11-25 21:00:00", "25 Nov 2026 21:00 UTC", "2026-11-25",
])
def test_timestamps_parse_as_the_sdk_parses_them(stamp: str) -> None:
    """If a timestamp is in Alexa's shape or any shape dateutil reads, then it means the same."""
    assert ModelSerializer().from_data(stamp, "datetime") == SDK._DefaultSerializer__deserialize(
        stamp, dt.datetime)
    assert ModelSerializer().from_data(stamp, "date") == SDK._DefaultSerializer__deserialize(
        stamp, dt.date)


def test_an_unreadable_timestamp_is_refused() -> None:
    """If the timestamp is not a date at all, then decoding raises SerializationException."""
    with pytest.raises(SerializationException):
        ModelSerializer().from_data("not a time", "datetime")


def test_text_that_is_not_json_is_refused() -> None:
    with pytest.raises(SerializationException):
        ModelSerializer().deserialize("{not json", RequestEnvelope)


def test_an_unknown_model_class_is_refused_when_it_is_needed() -> None:
    """If a type names a class that does not exist, then decoding a value of it raises."""
    serializer = ModelSerializer()
    assert serializer.from_data(None, "no_such_module.Thing") is None
    with pytest.raises(SerializationException):
        serializer.from_data({"a": 1}, "no_such_module.Thing")


def test_enums_and_containers_decode_like_the_sdk() -> None:
    ours = ModelSerializer()
    assert ours.from_data("ER_SUCCESS_MATCH", StatusCode) is StatusCode.ER_SUCCESS_MATCH
    assert ours.from_data(["1", 2], "list[int]") == [1, 2]
    assert ours.from_data({"a": "1"}, "dict(str, int)") == {"a": 1}
    with pytest.raises(SerializationException):
        ours.from_data("NOT_A_CODE", StatusCode)


def test_decoding_from_many_threads_at_once_gives_the_same_envelopes(corpus: Any) -> None:
    """If eight threads decode on one fresh serializer, then its caches give every one the
    same envelopes the SDK gives."""
    ours = ModelSerializer()
    expected = [SDK.deserialize(json.dumps(e), RequestEnvelope) for e in corpus[0]]
    failures: list[int] = []

    def run() -> None:
        for index, envelope in enumerate(corpus[0]):
            if ours.from_data(envelope, RequestEnvelope) != expected[index]:
                failures.append(index)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
