"""Tests for skill.audio.manifest: round trip, validation and atomic writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from skill.audio.errors import AudioBuildError
from skill.audio.manifest import ManifestEntry, atomic_write, load_manifest, save_manifest

ENTRY = ManifestEntry(id="intro-a", locale="en-US", kind="intro", file="en-US/intro-a.mp3",
                      duration_ms=12000, sha256="ab", engine="espeak-ng:en-us@150",
                      script_sha256="cd", bitrate=48000, sample_rate=24000)


def test_round_trip_and_offline_flag(tmp_path: Path) -> None:
    """If entries are saved, then loading gives them back and non-gTTS ones are offline."""
    save_manifest(tmp_path, {ENTRY.key: ENTRY})
    loaded = load_manifest(tmp_path)
    assert loaded == {("en-US", "intro-a"): ENTRY}
    assert loaded[ENTRY.key].offline


def test_missing_manifest_is_empty(tmp_path: Path) -> None:
    """If there is no manifest yet, then it loads as empty."""
    assert load_manifest(tmp_path) == {}


def test_invalid_manifest_is_named(tmp_path: Path) -> None:
    """If the manifest is not valid, then AudioBuildError names the file."""
    (tmp_path / "manifest.json").write_text('{"clips": [{"id": 1}]}', encoding="utf-8")
    with pytest.raises(AudioBuildError, match="manifest.json is not a valid audio manifest"):
        load_manifest(tmp_path)


def test_atomic_write_leaves_no_temp_files(tmp_path: Path) -> None:
    """If a file is written atomically, then only the target remains."""
    target = tmp_path / "out.json"
    atomic_write(target, b"one")
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
