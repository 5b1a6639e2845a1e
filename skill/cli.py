"""``python -m skill``: serve, chat, bench, build-audio."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from skill.config import LOOPBACK_HOSTS, load_settings
from skill.errors import ConfigError


def _serve(args: argparse.Namespace) -> int:
    overrides: dict[str, Any] = {}
    if args.db:
        overrides["db_path"] = args.db
    settings = load_settings(overrides)
    if settings.dev_skip_verification and args.host not in LOOPBACK_HOSTS:
        raise ConfigError(
            f"REFLECT_DEV_SKIP_VERIFICATION is on: refusing to listen on {args.host!r}; "
            "unverified requests are only accepted on loopback (127.0.0.1, ::1, localhost)"
        )
    from skill.service import create_app

    app = create_app(overrides)
    app.run(host=args.host, port=args.port, threaded=True, use_reloader=False)
    return 0


def _chat(args: argparse.Namespace) -> int:
    from skill.service import create_app
    from skill.simulator.chat import chat, make_transport
    from skill.simulator.conversation import DEFAULT_SKILL_ID, Conversation

    overrides: dict[str, Any] = {"dev_skip_verification": True, "log_level": args.log_level}
    if args.db:
        overrides["db_path"] = args.db
    app = create_app(overrides)
    conversation = Conversation(
        make_transport(app), locale=args.locale, user_id=args.user, skill_id=DEFAULT_SKILL_ID,
        audio_player=not args.no_audio_player,
    )
    return chat(conversation, sys.stdin, sys.stdout, as_json=args.json, interactive=sys.stdin.isatty())


BENCHES = ("checkin", "timing", "load", "package")


def _bench(args: argparse.Namespace) -> int:
    import importlib

    if args.what not in BENCHES:
        print(f"unknown benchmark {args.what!r}: choose one of {', '.join(BENCHES)}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"skill.bench.{args.what}")
    code: int = module.main(args.rest)
    return code


def _build_audio(args: argparse.Namespace) -> int:
    from skill.audio.cli import main as build_audio_main

    code: int = build_audio_main(args.rest)
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m skill", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the skill's HTTP endpoint")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=5000)
    serve.add_argument("--db", help="SQLite database file (default: REFLECT_DB_PATH)")
    serve.set_defaults(func=_serve)

    chat = sub.add_parser("chat", help="talk to the skill as text, without a device")
    chat.add_argument("--locale", choices=["en-US", "ja-JP"], default="en-US")
    chat.add_argument("--json", action="store_true", help="print each response envelope as one JSON line")
    chat.add_argument("--user", default="amzn1.ask.account.local-user", help="the Alexa user id")
    chat.add_argument("--db", help="SQLite database file (default: REFLECT_DB_PATH)")
    chat.add_argument("--no-audio-player", action="store_true",
                      help="simulate a device without the AudioPlayer interface")
    chat.add_argument("--log-level", default="WARNING", help="log level (logs go to stderr)")
    chat.set_defaults(func=_chat)

    bench = sub.add_parser("bench", help="run a benchmark (checkin, timing, load, package)")
    bench.add_argument("what")
    bench.add_argument("rest", nargs=argparse.REMAINDER)
    bench.set_defaults(func=_bench)

    audio = sub.add_parser("build-audio", help="synthesize and check the audio clips", add_help=False)
    audio.add_argument("rest", nargs=argparse.REMAINDER)
    audio.set_defaults(func=_build_audio)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    # build-audio and bench hand their own flags (e.g. --check) to their own parsers: argparse's
    # REMAINDER does not capture options that come first.
    if argv[:1] == ["build-audio"]:
        return _build_audio(argparse.Namespace(rest=argv[1:]))
    if argv[:1] == ["bench"] and len(argv) > 1 and not argv[1].startswith("-"):
        return _run_guarded(_bench, argparse.Namespace(what=argv[1], rest=argv[2:]))
    args = build_parser().parse_args(argv)
    return _run_guarded(args.func, args)


def _run_guarded(func: Any, args: argparse.Namespace) -> int:
    try:
        code: int = func(args)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    return code
