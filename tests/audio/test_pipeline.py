"""Tests for skill.audio.pipeline: fallback, incremental rebuilds, atomic failure, checks.

ffmpeg and ffprobe run for real; speech engines are network-free stand-ins (see conftest).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from skill.audio.engines import EspeakEngine
from skill.audio.manifest import load_manifest
from skill.audio.pipeline import check, duration_table, sha256_file
from tests.audio.conftest import (
    CrashingEngine,
    MakeBuilder,
    MissingEngine,
    ReachableGTTS,
    ToneEngine,
    write_script,
)


def _entries(workspace: Path) -> dict[str, dict[str, object]]:
    data = json.loads((workspace / "audio" / "manifest.json").read_text(encoding="utf-8"))
    return {f"{c['locale']}/{c['id']}": c for c in data["clips"]}


class TestFallback:
    def test_unreachable_gtts_falls_back_and_says_so(self, workspace: Path,
                                                    make_builder: MakeBuilder) -> None:
        """If gTTS is unreachable, then every clip is built offline, named in the report and log."""
        log: list[str] = []
        report = make_builder(log=log).build()
        assert report.ok
        assert {clip for clip, _, _ in report.fallbacks} == {"en-US/intro-calm",
                                                           "ja-JP/lesson-small"}
        assert all("unreachable" in why for _, _, why in report.fallbacks)
        assert any("FALLING BACK to tone:a" in line for line in log)
        entries = _entries(workspace)
        assert {e["engine"] for e in entries.values()} == {"tone:a"}

    def test_offline_clip_regenerated_once_gtts_reachable(self, workspace: Path,
                                                        make_builder: MakeBuilder) -> None:
        """If a clip was built offline, then a build that reaches gTTS rebuilds it with gTTS."""
        make_builder().build()
        report = make_builder(gtts=ReachableGTTS).build()
        assert sorted(report.built) == [("en-US/intro-calm", "gtts"), ("ja-JP/lesson-small", "gtts")]
        assert not report.fallbacks
        report = make_builder(gtts=ReachableGTTS).build()
        assert report.built == [] and len(report.skipped) == 2

    def test_gtts_clip_is_not_downgraded_offline(self, workspace: Path,
                                               make_builder: MakeBuilder) -> None:
        """If a clip was made by gTTS, then an offline build leaves it alone."""
        make_builder(gtts=ReachableGTTS).build()
        report = make_builder().build()
        assert report.built == [] and len(report.skipped) == 2

    def test_unavailable_engine_is_skipped_for_the_next(self, workspace: Path,
                                                      make_builder: MakeBuilder) -> None:
        """If the first offline engine is not installed, then the next one in the chain builds."""
        log: list[str] = []
        report = make_builder(engines=(MissingEngine("missing:x"), ToneEngine("tone:b")),
                              log=log).build()
        assert report.ok and {engine for _, engine in report.built} == {"tone:b"}
        assert any("missing-engine is not installed" in line for line in log)

    def test_engine_gtts_allows_no_fallback(self, workspace: Path,
                                          make_builder: MakeBuilder) -> None:
        """If --engine gtts is asked while gTTS is unreachable, then each clip fails by name."""
        report = make_builder(engine="gtts").build()
        assert not report.ok
        assert [clip for clip, _ in report.failures] == ["en-US/intro-calm", "ja-JP/lesson-small"]
        assert "no fallback" in report.failures[0][1]
        assert not (workspace / "audio" / "manifest.json").exists()


class TestIncremental:
    def test_unchanged_scripts_are_skipped(self, workspace: Path,
                                         make_builder: MakeBuilder) -> None:
        """If nothing changed, then a second build synthesizes nothing."""
        make_builder().build()
        engine = ToneEngine()
        report = make_builder(engines=(engine,)).build()
        assert report.built == [] and engine.calls == []

    def test_changed_script_rebuilds_only_that_clip(self, workspace: Path,
                                                  make_builder: MakeBuilder) -> None:
        """If one script changes, then only its clip is rebuilt and re-hashed."""
        make_builder().build()
        before = _entries(workspace)
        write_script(workspace, "en-US", "intro-calm", "Breathe in slowly.\n[pause 1]\nAnd out.\n")
        report = make_builder().build()
        assert [clip for clip, _ in report.built] == ["en-US/intro-calm"]
        after = _entries(workspace)
        assert after["ja-JP/lesson-small"] == before["ja-JP/lesson-small"]
        assert after["en-US/intro-calm"]["script_sha256"] != before["en-US/intro-calm"]["script_sha256"]
        assert after["en-US/intro-calm"]["sha256"] != before["en-US/intro-calm"]["sha256"]

    def test_whitespace_only_edit_is_not_a_change(self, workspace: Path,
                                                make_builder: MakeBuilder) -> None:
        """If a script only gains trailing spaces and CRLFs, then its clip is not rebuilt."""
        make_builder().build()
        write_script(workspace, "en-US", "intro-calm", "Breathe in.  \r\n[pause 1]\r\nAnd out.\r\n")
        assert make_builder().build().built == []

    def test_engine_change_rebuilds(self, workspace: Path, make_builder: MakeBuilder) -> None:
        """If the offline engine (or its voice/settings) changes, then the clips are rebuilt."""
        make_builder().build()
        report = make_builder(engines=(ToneEngine("tone:new", 330.0),)).build()
        assert {engine for _, engine in report.built} == {"tone:new"}

    def test_tampered_file_is_rebuilt(self, workspace: Path, make_builder: MakeBuilder) -> None:
        """If a clip file was modified by hand, then the next build replaces it."""
        make_builder().build()
        (workspace / "audio" / "en-US" / "intro-calm.mp3").write_bytes(b"junk")
        report = make_builder().build()
        assert [clip for clip, _ in report.built] == ["en-US/intro-calm"]
        assert check(workspace / "audio", workspace / "scripts") == []

    def test_only_and_locale_select_clips(self, workspace: Path,
                                        make_builder: MakeBuilder) -> None:
        """If --only or --locale is given, then only those clips are built."""
        assert [c for c, _ in make_builder(only=("lesson-small",)).build().built] == [
            "ja-JP/lesson-small"]
        assert make_builder(locales=("en-US",)).build().built == [("en-US/intro-calm", "tone:a")]


class TestFailures:
    def test_crashing_engine_keeps_the_old_clip(self, workspace: Path,
                                              make_builder: MakeBuilder) -> None:
        """If the engine crashes on a changed script, then the old file and entry stay intact."""
        make_builder().build()
        mp3 = workspace / "audio" / "en-US" / "intro-calm.mp3"
        old_bytes, old_entries = mp3.read_bytes(), _entries(workspace)
        write_script(workspace, "en-US", "intro-calm", "A new text.\n")
        log: list[str] = []
        report = make_builder(engines=(CrashingEngine("tone:a"),), log=log).build()
        assert report.failures == [("en-US/intro-calm",
                                    "en-US/intro-calm: tone:crash segfaulted")]
        assert mp3.read_bytes() == old_bytes
        assert _entries(workspace) == old_entries
        assert sorted(p.name for p in mp3.parent.iterdir()) == ["intro-calm.mp3"]
        assert any("FAILED en-US/intro-calm" in line for line in log)

    def test_empty_script_names_the_clip(self, workspace: Path,
                                       make_builder: MakeBuilder) -> None:
        """If a script is empty, then that clip fails by name and the others still build."""
        write_script(workspace, "en-US", "intro-empty", "# only a note\n\n")
        report = make_builder().build()
        assert report.failures == [("en-US/intro-empty",
                                    "en-US/intro-empty: the script is empty (nothing to speak)")]
        assert len(report.built) == 2

    def test_sentence_gtts_rejects_names_the_clip(self, workspace: Path,
                                                make_builder: MakeBuilder) -> None:
        """If a paragraph is something gTTS would reject, then the clip fails even offline."""
        write_script(workspace, "en-US", "intro-odd", "Hello.\n\n...!!\n")
        report = make_builder().build()
        assert [clip for clip, _ in report.failures] == ["en-US/intro-odd"]
        assert "gTTS finds nothing to speak" in report.failures[0][1]
        assert ("en-US", "intro-odd") not in load_manifest(workspace / "audio")


class TestCheck:
    def test_fresh_build_passes_with_the_right_format(self, workspace: Path,
                                                    make_builder: MakeBuilder) -> None:
        """If a build just ran, then --check finds nothing and ffprobe sees 48 kbps 24 kHz mono."""
        make_builder().build()
        assert check(workspace / "audio", workspace / "scripts") == []
        entry = _entries(workspace)["en-US/intro-calm"]
        assert (entry["bitrate"], entry["sample_rate"], entry["channels"]) == (48000, 24000, 1)
        assert 2000 < int(str(entry["duration_ms"])) < 5000

    def test_tampered_file_is_named(self, workspace: Path, make_builder: MakeBuilder) -> None:
        """If a clip's bytes change, then --check reports a sha256 mismatch naming it."""
        make_builder().build()
        mp3 = workspace / "audio" / "ja-JP" / "lesson-small.mp3"
        mp3.write_bytes(mp3.read_bytes()[:-2000])
        problems = check(workspace / "audio")
        assert any(p.startswith("ja-JP/lesson-small: sha256") for p in problems)
        assert any(p.startswith("ja-JP/lesson-small: audio frames last") for p in problems)

    def test_wrong_format_is_named(self, workspace: Path, make_builder: MakeBuilder) -> None:
        """If a clip is re-encoded at 64 kbps 44.1 kHz stereo, then --check names each fault."""
        make_builder().build()
        mp3 = workspace / "audio" / "en-US" / "intro-calm.mp3"
        wrong = mp3.with_name("wrong.mp3")
        subprocess.run(["ffmpeg", "-v", "error", "-i", str(mp3), "-ar", "44100", "-ac", "2",
                        "-b:a", "64k", str(wrong)], check=True)
        wrong.replace(mp3)
        manifest_path = workspace / "audio" / "manifest.json"
        data = json.loads(manifest_path.read_text(encoding="utf-8"))
        for clip in data["clips"]:
            if clip["id"] == "intro-calm":
                clip["sha256"] = sha256_file(mp3)
        manifest_path.write_text(json.dumps(data), encoding="utf-8")
        problems = check(workspace / "audio")
        assert len(problems) == 1
        assert problems[0].startswith("en-US/intro-calm: wrong format:")
        for fault in ("sample rate 44100", "2 channels", "bitrate 64000"):
            assert fault in problems[0]

    def test_missing_file_and_stale_script_are_named(self, workspace: Path,
                                                   make_builder: MakeBuilder) -> None:
        """If a file is gone or a script changed or has no clip, then --check names each."""
        make_builder().build()
        (workspace / "audio" / "en-US" / "intro-calm.mp3").unlink()
        write_script(workspace, "ja-JP", "lesson-small", "変わりました。\n")
        write_script(workspace, "ja-JP", "intro-new", "こんにちは。\n")
        problems = check(workspace / "audio", workspace / "scripts")
        assert problems == [
            "en-US/intro-calm: file en-US/intro-calm.mp3 is missing",
            "ja-JP/intro-new: script has no clip in the manifest (run build-audio)",
            "ja-JP/lesson-small: script changed since the clip was built (run build-audio)",
        ]


def test_duration_table_lists_every_clip(workspace: Path, make_builder: MakeBuilder) -> None:
    """If clips exist, then the table has a row per clip and a total row."""
    make_builder().build()
    table = duration_table(workspace / "audio").splitlines()
    assert table[0].startswith("| locale | kind | id | duration")
    assert any("| en-US | intro | intro-calm |" in row for row in table)
    assert table[-1].startswith("| **all** |")


def test_espeak_engine_builds_a_real_clip(workspace: Path, make_builder: MakeBuilder) -> None:
    """If espeak-ng (apt) is the offline engine, then a real spoken clip passes --check."""
    report = make_builder(engines=(EspeakEngine("en-us"),), locales=("en-US",)).build()
    assert report.built == [("en-US/intro-calm", "espeak-ng:en-us@150")]
    assert check(workspace / "audio", workspace / "scripts", locales=("en-US",)) == []


def test_processing_change_rebuilds(workspace: Path, make_builder: MakeBuilder) -> None:
    """If a clip was made by another processing chain, then the next build remakes it."""
    make_builder().build()
    manifest_path = workspace / "audio" / "manifest.json"
    data = json.loads(manifest_path.read_text(encoding="utf-8"))
    data["clips"][0]["process"] = "older-chain"
    manifest_path.write_text(json.dumps(data), encoding="utf-8")
    report = make_builder().build()
    assert [clip for clip, _ in report.built] == [f"{data['clips'][0]['locale']}/"
                                                  f"{data['clips'][0]['id']}"]
