"""``python -m skill build-audio``: build, check or tabulate the intro and lesson clips."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from skill.audio.errors import AudioBuildError
from skill.audio.pipeline import ENGINE_MODES, Builder, BuildOptions, check, duration_table
from skill.audio.scripts import LOCALES
from skill.config import REPO_ROOT


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m skill build-audio",
        description="Synthesize audio/scripts into loudness-normalised MP3 clips and "
                    "audio/manifest.json (gTTS, else an offline engine per locale).",
    )
    parser.add_argument("--check", action="store_true",
                        help="verify every manifest entry against its file and script; no build")
    parser.add_argument("--table", action="store_true",
                        help="print a Markdown duration table of the manifest; no build")
    parser.add_argument("--locale", action="append", choices=LOCALES, default=[],
                        help="only this locale (repeatable)")
    parser.add_argument("--only", action="append", default=[], metavar="ID",
                        help="only this clip id, e.g. lesson-small-request (repeatable)")
    parser.add_argument("--engine", choices=ENGINE_MODES, default="auto",
                        help="auto: gTTS, else offline fallback (default); gtts: no fallback; "
                             "offline: skip gTTS")
    parser.add_argument("--force", action="store_true", help="rebuild even up-to-date clips")
    parser.add_argument("--gtts-timeout", type=float, default=3.0, metavar="S",
                        help="seconds to wait for the gTTS service (default 3)")
    parser.add_argument("--audio-dir", type=Path, default=REPO_ROOT / "audio",
                        help="folder of the clips and manifest.json (default: audio/)")
    parser.add_argument("--scripts-dir", type=Path, default=None,
                        help="folder of <locale>/<id>.txt scripts (default: <audio-dir>/scripts)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def main(argv: list[str]) -> int:
    """Run the command; return 0 on success, 1 on any failed clip or check, 2 on bad usage.

    :param argv: the arguments after ``build-audio``.
    """
    args = _parser().parse_args(argv)
    audio_dir: Path = args.audio_dir
    scripts_dir: Path = args.scripts_dir or audio_dir / "scripts"
    locales = tuple(args.locale)
    only = tuple(args.only)
    try:
        if args.table:
            sys.stdout.write(duration_table(audio_dir, locales))
            return 0
        if args.check:
            problems = check(audio_dir, scripts_dir, locales, only)
            for problem in problems:
                print(f"MISMATCH {problem}", file=sys.stderr)
            print(f"build-audio --check: {len(problems)} problem(s)",
                  file=sys.stderr if problems else sys.stdout)
            return 1 if problems else 0
        options = BuildOptions(
            scripts_dir=scripts_dir, audio_dir=audio_dir, locales=locales, only=only,
            engine=args.engine, force=args.force, gtts_timeout_s=args.gtts_timeout,
            progress=not args.no_progress,
        )
        report = Builder(options).build()
    except AudioBuildError as exc:
        print(f"build-audio: {exc}", file=sys.stderr)
        return 1
    return 0 if report.ok else 1
