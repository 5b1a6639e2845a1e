"""``python -m skill.deploy``: keep generated deployment files in sync, render the skill package.

    python -m skill.deploy sync            # regenerate skill-package models + Lambda requirements
    python -m skill.deploy sync --check    # exit 1 if any generated file is stale (CI)
    python -m skill.deploy skill-package --set ENDPOINT_URL=https://... [--set NAME=VALUE ...]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from skill.deploy import requirements, skill_package
from skill.errors import ConfigError


def _sync(args: argparse.Namespace) -> int:
    if args.check:
        problems = [str(p) for p in skill_package.stale_models()]
        problems += requirements.stale_requirements()
        for problem in problems:
            print(f"stale: {problem}", file=sys.stderr)
        if problems:
            print("run: python -m skill.deploy sync", file=sys.stderr)
            return 1
        print("deployment files are up to date")
        return 0
    changed = [str(p) for p in skill_package.sync_models()]
    if requirements.write_requirements():
        changed.append(str(requirements.REQUIREMENTS_PATH))
    for path in changed:
        print(f"wrote {path}")
    if not changed:
        print("deployment files are up to date")
    return 0


def _parse_sets(pairs: Sequence[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ConfigError(f"--set expects NAME=VALUE, not {pair!r}")
        values[name.strip().upper()] = value
    return values


def _skill_package(args: argparse.Namespace) -> int:
    explicit = _parse_sets(args.set or [])
    if args.endpoint:
        explicit["ENDPOINT_URL"] = args.endpoint
    skill_package.sync_models()
    settings = skill_package.resolve_settings(explicit, os.environ)
    rendered = skill_package.render_package(settings, out=Path(args.out))
    print(f"wrote {rendered.parent} (endpoint {settings['ENDPOINT_URL']}, "
          f"sslCertificateType {settings['SSL_CERTIFICATE_TYPE']})")
    print("next: ask deploy --target skill-metadata")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m skill.deploy", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sync = sub.add_parser("sync", help="regenerate skill-package models and lambda requirements")
    sync.add_argument("--check", action="store_true", help="only report stale files (exit 1)")
    sync.set_defaults(func=_sync)
    render = sub.add_parser("skill-package", help="render the deployable skill package")
    render.add_argument("--endpoint", help="the HTTPS endpoint (same as --set ENDPOINT_URL=...)")
    render.add_argument("--set", action="append", metavar="NAME=VALUE",
                        help=f"a placeholder value: {', '.join(skill_package.PLACEHOLDERS)} "
                             f"(else ${skill_package.ENV_PREFIX}<NAME>)")
    render.add_argument("--out", default=str(skill_package.BUILD_DIR), help="output directory")
    render.set_defaults(func=_skill_package)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
