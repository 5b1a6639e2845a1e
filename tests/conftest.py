"""Shared fixtures: an app on a throwaway database, a client, and a request builder."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from skill.service import create_app
from skill.simulator.chat import make_transport
from skill.simulator.conversation import DEFAULT_SKILL_ID, Conversation
from skill.simulator.nlu import SlotValue


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts without REFLECT_* variables from the machine."""
    for name in list(os.environ):
        if name.startswith("REFLECT_"):
            monkeypatch.delenv(name)


@pytest.fixture
def db_path(tmp_path: Path) -> str:
    return str(tmp_path / "skill.sqlite3")


@pytest.fixture
def app(db_path: str) -> Flask:
    """The app under the explicit local development setting (no signature checks)."""
    return create_app({"dev_skip_verification": True, "db_path": db_path, "log_level": "DEBUG"})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def converse(app: Flask) -> Callable[..., Conversation]:
    """A simulated device talking to ``app``: ``converse("ja-JP")``."""

    def make(locale: str = "en-US", user_id: str = "amzn1.ask.account.test-user",
             audio_player: bool = True) -> Conversation:
        return Conversation(make_transport(app), locale=locale, user_id=user_id,
                            skill_id=DEFAULT_SKILL_ID, audio_player=audio_player)

    return make


@pytest.fixture
def make_request() -> Callable[..., dict[str, Any]]:
    """``make_request(locale, intent, slots)``: an envelope; ``intent`` may be a request type."""

    def make(locale: str = "en-US", intent: str = "LaunchRequest",
             slots: dict[str, str] | None = None, session: bool = True) -> dict[str, Any]:
        modelled = locale if locale in ("en-US", "ja-JP") else "en-US"
        conversation = Conversation(lambda env: (200, {}), locale=modelled)
        conversation.locale = locale
        if not intent.endswith("Intent"):
            request: dict[str, Any] = {"type": intent}
        else:
            request = conversation.intent_request(
                intent, {k: SlotValue(v) for k, v in (slots or {}).items()})
        return conversation.envelope(request, with_session=session)

    return make


def raw_bytes(paths: Iterable[Path]) -> bytes:
    """The bytes of the existing ``paths`` (a live SQLite file, its ``-wal`` and ``-shm``), read
    by a child process.

    POSIX advisory locks belong to a process, and closing any descriptor of a file drops every
    lock the process holds on it. Reading a live database here (``Path.read_bytes``) while this
    process has a connection open to it silently drops that connection's WAL-index locks; a
    writer in another process may then rebuild the index and later writes vanish from every
    reader's view (sqlite.org, "How To Corrupt An SQLite Database File", 2.2). ``cat`` has its
    own locks to lose.
    """
    existing = [str(p) for p in paths if Path(p).exists()]
    if not existing:
        return b""
    return subprocess.run(["cat", "--", *existing], capture_output=True, check=True).stdout


def speech_of(payload: dict[str, Any]) -> str:
    """The SSML of a response payload (empty when silent)."""
    return str(((payload.get("response") or {}).get("outputSpeech") or {}).get("ssml", ""))


def post(client: FlaskClient, envelope: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    return client.post("/", data=json.dumps(envelope), headers=headers or {},
                       content_type="application/json")


@pytest.fixture
def log_lines(capfd: pytest.CaptureFixture[str]) -> Iterator[Callable[[], list[str]]]:
    """Everything the skill logged (JSON lines on stderr) so far in this test."""

    def read() -> list[str]:
        return [line for line in capfd.readouterr().err.splitlines() if line.startswith("{")]

    yield read
