"""Audio faults: a clip missing from the manifest, the manifest missing, an MP3 missing on disk.

Each app here reads a temporary audio folder (the ``audio_dir`` setting) holding a copy of the
real manifest with something taken out; the person's stored history (a lesson paused at 42 s)
was made beforehand with the real audio folder, on the same SQLite file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from skill.config import REPO_ROOT
from skill.lessons.catalog import encode_token
from skill.service import create_app
from skill.simulator.chat import make_transport
from skill.simulator.conversation import Conversation
from skill.simulator.nlu import SlotValue
from tests.faults.conftest import USER, Seeded
from tests.fuzz.support import check_answer, says_one_of, speech_of

LOCALES = ["en-US", "ja-JP"]
MANIFEST = REPO_ROOT / "audio" / "manifest.json"
APOLOGIES = ("error.generic", "error.storage")


def _audio_dir(tmp_path: Path, drop: set[tuple[str, str]] | None, name: str) -> Path:
    """A copy of the real manifest without the clips ``(locale, id)`` in ``drop`` (``None``:
    no manifest at all); no MP3 files."""
    folder = tmp_path / name
    folder.mkdir()
    if drop is not None:
        data = json.loads(MANIFEST.read_text(encoding="utf-8"))
        data["clips"] = [c for c in data["clips"] if (c["locale"], c["id"]) not in drop]
        (folder / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
    return folder


def _app(seeded: Seeded, audio_dir: Path) -> Flask:
    return create_app({"dev_skip_verification": True, "db_path": str(seeded.db_path),
                       "audio_dir": str(audio_dir), "log_level": "WARNING"})


def _device(app: Flask, locale: str) -> Conversation:
    return Conversation(make_transport(app), locale=locale, user_id=USER)


def _answer(result: tuple[int, dict[str, Any]]) -> dict[str, Any]:
    status, payload = result
    check_answer(status, json.dumps(payload), "IntentRequest", True)
    assert status == 200
    return payload


def _directives(payload: dict[str, Any]) -> list[str]:
    return [d["type"] for d in payload["response"].get("directives") or []]


@pytest.fixture
def clip_missing(seeded: Seeded, tmp_path: Path) -> Flask:
    """The skill with the "why it's hard to ask" clip gone from the manifest, in both locales."""
    drop = {(locale, "lesson-why-hard") for locale in LOCALES}
    return _app(seeded, _audio_dir(tmp_path, drop, "clip-missing"))


@pytest.mark.parametrize("locale", LOCALES)
def test_lesson_with_missing_clip_gets_a_spoken_apology(seeded: Seeded, clip_missing: Flask,
                                                        locale: str) -> None:
    """If the asked-for lesson's clip is missing from the manifest, then that lesson is left out
    of the catalog: the person hears which lessons there are (no Play, no 500), the session stays
    open, and nothing stored changes."""
    before = seeded.snapshot()
    conversation = _device(clip_missing, locale)
    payload = _answer(conversation.intent("PlayLessonIntent", {"topic": SlotValue("why-hard", "why-hard")}))
    assert says_one_of(payload, locale, *APOLOGIES, "lessons.unknown"), speech_of(payload)
    assert "AudioPlayer.Play" not in _directives(payload)
    assert payload["response"]["shouldEndSession"] is False
    assert seeded.snapshot() == before


@pytest.mark.parametrize("flow", ["other-lesson", "returning-launch", "what-do-you-remember"])
def test_one_missing_clip_breaks_nothing_else(seeded: Seeded, clip_missing: Flask, flow: str) -> None:
    """If one lesson's clip is missing, then other lessons still play, and a returning person is
    still welcomed and told what is remembered."""
    conversation = _device(clip_missing, "en-US")
    if flow == "other-lesson":
        payload = _answer(conversation.intent("PlayLessonIntent",
                                              {"topic": SlotValue("hearing-no", "hearing-no")}))
        assert "AudioPlayer.Play" in _directives(payload)
    elif flow == "returning-launch":
        payload = _answer(conversation.launch())
        assert not says_one_of(payload, "en-US", *APOLOGIES), speech_of(payload)
    else:
        conversation.launch()
        payload = _answer(conversation.intent("WhatDoYouRememberIntent"))
        assert says_one_of(payload, "en-US", "privacy.summary.intro"), speech_of(payload)


@pytest.mark.parametrize("locale", LOCALES)
def test_missing_manifest_gets_a_spoken_apology(seeded: Seeded, tmp_path: Path, locale: str) -> None:
    """If the manifest itself is missing, then asking for a lesson gets a spoken apology and
    nothing stored changes."""
    before = seeded.snapshot()
    app = _app(seeded, _audio_dir(tmp_path, None, "no-manifest"))
    payload = _answer(_device(app, locale).intent("ListLessonsIntent"))
    assert says_one_of(payload, locale, *APOLOGIES)
    assert seeded.snapshot() == before


def test_reflection_starts_without_its_intro_clip(seeded: Seeded, tmp_path: Path) -> None:
    """If the intro clips are missing from the manifest, then a reflection still starts
    (without the recorded intro)."""
    drop = {("en-US", f"intro-{name}") for name in ("arrive", "breath", "pause")}
    app = _app(seeded, _audio_dir(tmp_path, drop, "no-intros"))
    payload = _answer(_device(app, "en-US").intent("StartReflectionIntent", {"duration": SlotValue("PT2M")}))
    assert not says_one_of(payload, "en-US", *APOLOGIES), speech_of(payload)
    assert payload["sessionAttributes"].get("state") == "reflection:facts"


@pytest.mark.parametrize("locale", LOCALES)
def test_mp3_missing_on_disk(seeded: Seeded, tmp_path: Path, locale: str) -> None:
    """If a clip is in the manifest but its MP3 is not on disk, then the lesson is still sent to
    the player (the skill cannot see the file host), the file URL answers 404 (not 500), and the
    device's PlaybackFailed gets an empty answer that keeps the reported offset for later."""
    folder = _audio_dir(tmp_path, set(), "no-mp3")
    app = _app(seeded, folder)
    conversation = _device(app, locale)
    hearing_no = {"topic": SlotValue("hearing-no", "hearing-no")}
    payload = _answer(conversation.intent("PlayLessonIntent", hearing_no))
    assert "AudioPlayer.Play" in _directives(payload)
    file = payload["response"]["directives"][0]["audioItem"]["stream"]["url"].split("/audio/", 1)[1]
    assert app.test_client().get(f"/audio/{file}").status_code == 404
    token = encode_token("hearing-no", locale)
    request = {"type": "AudioPlayer.PlaybackFailed", "token": token,
               "error": {"type": "MEDIA_ERROR_INVALID_REQUEST", "message": "404"},
               "currentPlaybackState": {"token": token, "offsetInMilliseconds": 1500,
                                        "playerActivity": "PLAYING"}}
    status, failed = conversation._post(conversation.envelope(request, with_session=False))
    assert status == 200 and failed["response"] == {}
    progress = seeded.record().lesson
    assert progress is not None and progress.lesson_id == "hearing-no" and progress.offset_ms == 1500
