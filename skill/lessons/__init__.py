"""Lessons: the per-locale catalog of lesson and intro clips, stream URLs and AudioPlayer tokens.

Free of ask_sdk and Flask; the handlers call these functions and speak the results.
"""

from __future__ import annotations

from skill.lessons.catalog import (
    MAX_TOKEN_CHARS,
    Intro,
    InvalidTokenError,
    Lesson,
    LessonCatalogError,
    LessonNotFoundError,
    adjacent_lesson,
    catalog_locales,
    decode_token,
    encode_token,
    find_lesson,
    get_lesson,
    lesson_url,
    load_intros,
    load_lessons,
    resolve_locale,
)

__all__ = [
    "MAX_TOKEN_CHARS",
    "Intro",
    "InvalidTokenError",
    "Lesson",
    "LessonCatalogError",
    "LessonNotFoundError",
    "adjacent_lesson",
    "catalog_locales",
    "decode_token",
    "encode_token",
    "find_lesson",
    "get_lesson",
    "lesson_url",
    "load_intros",
    "load_lessons",
    "resolve_locale",
]
