"""A crash inside one handler: a short spoken apology, the conversation goes on, nothing stored
is half-written, and the crash's message (which could quote the person) reaches neither the
answer nor the log.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from skill.handlers import checkin, errors, playback, reflection
from skill.simulator.nlu import SlotValue
from tests.faults.conftest import Seeded
from tests.fuzz.support import RecordLog, check_answer, python_text_in, says_one_of, speech_of

SECRET = "zanzibar-teapot-secret"


class Boom(RuntimeError):
    """A bug nobody planned for."""


def _explode(*args: Any, **kwargs: Any) -> Any:
    raise Boom(f"the person said {SECRET}")


@pytest.fixture
def logged() -> Any:
    log = RecordLog().attach("skill")
    yield log
    log.detach("skill")


def _no_secret_anywhere(payload: dict[str, Any], logged: RecordLog, stderr: str) -> None:
    text = json.dumps(payload, ensure_ascii=False)
    assert SECRET not in text and not python_text_in(text)
    assert SECRET not in stderr
    for record in logged.records:
        assert SECRET not in record.getMessage()
        assert SECRET not in json.dumps(getattr(record, "fields", {}), default=str)


@pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
def test_crash_in_a_handler_gets_an_apology_and_keeps_everything(
    seeded: Seeded, monkeypatch: pytest.MonkeyPatch, logged: RecordLog,
    capfd: pytest.CaptureFixture[str], locale: str
) -> None:
    """If the check-in handler crashes, then the person hears the generic apology, the session
    stays open (they can go on), and the stored history is untouched."""
    monkeypatch.setattr(checkin.CheckInAnswerHandler, "handle", _explode)
    conversation = seeded.device(locale)
    conversation.launch()  # a ja-JP launch stores the new language: the baseline is after it
    before = seeded.snapshot()
    status, payload = conversation.intent("CheckInIntent", {"answer": SlotValue("a long day")})
    check_answer(status, json.dumps(payload), "IntentRequest", True)
    assert says_one_of(payload, locale, "error.generic")
    assert payload["response"]["shouldEndSession"] is False
    assert seeded.snapshot() == before
    where = f"{__file__.rsplit('/', 1)[-1]}:{_explode.__code__.co_firstlineno + 1}"
    assert logged.crashes() == [f"unhandled error: Boom @ {where}"]
    _no_secret_anywhere(payload, logged, capfd.readouterr().err)
    monkeypatch.undo()
    _, after = conversation.intent("AMAZON.HelpIntent")
    assert speech_of(after)


def test_crash_after_a_change_saves_nothing(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    """If a handler changes the person's record and then crashes, then the change is not saved
    (the save runs only after a handler that returned)."""
    before = seeded.snapshot()
    original = reflection.FinishReflectionHandler.handle

    def finish_then_crash(self: Any, handler_input: Any) -> Any:
        original(self, handler_input)  # the streak update is now pending
        raise Boom("after the change")

    monkeypatch.setattr(reflection.FinishReflectionHandler, "handle", finish_then_crash)
    conversation = seeded.device()
    conversation.intent("StartReflectionIntent", {"duration": SlotValue("PT1M")})
    for _ in range(3):
        conversation.intent("NextStepIntent")
    status, payload = conversation.intent("NextStepIntent")
    assert status == 200 and says_one_of(payload, "en-US", "error.generic")
    recent_after_start = seeded.record().recent_prompts  # the start itself saved its prompts
    assert seeded.record().streak == json_streak(before)
    assert seeded.record().recent_prompts == recent_after_start


def json_streak(snapshot: dict[str, tuple[Any, ...]]) -> Any:
    from skill.storage.records import UserRecord
    from tests.faults.conftest import USER

    return UserRecord.from_attributes(json.loads(snapshot[USER][1])).streak


def test_crash_in_a_player_event_stays_silent(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the handler of an AudioPlayer event crashes, then the answer is an empty 200 (events
    may carry no speech) and the stored lesson progress is untouched."""
    before = seeded.snapshot()
    monkeypatch.setattr(playback.PlaybackStoppedHandler, "on_lesson", _explode)
    conversation = seeded.device()
    conversation.player = {"playerActivity": "PLAYING", "token": "lesson:v1:en-US:why-hard",
                           "offsetInMilliseconds": 50000}
    status, payload = conversation.event("AudioPlayer.PlaybackStopped", {"offsetInMilliseconds": "50000"})
    check_answer(status, json.dumps(payload), "AudioPlayer.PlaybackStopped", False)
    assert status == 200 and payload["response"] == {}
    assert seeded.snapshot() == before


def test_crash_in_the_exception_handlers_too(seeded: Seeded, monkeypatch: pytest.MonkeyPatch,
                                            logged: RecordLog, capfd: pytest.CaptureFixture[str]) -> None:
    """If the handler crashes and so do both exception handlers, then the edge still answers
    200 with the apology (ending the session), never a 500, and nothing stored changes."""
    before = seeded.snapshot()
    monkeypatch.setattr(checkin.CheckInStartHandler, "handle", _explode)
    monkeypatch.setattr(errors.CatchAllErrorHandler, "handle", _explode)
    monkeypatch.setattr(errors.KnownErrorHandler, "handle", _explode)
    status, payload = seeded.device("ja-JP").intent("CheckInStartIntent")
    check_answer(status, json.dumps(payload), "IntentRequest", True)
    assert says_one_of(payload, "ja-JP", "error.generic")
    assert payload["response"]["shouldEndSession"] is True
    assert seeded.snapshot() == before
    assert [c.split(":")[0] for c in logged.crashes()] == ["skill.invoke failed"]
    _no_secret_anywhere(payload, logged, capfd.readouterr().err)


def test_crash_in_the_save_gets_an_apology(seeded: Seeded, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the store raises something unexpected while saving, then the person hears the
    generic apology and the stored history is untouched."""
    before = seeded.snapshot()
    monkeypatch.setattr(seeded.store, "put", _explode)
    monkeypatch.setattr(seeded.store, "update", _explode)
    conversation = seeded.device()
    conversation.launch()
    status, payload = conversation.intent("CheckInIntent", {"answer": SlotValue("a wonderful day")})
    assert status == 200 and says_one_of(payload, "en-US", "error.generic")
    assert seeded.snapshot() == before
