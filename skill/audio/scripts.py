"""Source scripts: one UTF-8 text file per clip per locale, ``<scripts>/<locale>/<id>.txt``.

Format: paragraphs separated by blank lines are spoken with a short gap between them; a line that
is exactly ``[pause N]`` (seconds, 0 < N <= 10) inserts N seconds of silence; lines starting with
``#`` are notes for writers and are not spoken. The id is the file name without ``.txt`` and
starts with its kind: ``intro-…`` or ``lesson-…``.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from skill.audio.errors import ScriptError

#: The locales the skill speaks; a script folder with another name is an error.
LOCALES: tuple[str, ...] = ("en-US", "ja-JP")
KINDS: tuple[str, ...] = ("intro", "lesson")
ID_PATTERN = re.compile(r"^(intro|lesson)-[a-z0-9]+(?:-[a-z0-9]+)*$")
_PAUSE = re.compile(r"^\[pause\s+(\d+(?:\.\d+)?)\s*s?\]$")
MAX_PAUSE_S = 10.0


@dataclass(frozen=True)
class Speech:
    """A paragraph of text to be spoken."""

    text: str


@dataclass(frozen=True)
class Pause:
    """Silence written into the script with ``[pause N]``."""

    seconds: float


Segment = Speech | Pause


@dataclass(frozen=True)
class Script:
    """One clip's source text."""

    id: str
    locale: str
    kind: str
    path: Path
    text: str
    sha256: str

    @property
    def segments(self) -> tuple[Segment, ...]:
        """The script parsed into spoken paragraphs and pauses."""
        return parse_segments(self.text, self.id)

    @property
    def spoken_text(self) -> str:
        """Every spoken paragraph joined by blank lines (what a speech engine reads)."""
        return "\n\n".join(s.text for s in self.segments if isinstance(s, Speech))


def normalize(text: str) -> str:
    """NFC-normalize, unify newlines and strip trailing spaces, so hashes ignore editor noise."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip() + "\n"


def parse_segments(text: str, clip: str = "?") -> tuple[Segment, ...]:
    """Split script text into :class:`Speech` paragraphs and :class:`Pause` marks.

    :param text: the script text.
    :param clip: the clip id, named in errors.
    :raises ScriptError: if a pause is out of range or nothing is left to speak.
    """
    segments: list[Segment] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            joiner = " " if _spaced(paragraph) else ""
            segments.append(Speech(joiner.join(paragraph)))
            paragraph.clear()

    for raw in text.split("\n"):
        line = raw.strip()
        if line.startswith("#"):
            continue
        if not line:
            flush()
            continue
        match = _PAUSE.match(line)
        if match:
            flush()
            seconds = float(match.group(1))
            if not 0 < seconds <= MAX_PAUSE_S:
                raise ScriptError(f"{clip}: pause {seconds:g}s is outside (0, {MAX_PAUSE_S:g}] s")
            segments.append(Pause(seconds))
            continue
        if line.startswith("["):
            raise ScriptError(f"{clip}: unknown mark {line!r} (only '[pause N]' is allowed)")
        paragraph.append(line)
    flush()
    if not any(isinstance(s, Speech) for s in segments):
        raise ScriptError(f"{clip}: the script is empty (nothing to speak)")
    return tuple(segments)


def _spaced(lines: list[str]) -> bool:
    """Whether wrapped lines join with a space (not for Japanese, which has no word spaces)."""
    return not any(_is_cjk(ch) for ch in lines[0][-1:])


def _is_cjk(ch: str) -> bool:
    return unicodedata.east_asian_width(ch) in {"W", "F"}


def load_script(path: Path, locale: str) -> Script:
    """Read one script file.

    :param path: ``<scripts>/<locale>/<id>.txt``.
    :param locale: the folder's locale.
    :raises ScriptError: if the name is not a clip id, the file is not UTF-8, or it is empty.
    """
    clip = f"{locale}/{path.stem}"
    if not ID_PATTERN.match(path.stem):
        raise ScriptError(f"{clip}: file name must be intro-<name>.txt or lesson-<name>.txt")
    try:
        text = normalize(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise ScriptError(f"{clip}: not UTF-8 text ({exc.reason})") from None
    parse_segments(text, clip)
    kind = path.stem.split("-", 1)[0]
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return Script(path.stem, locale, kind, path, text, digest)


def discover(
    scripts_dir: Path, locales: Iterable[str] | None = None, only: Iterable[str] | None = None
) -> tuple[list[Script], list[ScriptError]]:
    """Find every script, sorted by locale then id; broken ones come back as errors.

    :param scripts_dir: the folder holding one sub-folder per locale.
    :param locales: restrict to these locales.
    :param only: restrict to these clip ids.
    :raises ScriptError: if a locale is unknown or an ``only`` id matches no script.
    """
    wanted = tuple(locales) if locales else LOCALES
    for locale in wanted:
        if locale not in LOCALES:
            raise ScriptError(f"unknown locale {locale!r} (known: {', '.join(LOCALES)})")
    only_set = set(only or ())
    scripts: list[Script] = []
    errors: list[ScriptError] = []
    seen: set[str] = set()
    for locale in wanted:
        for path in sorted((scripts_dir / locale).glob("*.txt")):
            if only_set and path.stem not in only_set:
                continue
            seen.add(path.stem)
            try:
                scripts.append(load_script(path, locale))
            except ScriptError as exc:
                errors.append(exc)
    missing = only_set - seen
    if missing:
        raise ScriptError(f"no script named {', '.join(sorted(missing))} in {', '.join(wanted)}")
    return scripts, errors
