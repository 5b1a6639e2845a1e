"""Storage faults: down (SQLite path is a directory, DynamoDB on a closed or silent port) and
failing mid-conversation. The person always hears something sensible, a crisis reply never
depends on storage, a failed delete is never reported as done, and nothing stored is lost.

(tests/handlers/test_errors.py already covers launch, "what do you remember" and a whole
reflection with SQLite down; these add the other features, DynamoDB, and injected failures.)
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from skill.service import create_app
from skill.simulator.chat import make_transport
from skill.simulator.conversation import Conversation
from skill.simulator.nlu import SlotValue
from tests.faults.conftest import USER, Seeded
from tests.fuzz.support import ALEXA_DEADLINE_S, check_answer, says_one_of, speech_of

LOCALES = ["en-US", "ja-JP"]
BAD_DAY = {"en-US": "my day was awful and my manager shouted at me",
           "ja-JP": "今日は最悪だった上司に怒鳴られた"}
CRISIS = {"en-US": "honestly i just want to end my life", "ja-JP": "もう死にたいってずっと思ってる"}
HOTLINE = {"en-US": "nine eight eight", "ja-JP": "よりそいホットライン"}


def _checked(result: tuple[int, dict[str, Any]], request_type: str = "IntentRequest") -> dict[str, Any]:
    import json

    status, payload = result
    check_answer(status, json.dumps(payload), request_type, True)
    assert status == 200
    return payload


def _delete_everything(conversation: Conversation) -> dict[str, Any]:
    conversation.launch()
    conversation.intent("DeleteMyDataIntent")
    return _checked(conversation.intent("AMAZON.YesIntent"))


# ------------------------------------------------------------------------------ storage down


def _sqlite_down(tmp_path: Path) -> Flask:
    """An app whose SQLite 'file' is a directory: every read and write fails."""
    return create_app({"dev_skip_verification": True, "db_path": str(tmp_path), "log_level": "WARNING"})


def _closed_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens once the socket is closed


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Dummy credentials, and no AWS configuration from the machine."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "dummy-test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "dummy-test-secret")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


def _dynamo_down(endpoint: str) -> Flask:
    return create_app({"dev_skip_verification": True, "storage": "dynamodb",
                       "dynamodb_endpoint": endpoint, "log_level": "WARNING"})


@pytest.fixture(params=["sqlite-directory", "dynamodb-closed-port"])
def down_app(request: pytest.FixtureRequest, tmp_path: Path) -> Flask:
    """The skill with its storage unreachable, one way per backend."""
    if request.param == "sqlite-directory":
        return _sqlite_down(tmp_path)
    request.getfixturevalue("aws_env")
    return _dynamo_down(f"http://127.0.0.1:{_closed_port()}")


@pytest.mark.parametrize("locale", LOCALES)
class TestStorageDown:
    def test_check_in_still_follows_up(self, down_app: Flask, locale: str) -> None:
        """If storage is down, then a check-in still gets its warm follow-up (memory is optional)."""
        conversation = Conversation(make_transport(down_app), locale=locale, user_id=USER)
        conversation.launch()
        conversation.intent("CheckInStartIntent")
        payload = _checked(conversation.say(BAD_DAY[locale]))
        assert not says_one_of(payload, locale, "error.storage", "error.generic")
        assert payload["sessionAttributes"]["state"] == "checkin"

    def test_crisis_reply_never_depends_on_storage(self, down_app: Flask, locale: str) -> None:
        """If storage is down, then words that suggest crisis still get the hotline."""
        conversation = Conversation(make_transport(down_app), locale=locale, user_id=USER)
        conversation.launch()
        payload = _checked(conversation.intent("CheckInIntent", {"answer": SlotValue(CRISIS[locale])}))
        assert HOTLINE[locale] in speech_of(payload)

    def test_failed_delete_is_never_reported_as_done(self, down_app: Flask, locale: str) -> None:
        """If storage is down when the person confirms "delete my data", then they hear the
        storage apology, never that everything is deleted, and can confirm again."""
        payload = _delete_everything(Conversation(make_transport(down_app), locale=locale, user_id=USER))
        assert says_one_of(payload, locale, "error.storage")
        assert not says_one_of(payload, locale, "privacy.deleted")
        assert payload["response"]["shouldEndSession"] is False

    def test_lesson_still_plays(self, down_app: Flask, locale: str) -> None:
        """If storage is down, then a lesson still plays (its progress is simply not kept)."""
        conversation = Conversation(make_transport(down_app), locale=locale, user_id=USER)
        payload = _checked(conversation.intent("ListLessonsIntent"))
        assert speech_of(payload)
        payload = _checked(conversation.intent("PlayLessonIntent"))
        assert [d["type"] for d in payload["response"]["directives"]] == ["AudioPlayer.Play"]

    def test_player_events_stay_silent(self, down_app: Flask, locale: str) -> None:
        """If storage is down, then AudioPlayer events still get an empty 200 (no speech)."""
        conversation = Conversation(make_transport(down_app), locale=locale, user_id=USER)
        conversation.intent("PlayLessonIntent")
        for event in ("AudioPlayer.PlaybackStarted", "AudioPlayer.PlaybackStopped",
                      "AudioPlayer.PlaybackFinished"):
            status, payload = conversation.event(event, {})
            assert status == 200 and payload["response"] == {}


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """A loopback port that accepts connections and never answers (a hung DynamoDB)."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_hung_dynamodb_is_answered_within_alexas_deadline(aws_env: None, silent_endpoint: str) -> None:
    """If DynamoDB accepts connections but never answers, then the bounded client timeouts
    (1 s connect, 2 s read, 2 attempts) give the person the storage apology within Alexa's 8 s."""
    conversation = Conversation(make_transport(_dynamo_down(silent_endpoint)), user_id=USER)
    started = time.monotonic()
    payload = _checked(conversation.intent("WhatDoYouRememberIntent"))
    elapsed = time.monotonic() - started
    assert says_one_of(payload, "en-US", "error.storage")
    assert elapsed < ALEXA_DEADLINE_S, f"answered after {elapsed:.1f} s"


# ------------------------------------------------------------------------------ failing midway


FLOWS = {
    "launch": lambda c: [c.launch()],
    "check-in": lambda c: [c.launch(), c.intent("CheckInStartIntent"), c.say("a really hard day at work")],
    "crisis": lambda c: [c.launch(), c.intent("CheckInIntent", {"answer": SlotValue(CRISIS["en-US"])})],
    "reflection": lambda c: [c.launch(), c.intent("StartReflectionIntent", {"duration": SlotValue("PT1M")}),
                             *(c.intent("NextStepIntent") for _ in range(4))],
    "lesson": lambda c: [c.launch(), c.intent("PlayLessonIntent", {"topic": SlotValue("hearing no")}),
                         c.event("AudioPlayer.PlaybackStopped", {"offsetInMilliseconds": "9000"})],
    "resume": lambda c: [c.launch(), c.intent("ResumeLessonIntent")],
    "remember": lambda c: [c.launch(), c.intent("WhatDoYouRememberIntent")],
}


@pytest.mark.parametrize("failing", ["reads", "writes"])
@pytest.mark.parametrize("flow", sorted(FLOWS))
def test_failures_midway_lose_nothing(seeded: Seeded, flow: str, failing: str) -> None:
    """If every storage read (or write) fails during a flow, then every turn is answered with
    something to hear (or an empty answer to a player event), and the person's stored history
    is exactly as it was; once storage is back, it is all still there."""
    before, record = seeded.snapshot(), seeded.record()
    setattr(seeded.store, f"fail_{failing}", True)
    for status, payload in FLOWS[flow](seeded.device()):
        assert status == 200
        assert speech_of(payload) or payload["response"].get("directives") is not None \
            or payload["response"] == {}
    assert seeded.snapshot() == before
    setattr(seeded.store, f"fail_{failing}", False)
    assert seeded.record() == record
    _, payload = seeded.device().intent("ResumeLessonIntent")
    stream = payload["response"]["directives"][0]["audioItem"]["stream"]
    assert stream["offsetInMilliseconds"] == 42000


def test_failed_delete_keeps_everything(seeded: Seeded) -> None:
    """If the delete itself fails, then nothing is half-deleted: the whole history remains."""
    before = seeded.snapshot()
    seeded.store.fail_writes = True
    payload = _delete_everything(seeded.device())
    assert says_one_of(payload, "en-US", "error.storage")
    assert seeded.snapshot() == before


def test_failed_save_does_not_advance_the_session(seeded: Seeded) -> None:
    """If the save fails at the start of a reflection, then the apology leaves the session where
    it was, so trying again starts the reflection from its first stage."""
    seeded.store.fail_writes = True
    conversation = seeded.device()
    _, launched = conversation.launch()
    before = launched["sessionAttributes"].get("state")
    payload = _checked(conversation.intent("StartReflectionIntent", {"duration": SlotValue("PT1M")}))
    assert says_one_of(payload, "en-US", "error.storage")
    assert payload["sessionAttributes"].get("state") == before
    assert "reflection" not in payload["sessionAttributes"]


@pytest.mark.parametrize("locale", LOCALES)
def test_crisis_reply_survives_a_failed_save(seeded: Seeded, locale: str) -> None:
    """If storing the crisis counter fails, then the person still hears the crisis reply with
    the hotline, and the session stays open."""
    conversation = seeded.device(locale)
    conversation.launch()
    seeded.store.fail_writes = True
    payload = _checked(conversation.intent("CheckInIntent", {"answer": SlotValue(CRISIS[locale])}))
    assert HOTLINE[locale] in speech_of(payload)
