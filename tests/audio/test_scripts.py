"""Tests for skill.audio.scripts: parsing, hashing and discovery of source scripts."""

from __future__ import annotations

from pathlib import Path

import pytest

from skill.audio.errors import ScriptError
from skill.audio.scripts import Pause, Speech, discover, load_script, parse_segments
from tests.audio.conftest import write_script


class TestParseSegments:
    def test_paragraphs_pauses_and_notes(self) -> None:
        """If a script has notes, wrapped lines and a pause, then it parses into segments."""
        text = "# note\nBreathe in\nslowly.\n[pause 2.5]\nAnd out.\n\nGood.\n"
        assert parse_segments(text) == (Speech("Breathe in slowly."), Pause(2.5),
                                         Speech("And out."), Speech("Good."))

    def test_japanese_lines_join_without_spaces(self) -> None:
        """If Japanese lines wrap, then they join without a space."""
        assert parse_segments("ゆっくり\n息を吐きましょう。\n") == (Speech("ゆっくり息を吐きましょう。"),)

    def test_long_pause_is_rejected(self) -> None:
        """If a pause is longer than 10 s, then ScriptError names the clip."""
        with pytest.raises(ScriptError, match=r"^x: pause 12s is outside"):
            parse_segments("Hi.\n[pause 12]\n", "x")

    def test_unknown_mark_is_rejected(self) -> None:
        """If a line is an unknown [mark], then ScriptError says only [pause N] is allowed."""
        with pytest.raises(ScriptError, match=r"only '\[pause N\]' is allowed"):
            parse_segments("Hi.\n[music]\n", "x")

    def test_empty_is_rejected(self) -> None:
        """If nothing is left to speak, then ScriptError says the script is empty."""
        with pytest.raises(ScriptError, match="the script is empty"):
            parse_segments("# a note\n[pause 1]\n", "x")


def test_bad_file_name_is_rejected(tmp_path: Path) -> None:
    """If a file is not named intro-*/lesson-*, then ScriptError says how to name it."""
    path = write_script(tmp_path, "en-US", "Outro_1", "Hi.\n")
    with pytest.raises(ScriptError, match=r"^en-US/Outro_1: file name must be"):
        load_script(path, "en-US")


def test_discover_sorts_and_collects_errors(tmp_path: Path) -> None:
    """If one script is broken, then discover returns the others and the error."""
    write_script(tmp_path, "ja-JP", "lesson-b", "こんにちは。\n")
    write_script(tmp_path, "en-US", "lesson-a", "Hello.\n")
    write_script(tmp_path, "en-US", "intro-z", "\n")
    scripts, errors = discover(tmp_path / "scripts")
    assert [(s.locale, s.id, s.kind) for s in scripts] == [("en-US", "lesson-a", "lesson"),
                                                          ("ja-JP", "lesson-b", "lesson")]
    assert [str(e) for e in errors] == ["en-US/intro-z: the script is empty (nothing to speak)"]


def test_discover_rejects_unknown_only_and_locale(tmp_path: Path) -> None:
    """If --only names no script or --locale is unknown, then ScriptError says so."""
    write_script(tmp_path, "en-US", "lesson-a", "Hello.\n")
    with pytest.raises(ScriptError, match="no script named lesson-x"):
        discover(tmp_path / "scripts", only=["lesson-x"])
    with pytest.raises(ScriptError, match="unknown locale 'fr-FR'"):
        discover(tmp_path / "scripts", locales=["fr-FR"])


class TestRepositoryScripts:
    def test_each_locale_has_the_content_the_brief_asks_for(self) -> None:
        """If the repo's scripts are read, then each locale has >=3 intros and the same 9 lessons."""
        root = Path(__file__).resolve().parents[2] / "audio" / "scripts"
        scripts, errors = discover(root)
        assert errors == []
        ids = {loc: {s.id for s in scripts if s.locale == loc} for loc in ("en-US", "ja-JP")}
        assert ids["en-US"] == ids["ja-JP"]
        assert len([i for i in ids["en-US"] if i.startswith("intro-")]) >= 3
        assert len([i for i in ids["en-US"] if i.startswith("lesson-")]) >= 8

    def test_no_numbers_or_statistics_are_spoken(self) -> None:
        """If a script is spoken, then it holds no digits or percent signs (no statistics)."""
        root = Path(__file__).resolve().parents[2] / "audio" / "scripts"
        for script in discover(root)[0]:
            assert not any(ch.isdigit() or ch in "%％" for ch in script.spoken_text), script.id
