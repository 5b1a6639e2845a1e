"""The build: scripts → speech engine → PCM → loudnorm (two passes) → MP3 → manifest; and checks.

gTTS is the engine of record. When it cannot be reached (probed once, with a short timeout) each
clip falls back to the first offline engine of its locale that can run here; the engine is
recorded, and a later build that reaches gTTS regenerates those clips. A failing clip never
touches the existing file or manifest entry: files are written beside their target and renamed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from skill.audio import media
from skill.audio.engines import GTTS, Engine, GTTSEngine, offline_chain
from skill.audio.errors import (
    AudioBuildError,
    EngineUnavailableError,
    MediaError,
    ScriptError,
    SynthesisError,
)
from skill.audio.manifest import ManifestEntry, atomic_write, load_manifest, save_manifest
from skill.audio.scripts import Pause, Script, Speech, discover

#: Silence before the first word, after the last, and between paragraphs (seconds).
LEAD_IN_S = 0.4
TAIL_S = 0.7
PARAGRAPH_GAP_S = 0.9
#: How far the probed duration may drift from the manifest before ``--check`` fails.
DURATION_TOLERANCE_MS = 100
ENGINE_MODES = ("auto", "gtts", "offline")
LOCK_NAME = ".build-audio.lock"

Log = Callable[[str], None]


def _stderr(message: str) -> None:
    tqdm.write(message, file=sys.stderr)


@dataclass(frozen=True)
class BuildOptions:
    """What to build and how.

    :param engine: ``auto`` (gTTS, else offline fallback), ``gtts`` (no fallback) or ``offline``.
    :param force: rebuild even clips that are up to date.
    """

    scripts_dir: Path
    audio_dir: Path
    locales: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    engine: str = "auto"
    force: bool = False
    gtts_timeout_s: float = 3.0
    progress: bool = True


@dataclass
class BuildReport:
    """What a build did, clip by clip (``clip`` is ``<locale>/<id>``)."""

    built: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    fallbacks: list[tuple[str, str, str]] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every selected clip is now built from its current script."""
        return not self.failures


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def _clip(locale: str, clip_id: str) -> str:
    return f"{locale}/{clip_id}"


class Builder:
    """Builds clips; engines are injectable so tests run without network or neural voices."""

    def __init__(
        self,
        options: BuildOptions,
        offline: Callable[[str], Sequence[Engine]] = offline_chain,
        gtts: Callable[[str], GTTSEngine] | None = None,
        log: Log = _stderr,
    ) -> None:
        """Prepare a build.

        :param offline: the offline engine chain of a locale, best first.
        :param gtts: the gTTS engine of a locale (default: the real service, short timeout).
        :raises AudioBuildError: if ``options.engine`` is unknown.
        """
        if options.engine not in ENGINE_MODES:
            raise AudioBuildError(f"--engine must be one of {', '.join(ENGINE_MODES)}")
        self.options = options
        self._offline = offline
        self._gtts = gtts or (lambda loc: GTTSEngine(loc, timeout_s=options.gtts_timeout_s))
        self.log = log
        self._gtts_state: dict[str, str | None] = {}
        self._offline_state: dict[str, tuple[Engine | None, tuple[str, ...], str]] = {}

    # -- engine selection -------------------------------------------------------------------

    def gtts_problem(self, locale: str) -> str | None:
        """Why gTTS cannot be used for ``locale`` in this build (probed once), or ``None``."""
        if self.options.engine == "offline":
            return "--engine offline"
        if locale not in self._gtts_state:
            try:
                self._gtts(locale).check()
                self._gtts_state[locale] = None
            except EngineUnavailableError as exc:
                self._gtts_state[locale] = str(exc)
        return self._gtts_state[locale]

    def offline_engine(self, locale: str) -> tuple[Engine | None, tuple[str, ...], str]:
        """The first runnable offline engine, every chain member's name, and why others failed."""
        if locale not in self._offline_state:
            chain = tuple(self._offline(locale))
            chosen: Engine | None = None
            skipped: list[str] = []
            for engine in chain:
                try:
                    engine.check()
                    chosen = engine
                    break
                except EngineUnavailableError as exc:
                    skipped.append(f"{engine.name}: {exc}")
            self._offline_state[locale] = (chosen, tuple(e.name for e in chain), "; ".join(skipped))
        return self._offline_state[locale]

    def _stale_reason(self, script: Script, entry: ManifestEntry | None) -> str | None:
        """Why a clip must be (re)built, or ``None`` when the existing clip is good enough."""
        if self.options.force:
            return "forced"
        if entry is None:
            return "new clip"
        if entry.script_sha256 != script.sha256:
            return "script changed"
        path = self.options.audio_dir / entry.file
        if not path.exists() or sha256_file(path) != entry.sha256:
            return "file missing or modified"
        fmt = media.FORMATS[script.kind]
        if (entry.bitrate, entry.sample_rate, entry.channels) != (
            fmt.bitrate, fmt.sample_rate, fmt.channels):
            return "format changed"
        if entry.process != media.PROCESS:
            return "processing changed"
        if entry.engine == GTTS:
            return None
        if self.gtts_problem(script.locale) is None:
            return f"built offline ({entry.engine}); gTTS is reachable now"
        engine, names, _ = self.offline_engine(script.locale)
        if engine is None or entry.engine == engine.name:
            return None
        if entry.engine in names and names.index(entry.engine) < names.index(engine.name):
            return None  # a better offline engine made it; never downgrade
        return f"engine changed ({entry.engine} -> {engine.name})"

    # -- building -----------------------------------------------------------------------------

    def build(self) -> BuildReport:
        """Build every selected clip that is new, changed or made by a worse engine.

        :raises ScriptError: if a locale or ``--only`` id is unknown.
        """
        opts = self.options
        opts.audio_dir.mkdir(parents=True, exist_ok=True)
        with _build_lock(opts.audio_dir):
            return self._build_locked()

    def _build_locked(self) -> BuildReport:
        opts = self.options
        scripts, broken = discover(opts.scripts_dir, opts.locales, opts.only)
        report = BuildReport()
        for error in broken:
            report.failures.append((str(error).split(":", 1)[0], str(error)))
        manifest = load_manifest(opts.audio_dir)
        todo: list[tuple[Script, str]] = []
        for script in scripts:
            reason = self._stale_reason(script, manifest.get((script.locale, script.id)))
            if reason is None:
                report.skipped.append(_clip(script.locale, script.id))
            else:
                todo.append((script, reason))
        self._announce_engines({s.locale for s, _ in todo})
        bar = tqdm(total=len(todo), unit="clip", desc="build-audio", disable=not opts.progress,
                   file=sys.stderr)
        with bar, tempfile.TemporaryDirectory(prefix="build-audio-") as work:
            for script, reason in todo:
                clip = _clip(script.locale, script.id)
                bar.set_postfix_str(clip)
                try:
                    entry, fallback = self._build_one(script, Path(work))
                except (AudioBuildError, OSError) as exc:
                    message = str(exc) if str(exc).startswith(clip) else f"{clip}: {exc}"
                    report.failures.append((clip, message))
                    self.log(f"FAILED {message} (the previous clip, if any, is kept)")
                else:
                    manifest[entry.key] = entry
                    save_manifest(opts.audio_dir, manifest)
                    report.built.append((clip, entry.engine))
                    if fallback:
                        report.fallbacks.append((clip, entry.engine, fallback))
                    self.log(f"built {clip} ({reason}) with {entry.engine}, "
                             f"{entry.duration_ms / 1000:.1f} s")
                bar.update(1)
        self._summarize(report)
        return report

    def _announce_engines(self, locales: set[str]) -> None:
        for locale in sorted(locales):
            problem = self.gtts_problem(locale)
            if problem is None:
                self.log(f"{locale}: gTTS reachable; building with gTTS")
                continue
            engine, _, skipped = self.offline_engine(locale)
            if self.options.engine == "gtts":
                self.log(f"{locale}: gTTS UNAVAILABLE ({problem}); "
                         "--engine gtts allows no fallback")
            elif engine is None:
                self.log(f"{locale}: gTTS unavailable ({problem}) and no offline engine "
                         f"runs: {skipped}")
            else:
                note = f" (skipped: {skipped})" if skipped else ""
                self.log(f"{locale}: gTTS unavailable ({problem}); "
                         f"FALLING BACK to {engine.name}{note}")

    def _build_one(self, script: Script, work: Path) -> tuple[ManifestEntry, str | None]:
        """Synthesize, normalise, encode and atomically place one clip (and say any fallback)."""
        clip = _clip(script.locale, script.id)
        gtts = self._gtts(script.locale)
        for segment in script.segments:
            if isinstance(segment, Speech):
                why = gtts.rejected(segment.text)
                if why:
                    raise ScriptError(f"{clip}: {why}: {segment.text[:60]!r}")
        fallback: str | None = None
        problem = self.gtts_problem(script.locale)
        pcm: bytes | None = None
        if problem is None:
            try:
                pcm = self._speak(script, gtts, work)
                engine_name = GTTS
            except EngineUnavailableError as exc:
                problem = str(exc)
                self._gtts_state[script.locale] = problem
        if pcm is None:
            if self.options.engine == "gtts":
                raise EngineUnavailableError(f"{clip}: {problem}; --engine gtts allows no fallback")
            engine, _, skipped = self.offline_engine(script.locale)
            if engine is None:
                raise EngineUnavailableError(f"{clip}: gTTS unavailable ({problem}); "
                                             f"no offline engine runs: {skipped}")
            pcm = self._speak(script, engine, work)
            engine_name = engine.name
            fallback = problem
        return self._place(script, pcm, engine_name, work), fallback

    def _speak(self, script: Script, engine: Engine, work: Path) -> bytes:
        clip = _clip(script.locale, script.id)
        parts = [media.silence(LEAD_IN_S)]
        segments = script.segments
        for index, segment in enumerate(segments):
            if isinstance(segment, Pause):
                parts.append(media.silence(segment.seconds))
                continue
            out = work / f"{script.locale}-{script.id}-{index}{engine.suffix}"
            try:
                engine.synthesize(segment.text, out)
            except SynthesisError as exc:
                raise SynthesisError(f"{clip}: {exc}") from None
            if not out.exists() or out.stat().st_size == 0:
                raise SynthesisError(f"{clip}: {engine.name} wrote no audio")
            parts.append(media.decode_pcm(out, clip))
            following = segments[index + 1] if index + 1 < len(segments) else None
            if isinstance(following, Speech):
                parts.append(media.silence(PARAGRAPH_GAP_S))
        parts.append(media.silence(TAIL_S))
        return b"".join(parts)

    def _place(self, script: Script, pcm: bytes, engine_name: str, work: Path) -> ManifestEntry:
        clip = _clip(script.locale, script.id)
        fmt = media.FORMATS[script.kind]
        pcm_path = work / f"{script.locale}-{script.id}.pcm"
        pcm_path.write_bytes(pcm)
        rel = f"{script.locale}/{script.id}.mp3"
        target = self.options.audio_dir / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{script.id}.", suffix=".mp3", dir=target.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            media.encode_mp3(pcm_path, tmp, fmt, clip)
            found = media.probe(tmp)
            problems = _format_problems(found, fmt)
            if abs(found.content_ms - found.duration_ms) > DURATION_TOLERANCE_MS:
                problems += f" frames last {found.content_ms} ms, header {found.duration_ms} ms"
            if problems:
                raise MediaError(f"{clip}: encoded file has the wrong format: {problems}")
            entry = ManifestEntry(
                id=script.id, locale=script.locale, kind=script.kind, file=rel,
                duration_ms=found.duration_ms, sha256=sha256_file(tmp), engine=engine_name,
                script_sha256=script.sha256, bitrate=found.bitrate,
                sample_rate=found.sample_rate, channels=found.channels, process=media.PROCESS,
            )
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return entry

    def _summarize(self, report: BuildReport) -> None:
        self.log(f"build-audio: {len(report.built)} built, {len(report.skipped)} up to date, "
                 f"{len(report.failures)} failed")
        if report.fallbacks:
            self.log(f"{len(report.fallbacks)} clip(s) built with an OFFLINE FALLBACK instead of "
                     "gTTS (a build that reaches gTTS regenerates them):")
            for clip, engine, why in report.fallbacks:
                self.log(f"  {clip}: {engine} (because {why})")
        for clip, message in report.failures:
            self.log(f"  FAILED {clip}: {message}")


@contextlib.contextmanager
def _build_lock(audio_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``<audio_dir>/.build-audio.lock`` so two builds never race."""
    with (audio_dir / LOCK_NAME).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AudioBuildError(f"another build-audio is running on {audio_dir}") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _format_problems(found: media.Probe, fmt: media.Format) -> str:
    problems = []
    if found.codec != "mp3":
        problems.append(f"codec {found.codec} (want mp3)")
    if found.sample_rate != fmt.sample_rate:
        problems.append(f"sample rate {found.sample_rate} Hz (want {fmt.sample_rate})")
    if found.channels != fmt.channels:
        problems.append(f"{found.channels} channels (want {fmt.channels})")
    if found.bitrate != fmt.bitrate:
        problems.append(f"bitrate {found.bitrate} bit/s (want {fmt.bitrate})")
    return ", ".join(problems)


def check(
    audio_dir: Path, scripts_dir: Path | None = None,
    locales: Sequence[str] = (), only: Sequence[str] = (),
) -> list[str]:
    """Verify every manifest entry against its file (and, given ``scripts_dir``, its script).

    Checks: file exists, SHA-256, format by ffprobe (codec mp3, sample rate, channels, bitrate,
    as recorded and as required for the kind), duration within :data:`DURATION_TOLERANCE_MS`;
    every script has a clip built from its current text.

    :returns: one message per problem, each naming the clip; empty when all is well.
    """
    problems: list[str] = []
    try:
        manifest = load_manifest(audio_dir)
    except AudioBuildError as exc:
        return [str(exc)]
    selected = {k: e for k, e in manifest.items()
                if (not locales or e.locale in locales) and (not only or e.id in only)}
    for entry in sorted(selected.values(), key=lambda e: e.key):
        clip = _clip(entry.locale, entry.id)
        path = audio_dir / entry.file
        if not path.is_file():
            problems.append(f"{clip}: file {entry.file} is missing")
            continue
        if sha256_file(path) != entry.sha256:
            problems.append(f"{clip}: sha256 of {entry.file} does not match the manifest")
        fmt = media.FORMATS.get(entry.kind)
        if fmt is None:
            problems.append(f"{clip}: unknown kind {entry.kind!r}")
            continue
        try:
            found = media.probe(path)
        except MediaError as exc:
            problems.append(f"{clip}: {exc}")
            continue
        wrong = _format_problems(found, fmt)
        if wrong:
            problems.append(f"{clip}: wrong format: {wrong}")
        recorded = media.Format(entry.bitrate, entry.sample_rate, entry.channels)
        if recorded != fmt:
            problems.append(f"{clip}: manifest records {recorded}, the kind requires {fmt}")
        measured = (("duration", found.duration_ms), ("audio frames last", found.content_ms))
        for label, value in measured:
            if abs(value - entry.duration_ms) > DURATION_TOLERANCE_MS:
                problems.append(f"{clip}: {label} {value} ms, manifest says "
                                f"{entry.duration_ms} ms (tolerance {DURATION_TOLERANCE_MS} ms)")
    if scripts_dir is not None:
        try:
            scripts, broken = discover(scripts_dir, locales or None, only or None)
        except ScriptError as exc:
            return [*problems, str(exc)]
        problems.extend(str(error) for error in broken)
        for script in scripts:
            built = manifest.get((script.locale, script.id))
            clip = _clip(script.locale, script.id)
            if built is None:
                problems.append(f"{clip}: script has no clip in the manifest (run build-audio)")
            elif built.script_sha256 != script.sha256:
                problems.append(f"{clip}: script changed since the clip was built "
                                "(run build-audio)")
    return problems


def duration_table(audio_dir: Path, locales: Sequence[str] = ()) -> str:
    """A Markdown table of every clip's duration, engine and size, per locale, with totals."""
    manifest = load_manifest(audio_dir)
    lines = ["| locale | kind | id | duration | engine | size |", "|---|---|---|---:|---|---:|"]
    total_ms = total_bytes = 0
    for entry in sorted(manifest.values(), key=lambda e: (e.locale, e.kind, e.id)):
        if locales and entry.locale not in locales:
            continue
        path = audio_dir / entry.file
        size = path.stat().st_size if path.exists() else 0
        total_ms += entry.duration_ms
        total_bytes += size
        seconds = entry.duration_ms / 1000
        lines.append(f"| {entry.locale} | {entry.kind} | {entry.id} | "
                     f"{int(seconds // 60)}:{seconds % 60:04.1f} | {entry.engine} | "
                     f"{size / 1024:.0f} KB |")
    lines.append(f"| **all** | | | **{total_ms / 60000:.1f} min** | | "
                 f"**{total_bytes / 1_048_576:.1f} MB** |")
    return "\n".join(lines) + "\n"


__all__ = ["BuildOptions", "BuildReport", "Builder", "atomic_write", "check", "duration_table"]
