"""When storage fails: a short spoken apology, the conversation goes on, nothing is lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from skill.service import create_app
from skill.simulator.chat import make_transport
from skill.simulator.conversation import Conversation
from tests.conftest import speech_of


@pytest.fixture
def broken_app(tmp_path: Path) -> Flask:
    """An app whose SQLite 'file' is a directory: every read and write fails."""
    return create_app({"dev_skip_verification": True, "db_path": str(tmp_path)})


@pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
class TestStorageDown:
    def test_launch_still_welcomes(self, broken_app: Flask, locale: str) -> None:
        """If storage is down at launch, then the person is still welcomed (as new)."""
        status, payload = Conversation(make_transport(broken_app), locale=locale).launch()
        assert status == 200
        assert payload["response"]["shouldEndSession"] is False

    def test_memory_question_gets_an_apology_and_keeps_the_session(self, broken_app: Flask,
                                                                   locale: str) -> None:
        """If storage is down when it is needed, then a short apology, and the session goes on."""
        conversation = Conversation(make_transport(broken_app), locale=locale)
        conversation.launch()
        status, payload = conversation.intent("WhatDoYouRememberIntent")
        assert status == 200
        from skill.speech import load_catalog

        apologies = load_catalog().for_locale(locale).variants("error.storage")
        assert any(a in speech_of(payload) for a in apologies)
        assert payload["response"]["shouldEndSession"] is False
        assert payload["sessionAttributes"]["state"] == "menu"

    def test_reflection_runs_without_memory(self, broken_app: Flask, locale: str) -> None:
        """If storage is down, then a reflection still runs to its end (variety within session)."""
        conversation = Conversation(make_transport(broken_app), locale=locale)
        _, payload = conversation.intent("StartReflectionIntent")
        assert payload["sessionAttributes"]["state"] == "reflection:facts"
        for _ in range(3):
            conversation.intent("NextStepIntent")
        _, last = conversation.intent("NextStepIntent")
        assert last["response"]["shouldEndSession"] is True


def test_a_down_store_is_asked_once_per_request(broken_app: Flask) -> None:
    """If storage is down, then one request asks it once, not once per helper that wants the
    user (each attempt may wait out the storage budget)."""
    persistence = broken_app.extensions["reflection"]["persistence"]
    calls: list[str] = []
    real_get = persistence.store.get

    def counting_get(user_id: str) -> object:
        calls.append(user_id)
        return real_get(user_id)

    persistence.store.get = counting_get
    status, _ = Conversation(make_transport(broken_app), locale="en-US").intent("PlayLessonIntent")
    assert status == 200
    assert len(calls) == 1
