"""``python -m skill chat``: one JSON envelope per line, and the same path as POST /."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import raw_bytes

ROOT = Path(__file__).resolve().parents[2]


def run_chat(lines: str, *args: str, tmp_path: Path) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "skill", "chat", "--db", str(tmp_path / "chat.sqlite3"), *args],
        input=lines, capture_output=True, text=True, cwd=ROOT, timeout=60, check=True,
    )
    return result.stdout.splitlines()


@pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
def test_launch_help_stop(locale: str, tmp_path: Path) -> None:
    """If launch, help and stop are typed, then three envelopes come back, the last ending."""
    lines = run_chat("/launch\nhelp\nstop\n", "--locale", locale, "--json", tmp_path=tmp_path)
    envelopes = [json.loads(line) for line in lines]
    assert len(envelopes) == 3
    first, second, third = (e["response"] for e in envelopes)
    assert first["reprompt"] and first["shouldEndSession"] is False
    if locale == "ja-JP":
        assert "ふりかえり" in first["outputSpeech"]["ssml"]
    assert second["outputSpeech"]["ssml"] != first["outputSpeech"]["ssml"]
    assert third["shouldEndSession"] is True


def test_plain_output_is_speech_text(tmp_path: Path) -> None:
    """If --json is not given, then each response prints as its spoken text."""
    lines = run_chat("/launch\nstop\n", tmp_path=tmp_path)
    assert len(lines) == 2
    assert "<speak>" not in lines[0]
    assert lines[1].endswith("[session ended]")


def test_commands(tmp_path: Path) -> None:
    """If /intent, /event and /end are typed, then each yields one envelope."""
    lines = run_chat(
        "/launch\n/intent AMAZON.HelpIntent\n/event System.ExceptionEncountered\n/end\n",
        "--json", tmp_path=tmp_path)
    assert len(lines) == 4


def test_bad_command_is_reported_not_fatal(tmp_path: Path) -> None:
    """If a command is unknown, then an error goes to stderr and the chat goes on."""
    lines = run_chat("/frobnicate\n/launch\n", "--json", tmp_path=tmp_path)
    assert len(lines) == 1


def test_returning_user_then_delete_leaves_nothing(tmp_path: Path) -> None:
    """If U1 checks in, comes back, then deletes their data, then the SQLite file holds no row
    for U1 and none of the words they said."""
    import sqlite3

    db = tmp_path / "u1.sqlite3"

    def chat(lines: str) -> list[str]:
        result = subprocess.run(
            [sys.executable, "-m", "skill", "chat", "--db", str(db), "--user", "U1"],
            input=lines, capture_output=True, text=True, cwd=ROOT, timeout=60, check=True)
        return result.stdout.splitlines()

    first = chat("/launch\nmy day was rough my landlord shouted about the xylophone\nstop\n")
    second = chat("/launch\ndelete my data\nyes\n")
    assert first[0] != second[0]  # a first hello, then a welcome back
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT COUNT(*) FROM user_records").fetchone()[0]
    assert rows == 0
    raw = raw_bytes(tmp_path.glob("u1.sqlite3*"))
    for word in (b"xylophone", b"landlord", b"shouted", b"U1"):
        assert word not in raw
