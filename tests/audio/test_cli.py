"""Tests for skill.audio.cli: exit codes and messages of build-audio, --check and --table."""

from __future__ import annotations

from pathlib import Path

import pytest

from skill.audio.cli import main
from tests.audio.conftest import MakeBuilder


def test_check_passes_on_the_committed_audio(capsys: pytest.CaptureFixture[str]) -> None:
    """If the committed audio/ is checked, then every clip matches its file, format and script."""
    assert main(["--check"]) == 0
    assert "0 problem(s)" in capsys.readouterr().out


def test_check_fails_naming_the_tampered_clip(workspace: Path, make_builder: MakeBuilder,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """If a clip was tampered with, then --check exits 1 and names it on stderr."""
    make_builder().build()
    mp3 = workspace / "audio" / "en-US" / "intro-calm.mp3"
    mp3.write_bytes(mp3.read_bytes() + b"\0")
    assert main(["--check", "--audio-dir", str(workspace / "audio"),
                 "--scripts-dir", str(workspace / "scripts")]) == 1
    assert "MISMATCH en-US/intro-calm: sha256" in capsys.readouterr().err


def test_table_prints_markdown(workspace: Path, make_builder: MakeBuilder,
                               capsys: pytest.CaptureFixture[str]) -> None:
    """If --table is asked, then a Markdown table is printed and the exit code is 0."""
    make_builder().build()
    assert main(["--table", "--audio-dir", str(workspace / "audio")]) == 0
    assert "| ja-JP | lesson | lesson-small |" in capsys.readouterr().out


def test_bad_only_is_a_clear_error(workspace: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """If --only names no script, then the build exits 1 with the id in the message."""
    assert main(["--audio-dir", str(workspace / "audio"), "--scripts-dir",
                 str(workspace / "scripts"), "--only", "lesson-nope", "--no-progress"]) == 1
    assert "no script named lesson-nope" in capsys.readouterr().err
