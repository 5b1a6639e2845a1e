"""The lessons catalog: per-locale YAML joined with the audio manifest; playback tokens and URLs.

``skill/lessons/catalog/<locale>.yaml`` holds each lesson's id, topic, spoken title, synonyms and
audio clip id, and the intro clip ids; ``audio/manifest.json`` supplies each clip's file and
duration. Nothing here imports ask_sdk or Flask, and the build tools (``skill.audio``) are not
needed at run time.
"""

from __future__ import annotations

import functools
import json
import logging
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import yaml

from skill.config import load_settings
from skill.errors import ReflectionError, UnsupportedLocaleError

log = logging.getLogger("skill.lessons")
CATALOG_DIR = Path(__file__).resolve().parent / "catalog"
TOKEN_PREFIX = "lesson:v1"
#: AudioPlayer stream tokens may be at most 1024 characters.
MAX_TOKEN_CHARS = 1024
_ID = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_ID_PATTERN = re.compile(rf"^{_ID}$")
_TOKEN_PATTERN = re.compile(rf"^{re.escape(TOKEN_PREFIX)}:([a-z]{{2}}-[A-Z]{{2}}):({_ID})$")


class LessonCatalogError(ReflectionError):
    """Raised when a catalog file is malformed or names a clip the audio manifest lacks."""


class LessonNotFoundError(ReflectionError):
    """Raised when no lesson has the requested id in the locale."""


class InvalidTokenError(ReflectionError):
    """Raised when an AudioPlayer token is not one :func:`encode_token` made."""


@dataclass(frozen=True)
class Lesson:
    """One lesson clip, as the skill plays it."""

    id: str
    locale: str
    #: The spoken title (per-locale data).
    title: str
    #: ``asking-for-help``, ``opening-up`` or ``supporting-others``.
    topic: str
    audio_id: str
    duration_ms: int
    #: Path relative to the audio folder (and to the audio base URL), e.g. ``en-US/lesson-x.mp3``.
    file: str
    #: Extra phrases that name this lesson (slot matching).
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True)
class Intro:
    """One calming intro clip (played with SSML ``<audio>``)."""

    id: str
    locale: str
    audio_id: str
    duration_ms: int
    file: str


@functools.cache
def catalog_locales() -> tuple[str, ...]:
    """Every locale that has a catalog file (package data: listed once per process)."""
    return tuple(sorted(p.stem for p in CATALOG_DIR.glob("*.yaml")))


def resolve_locale(locale: str) -> str:
    """The catalog locale for ``locale``: exact match, else the first with the same language.

    :raises UnsupportedLocaleError: if no catalog matches.
    """
    known = catalog_locales()
    if locale in known:
        return locale
    language = locale.split("-")[0].lower()
    for candidate in known:
        if candidate.split("-")[0].lower() == language:
            return candidate
    raise UnsupportedLocaleError(f"no lessons catalog for locale {locale!r} (have {known})")


def _default_audio_dir() -> Path:
    return Path(load_settings().audio_dir)


@functools.lru_cache(maxsize=8)
def _manifest(audio_dir: str, mtime_ns: int) -> Mapping[tuple[str, str], Mapping[str, Any]]:
    path = Path(audio_dir) / "manifest.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {(c["locale"], c["id"]): c for c in data["clips"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LessonCatalogError(f"cannot read the audio manifest {path}: {exc}") from None


def _manifest_version(audio_dir: Path) -> int:
    """The manifest's modification time: a rebuilt manifest is read again, without a restart.

    :raises LessonCatalogError: the manifest is missing.
    """
    path = audio_dir / "manifest.json"
    try:
        return path.stat().st_mtime_ns
    except OSError:
        raise LessonCatalogError(f"the audio manifest {path} is missing "
                                 "(run: python -m skill build-audio)") from None


@functools.lru_cache(maxsize=8)
def _catalog(locale: str) -> Mapping[str, Any]:
    path = CATALOG_DIR / f"{locale}.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise LessonCatalogError(f"cannot read {path.name}: {exc}") from None
    if not isinstance(data, dict) or data.get("locale") != locale:
        raise LessonCatalogError(f"{path.name}: must be a mapping with 'locale: {locale}'")
    return data


def _clip(manifest: Mapping[tuple[str, str], Mapping[str, Any]], locale: str, audio_id: str,
          kind: str) -> Mapping[str, Any]:
    clip = manifest.get((locale, audio_id))
    if clip is None or clip.get("kind") != kind:
        raise LessonCatalogError(f"{locale}: {kind} clip {audio_id!r} is not in the audio manifest")
    return clip


def _clip_or_skip(manifest: Mapping[tuple[str, str], Mapping[str, Any]], locale: str,
                  audio_id: str, kind: str, strict: bool) -> Mapping[str, Any] | None:
    """:func:`_clip`, or (not ``strict``) ``None`` with a warning when the clip is missing."""
    try:
        return _clip(manifest, locale, audio_id, kind)
    except LessonCatalogError:
        if strict:
            raise
        log.warning("clip missing: left out of the catalog",
                    extra={"fields": {"locale": locale, "kind": kind, "audio_id": audio_id}})
        return None


def _items(data: Mapping[str, Any], key: str, locale: str) -> list[Mapping[str, Any]]:
    items = data.get(key)
    if not isinstance(items, list) or not items:
        raise LessonCatalogError(f"{locale}.yaml: '{key}' must be a non-empty list")
    ids = [item.get("id") if isinstance(item, dict) else None for item in items]
    for item_id in ids:
        if not isinstance(item_id, str) or not _ID_PATTERN.match(item_id):
            raise LessonCatalogError(f"{locale}.yaml: bad {key} id {item_id!r}")
    if len(set(ids)) != len(ids):
        raise LessonCatalogError(f"{locale}.yaml: duplicate {key} ids")
    return items


def load_lessons(locale: str, audio_dir: Path | str | None = None, *,
                 strict: bool = True) -> tuple[Lesson, ...]:
    """Every lesson of ``locale`` in catalog order, with file and duration from the manifest.

    :param locale: an Alexa locale; a locale of the same language is used if none matches exactly.
    :param audio_dir: the folder of ``manifest.json`` (default: the ``REFLECT_AUDIO_DIR`` setting).
    :param strict: raise when a lesson's clip is missing (build checks, tests); the running skill
        passes ``False`` to leave just that lesson out (logged) so one missing clip breaks
        nothing else.
    :raises UnsupportedLocaleError: if no catalog matches the locale.
    :raises LessonCatalogError: if the catalog is malformed, the manifest is missing, or (strict)
        a clip is missing.
    """
    folder = Path(audio_dir) if audio_dir else _default_audio_dir()
    return _lessons(resolve_locale(locale), str(folder), _manifest_version(folder), strict)


@functools.lru_cache(maxsize=32)
def _lessons(resolved: str, audio_dir: str, manifest_version: int,
             strict: bool) -> tuple[Lesson, ...]:
    """:func:`load_lessons` for one manifest version: joined once, not on every request (a
    missing clip is logged once per manifest version, too)."""
    manifest = _manifest(audio_dir, manifest_version)
    lessons = []
    for item in _items(_catalog(resolved), "lessons", resolved):
        try:
            audio_id, title, topic = str(item["audio"]), str(item["title"]), str(item["topic"])
        except KeyError as exc:
            raise LessonCatalogError(f"{resolved}.yaml: lesson {item['id']} lacks {exc}") from None
        clip = _clip_or_skip(manifest, resolved, audio_id, "lesson", strict)
        if clip is None:
            continue
        synonyms = tuple(str(s) for s in item.get("synonyms") or ())
        lessons.append(Lesson(item["id"], resolved, title, topic, audio_id,
                              int(clip["duration_ms"]), str(clip["file"]), synonyms))
    return tuple(lessons)


def load_intros(locale: str, audio_dir: Path | str | None = None, *,
                strict: bool = True) -> tuple[Intro, ...]:
    """Every intro clip of ``locale`` in catalog order.

    :param strict: as for :func:`load_lessons` (``False``: missing clips are left out, logged).
    :raises UnsupportedLocaleError: if no catalog matches the locale.
    :raises LessonCatalogError: if the catalog is malformed, or (strict) a clip is missing.
    """
    folder = Path(audio_dir) if audio_dir else _default_audio_dir()
    return _intros(resolve_locale(locale), str(folder), _manifest_version(folder), strict)


@functools.lru_cache(maxsize=32)
def _intros(resolved: str, audio_dir: str, manifest_version: int,
            strict: bool) -> tuple[Intro, ...]:
    """:func:`load_intros` for one manifest version, joined once."""
    manifest = _manifest(audio_dir, manifest_version)
    intros = []
    for item in _items(_catalog(resolved), "intros", resolved):
        audio_id = str(item.get("audio", ""))
        clip = _clip_or_skip(manifest, resolved, audio_id, "intro", strict)
        if clip is None:
            continue
        intros.append(Intro(item["id"], resolved, audio_id, int(clip["duration_ms"]),
                            str(clip["file"])))
    return tuple(intros)


def get_lesson(lessons: tuple[Lesson, ...], lesson_id: str) -> Lesson:
    """The lesson with ``lesson_id``.

    :raises LessonNotFoundError: if there is none.
    """
    for lesson in lessons:
        if lesson.id == lesson_id:
            return lesson
    raise LessonNotFoundError(f"no lesson {lesson_id!r}")


def adjacent_lesson(lessons: tuple[Lesson, ...], lesson_id: str, step: int) -> Lesson | None:
    """The lesson ``step`` places after (negative: before) ``lesson_id``, or ``None`` at an end.

    :raises LessonNotFoundError: if ``lesson_id`` is not in ``lessons``.
    """
    index = lessons.index(get_lesson(lessons, lesson_id)) + step
    return lessons[index] if 0 <= index < len(lessons) else None


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return re.sub(r"[\s\-'’、。,.!?！？「」]", "", text)


def find_lesson(lessons: tuple[Lesson, ...], phrase: str) -> Lesson | None:
    """The lesson a spoken phrase names (id, title, synonym or topic), or ``None``.

    Exact matches win; otherwise the first lesson whose title or synonym contains the phrase,
    or is contained in it.
    """
    wanted = _fold(phrase)
    if not wanted:
        return None

    def names(lesson: Lesson) -> list[str]:
        return [_fold(n) for n in (lesson.id, lesson.title, lesson.topic, *lesson.synonyms)]

    for lesson in lessons:
        if wanted in names(lesson):
            return lesson
    for lesson in lessons:
        if any(n and (wanted in n or n in wanted) for n in names(lesson)[1:]):
            return lesson
    return None


def lesson_url(base_url: str, lesson: Lesson | Intro) -> str:
    """The stream URL of a clip: ``<base_url>/<file>``, path segments percent-encoded."""
    return f"{base_url.rstrip('/')}/{quote(lesson.file)}"


def encode_token(lesson_id: str, locale: str) -> str:
    """An AudioPlayer token naming the lesson and locale: ``lesson:v1:<locale>:<id>``.

    :raises InvalidTokenError: if the id or locale could not be decoded back.
    """
    token = f"{TOKEN_PREFIX}:{locale}:{lesson_id}"
    decode_token(token)
    return token


def decode_token(token: str) -> tuple[str, str]:
    """Split a token made by :func:`encode_token` into ``(lesson_id, locale)``.

    :raises InvalidTokenError: if the token is too long or not in the expected form.
    """
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
        raise InvalidTokenError("lesson token is missing or longer than 1024 characters")
    match = _TOKEN_PATTERN.match(token)
    if match is None:
        raise InvalidTokenError(f"malformed lesson token {token[:80]!r}")
    return match.group(2), match.group(1)
