"""Tests for skill.lessons.catalog: catalog vs manifest, tokens, URLs and lookups."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from skill.errors import UnsupportedLocaleError
from skill.lessons import (
    InvalidTokenError,
    LessonCatalogError,
    LessonNotFoundError,
    adjacent_lesson,
    decode_token,
    encode_token,
    find_lesson,
    get_lesson,
    lesson_url,
    load_intros,
    load_lessons,
)

AUDIO_DIR = Path(__file__).resolve().parents[2] / "audio"
LOCALES = ("en-US", "ja-JP")


class TestCatalogAgainstManifest:
    @pytest.mark.parametrize("locale", LOCALES)
    def test_every_lesson_has_a_clip_of_60_to_180_s(self, locale: str) -> None:
        """If the catalog is joined with the manifest, then >=8 lessons of 60-180 s exist."""
        lessons = load_lessons(locale, AUDIO_DIR)
        assert len(lessons) >= 8
        for lesson in lessons:
            assert 60_000 <= lesson.duration_ms <= 180_000, lesson.id
            assert (AUDIO_DIR / lesson.file).is_file(), lesson.file
            assert lesson.locale == locale and lesson.title

    @pytest.mark.parametrize("locale", LOCALES)
    def test_every_intro_has_a_clip_of_10_to_30_s(self, locale: str) -> None:
        """If intros are loaded, then >=3 exist and each lasts 10-30 s."""
        intros = load_intros(locale, AUDIO_DIR)
        assert len(intros) >= 3
        for intro in intros:
            assert 10_000 <= intro.duration_ms <= 30_000, intro.id

    def test_locales_offer_the_same_lessons(self) -> None:
        """If both locales are loaded, then they have the same lesson ids in the same order."""
        ids = [[lesson.id for lesson in load_lessons(loc, AUDIO_DIR)] for loc in LOCALES]
        assert ids[0] == ids[1]

    def test_titles_are_written_per_locale(self) -> None:
        """If ja-JP titles are read, then they are Japanese (not copied English)."""
        for lesson in load_lessons("ja-JP", AUDIO_DIR):
            assert any(ord(ch) > 0x3000 for ch in lesson.title), lesson.title

    def test_missing_clip_is_named(self, tmp_path: Path) -> None:
        """If the manifest lacks a lesson's clip, then LessonCatalogError names it."""
        data = json.loads((AUDIO_DIR / "manifest.json").read_text(encoding="utf-8"))
        data["clips"] = [c for c in data["clips"] if c["id"] != "lesson-hearing-no"]
        (tmp_path / "manifest.json").write_text(json.dumps(data), encoding="utf-8")
        with pytest.raises(LessonCatalogError, match="lesson clip 'lesson-hearing-no' is not"):
            load_lessons("en-US", tmp_path)

    def test_catalog_is_joined_once_and_again_after_a_rebuild(self, tmp_path: Path) -> None:
        """If the manifest is unchanged, then the same catalog object is served (joined once);
        if it is rebuilt while the skill runs, then the next request sees the new clips."""
        manifest = tmp_path / "manifest.json"
        data = json.loads((AUDIO_DIR / "manifest.json").read_text(encoding="utf-8"))
        manifest.write_text(json.dumps(data), encoding="utf-8")
        first = load_lessons("en-US", tmp_path, strict=False)
        assert load_lessons("en-US", tmp_path, strict=False) is first
        data["clips"] = [c for c in data["clips"] if c["id"] != "lesson-hearing-no"]
        manifest.write_text(json.dumps(data), encoding="utf-8")
        stat = manifest.stat()
        os.utime(manifest, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
        rebuilt = load_lessons("en-US", tmp_path, strict=False)
        assert len(rebuilt) == len(first) - 1
        assert "lesson-hearing-no" not in {lesson.audio_id for lesson in rebuilt}

    def test_missing_manifest_says_how_to_build(self, tmp_path: Path) -> None:
        """If there is no manifest, then the error says to run build-audio."""
        with pytest.raises(LessonCatalogError, match="run: python -m skill build-audio"):
            load_intros("en-US", tmp_path)


class TestLocales:
    def test_same_language_falls_back(self) -> None:
        """If en-GB is asked, then the en-US catalog answers."""
        assert load_lessons("en-GB", AUDIO_DIR)[0].locale == "en-US"

    def test_unknown_language_fails_loudly(self) -> None:
        """If no catalog shares the language, then UnsupportedLocaleError is raised."""
        with pytest.raises(UnsupportedLocaleError, match="no lessons catalog for locale 'fr-FR'"):
            load_lessons("fr-FR", AUDIO_DIR)


class TestTokens:
    @pytest.mark.parametrize("locale", LOCALES)
    def test_round_trip(self, locale: str) -> None:
        """If a token is encoded, then decoding gives back the lesson id and locale."""
        for lesson in load_lessons(locale, AUDIO_DIR):
            token = encode_token(lesson.id, lesson.locale)
            assert len(token) <= 1024
            assert decode_token(token) == (lesson.id, locale)

    @pytest.mark.parametrize("token", ["", "lesson:v1:en-US:", "lesson:v2:en-US:why-hard",
                                       "lesson:v1:english:why-hard", "lesson:v1:en-US:Why Hard",
                                       "other-skill-token", "lesson:v1:en-US:a:b"])
    def test_malformed_tokens_are_rejected(self, token: str) -> None:
        """If a token is not one encode_token makes, then InvalidTokenError is raised."""
        with pytest.raises(InvalidTokenError, match="malformed lesson token"):
            decode_token(token)

    def test_overlong_token_is_rejected(self) -> None:
        """If a token is over 1024 characters, then InvalidTokenError says so."""
        with pytest.raises(InvalidTokenError, match="longer than 1024"):
            decode_token("lesson:v1:en-US:" + "a" * 1100)

    def test_bad_id_cannot_be_encoded(self) -> None:
        """If a lesson id has spaces, then encode_token refuses it."""
        with pytest.raises(InvalidTokenError, match="malformed"):
            encode_token("why hard", "en-US")


class TestLookups:
    def test_lesson_url_joins_base_and_file(self) -> None:
        """If a base URL has a trailing slash, then the URL still has one slash before the file."""
        lesson = get_lesson(load_lessons("ja-JP", AUDIO_DIR), "why-hard")
        assert (lesson_url("https://cdn.example.com/audio/", lesson)
                == "https://cdn.example.com/audio/ja-JP/lesson-why-hard.mp3")

    @pytest.mark.parametrize(("locale", "phrase", "lesson_id"), [
        ("en-US", "asking for help", "why-hard"),
        ("en-US", "Choosing whom to ask", "whom-to-ask"),
        ("en-US", "giving back", "helpers-side"),
        ("ja-JP", "助けを求める", "why-hard"),
        ("ja-JP", "断られたとき", "hearing-no"),
        ("ja-JP", "心を開く", "little-by-little"),
    ])
    def test_find_lesson_by_spoken_phrase(self, locale: str, phrase: str, lesson_id: str) -> None:
        """If a phrase names a lesson by title or synonym, then find_lesson returns it."""
        found = find_lesson(load_lessons(locale, AUDIO_DIR), phrase)
        assert found is not None and found.id == lesson_id

    def test_find_lesson_unknown_is_none(self) -> None:
        """If nothing matches, then find_lesson returns None."""
        assert find_lesson(load_lessons("en-US", AUDIO_DIR), "quantum physics") is None
        assert find_lesson(load_lessons("en-US", AUDIO_DIR), "  ") is None

    def test_adjacent_lessons_and_ends(self) -> None:
        """If next/previous is asked at the ends, then None comes back."""
        lessons = load_lessons("en-US", AUDIO_DIR)
        assert adjacent_lesson(lessons, lessons[0].id, 1) == lessons[1]
        assert adjacent_lesson(lessons, lessons[0].id, -1) is None
        assert adjacent_lesson(lessons, lessons[-1].id, 1) is None

    def test_unknown_lesson_id(self) -> None:
        """If an id is unknown, then LessonNotFoundError names it."""
        with pytest.raises(LessonNotFoundError, match="no lesson 'nope'"):
            get_lesson(load_lessons("en-US", AUDIO_DIR), "nope")


def test_lessons_import_no_sdk_or_build_tools() -> None:
    """If skill.lessons is imported, then neither ask_sdk, Flask nor the audio build is loaded."""
    import subprocess
    import sys

    code = ("import sys, skill.lessons; "
            "bad = [m for m in sys.modules if m.split('.')[0] in {'ask_sdk_core', 'flask', 'tqdm'}"
            " or m.startswith('skill.audio')]; print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
