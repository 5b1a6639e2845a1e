"""``python -m skill bench package``: Lambda package size and cold import time, beside a baseline.

Packages the service with ``npx serverless package --stage dev`` (offline, dummy credentials),
measures the unzipped size of the artifact, and times a fresh interpreter importing the Lambda
entry point (``wsgi_handler``, which builds the app with ``create_app()``) from the unzipped
package, with only boto3 and its helpers added from outside, as the Lambda runtime provides them.

The baseline is measured in the same run, the same way: Flask + ask-sdk-core alone, installed
with the pip platform flags and slim rules of ``serverless.yml``, and a fresh interpreter
importing ``flask`` and ``ask_sdk_core.skill_builder`` from there. Figures are printed side by side
with their ratio.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from skill.config import REPO_ROOT
from skill.deploy.serverless_config import load_serverless_config

SERVERLESS_BIN = REPO_ROOT / "node_modules" / ".bin" / "serverless"
LAMBDA_LIMIT_BYTES = 250 * 1024 * 1024
BASELINE_PACKAGES = ("flask", "ask-sdk-core")
#: What the Lambda Python runtime ships (``/var/runtime``); never in our package.
RUNTIME_PROVIDED = ("boto3", "botocore", "s3transfer", "jmespath")
MB = 1024 * 1024

#: Environment of the probed app: the same REFLECT_* names serverless.yml sets, dummy values.
PROBE_ENV = {
    "REFLECT_SKILL_IDS": "amzn1.ask.skill.00000000-0000-0000-0000-000000000000",
    "REFLECT_STORAGE": "dynamodb",
    "REFLECT_DYNAMODB_TABLE": "reflection-guide-bench-users",
    "REFLECT_DYNAMODB_REGION": "us-east-1",
    "REFLECT_AUDIO_BASE_URL": "https://d111111abcdef8.cloudfront.net",
    "REFLECT_LOG_LEVEL": "WARNING",
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "bench-dummy-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",
}

_ENTRY_PROBE = """
import json, sys, time
sys.path[:0] = [sys.argv[1]]
sys.path.append(sys.argv[2])
t0 = time.perf_counter()
import wsgi_handler
t1 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "app": type(wsgi_handler.wsgi_app).__name__}))
"""

_BASELINE_PROBE = """
import json, sys, time
sys.path[:0] = [sys.argv[1]]
t0 = time.perf_counter()
import flask
import ask_sdk_core.skill_builder
t1 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "app": "baseline"}))
"""

_INVOKE_PROBE = """
import json, sys
sys.path[:0] = [sys.argv[1]]
sys.path.append(sys.argv[2])
import wsgi_handler
response = wsgi_handler.handler(json.loads(sys.argv[3]), None)
print(json.dumps({"app": type(wsgi_handler.wsgi_app).__name__, "response": response}))
"""

_IMPORTTIME = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|( *)(\S+)")


class PackagingError(RuntimeError):
    """``serverless package`` or the baseline install failed."""


@dataclass(frozen=True)
class Figures:
    """One run's measurements (bytes and seconds)."""

    zip_bytes: int
    package_bytes: int
    baseline_bytes: int
    entry_import_s: float
    baseline_import_s: float
    runs: int
    largest: tuple[tuple[str, int], ...]
    heaviest_imports: tuple[tuple[str, float], ...]

    @property
    def size_ratio(self) -> float:
        """Package size over baseline size."""
        return self.package_bytes / self.baseline_bytes

    @property
    def import_ratio(self) -> float:
        """Entry point import time over baseline import time."""
        return self.entry_import_s / self.baseline_import_s


def serverless_env(python: str = sys.executable) -> dict[str, str]:
    """Environment for an offline ``serverless package``: dummy credentials, no telemetry."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SLS_", "SERVERLESS_"))}
    env.update(
        AWS_ACCESS_KEY_ID="AKIAIOSFODNN7EXAMPLE",
        AWS_SECRET_ACCESS_KEY="offline-dummy-secret",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        SLS_TELEMETRY_DISABLED="1",
        SLS_NOTIFICATIONS_MODE="off",
        SLS_DEPRECATION_DISABLE="*",
        PYTHON_BIN=python,
    )
    return env


def package_service(out: Path, stage: str = "dev", timeout_s: float = 600.0) -> Path:
    """Run ``npx serverless package --stage <stage> --package <out>``; the zip's path.

    :raises PackagingError: serverless is not installed, fails, or leaves no zip.
    """
    if not SERVERLESS_BIN.exists():
        raise PackagingError(f"{SERVERLESS_BIN} is missing (run: npm ci)")
    command = ["npx", "--no-install", "serverless", "package", "--stage", stage, "--package", str(out)]
    try:
        done = subprocess.run(command, cwd=REPO_ROOT, env=serverless_env(), stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired as exc:
        raise PackagingError(f"serverless package timed out after {timeout_s:.0f} s") from exc
    zips = sorted(out.glob("*.zip"))
    if done.returncode != 0 or not zips:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
        raise PackagingError(f"serverless package failed (exit {done.returncode}):\n{tail}")
    return zips[0]


def unzipped_size(archive: Path) -> int:
    """Sum of the uncompressed sizes of every file in ``archive``."""
    with zipfile.ZipFile(archive) as handle:
        return sum(info.file_size for info in handle.infolist() if not info.is_dir())


def tree_size(root: Path) -> int:
    """Sum of the sizes of every regular file under ``root``."""
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def largest_entries(root: Path, count: int = 6) -> tuple[tuple[str, int], ...]:
    """The ``count`` biggest top-level entries of ``root`` by size."""
    sizes = [(p.name, tree_size(p) if p.is_dir() else p.stat().st_size) for p in root.iterdir()]
    return tuple(sorted(sizes, key=lambda item: -item[1])[:count])


def extract(archive: Path, dest: Path) -> Path:
    """Unzip ``archive`` into ``dest``."""
    with zipfile.ZipFile(archive) as handle:
        handle.extractall(dest)
    return dest


def install_baseline(dest: Path, config: Mapping[str, Any] | None = None) -> Path:
    """Install Flask + ask-sdk-core into ``dest`` as serverless.yml would package them.

    Same pip platform flags, then the same slim rules (no ``*.pyc``, ``__pycache__``,
    ``*.dist-info``, extra slim patterns) and ``strip`` of shared objects.

    :raises PackagingError: pip fails.
    """
    config = config or load_serverless_config()
    options = config.get("custom", {}).get("pythonRequirements", {})
    extra = [str(a) for a in options.get("pipCmdExtraArgs", [])]
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "-t", str(dest), *extra, *BASELINE_PACKAGES]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise PackagingError(f"baseline pip install failed:\n{done.stderr[-2000:]}")
    patterns = ["**/*.pyc", "**/*.pyo", "**/__pycache__", "**/*.dist-info"]
    patterns += [str(p) for p in options.get("slimPatterns", [])]
    for pattern in patterns:
        for path in sorted(dest.glob(pattern), key=lambda p: -len(p.parts)):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            elif path.exists():
                path.unlink()
    strip = shutil.which("strip")
    if strip and options.get("strip", True) is not False:
        for lib in dest.rglob("*.so"):
            subprocess.run([strip, str(lib)], capture_output=True, check=False)
    return dest


def runtime_shim(dest: Path) -> Path:
    """A folder with links to boto3 and its helpers, standing in for the Lambda runtime's own."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_PROVIDED:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        origin = Path(spec.origin)
        source = origin.parent if origin.name == "__init__.py" else origin
        link = dest / source.name
        if not link.exists():
            link.symlink_to(source)
    return dest


def _run_probe(code: str, args: Sequence[str], cwd: Path, env: Mapping[str, str],
               importtime: bool = False) -> tuple[dict[str, Any], str]:
    command = [sys.executable, "-S", *(["-X", "importtime"] if importtime else []), "-c", code, *args]
    done = subprocess.run(command, cwd=cwd, env=dict(env), capture_output=True, text=True,
                          timeout=120, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise PackagingError(f"probe failed (exit {done.returncode}):\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(lines[-1])
    return result, done.stderr


def probe_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A minimal environment for a probe: PATH, HOME, the REFLECT_* settings, dummy AWS."""
    env = {k: os.environ[k] for k in ("PATH", "HOME", "LANG", "TMPDIR") if k in os.environ}
    env.update(PROBE_ENV)
    env.update(extra or {})
    return env


def invoke_packaged(package_dir: Path, shim: Path, event: Mapping[str, Any],
                    extra_env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Import the packaged entry point in a fresh interpreter and call its handler with ``event``."""
    result, _ = _run_probe(_INVOKE_PROBE, [str(package_dir), str(shim), json.dumps(event)],
                           package_dir, probe_env(extra_env))
    return result


def http_api_event(body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event for ``POST /`` carrying ``body`` as JSON."""
    return {
        "version": "2.0",
        "routeKey": "POST /",
        "rawPath": "/",
        "rawQueryString": "",
        "headers": {"content-type": "application/json",
                    "host": "abc123.execute-api.us-east-1.amazonaws.com", **(headers or {})},
        "requestContext": {
            "http": {"method": "POST", "path": "/", "protocol": "HTTP/1.1",
                     "sourceIp": "192.0.2.1", "userAgent": "Apache-HttpClient/UNAVAILABLE"},
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "stage": "$default",
        },
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def time_imports(package_dir: Path, shim: Path, baseline_dir: Path, runs: int
                 ) -> tuple[float, float, tuple[tuple[str, float], ...]]:
    """Median fresh-interpreter import times: (entry point, baseline, heaviest top-level imports)."""
    env = probe_env()
    entry: list[float] = []
    base: list[float] = []
    for _ in range(runs):
        result, _ = _run_probe(_ENTRY_PROBE, [str(package_dir), str(shim)], package_dir, env)
        if result["app"] != "Flask":
            raise PackagingError(f"the entry point did not build the Flask app: {result['app']}")
        entry.append(float(result["import_s"]))
        result, _ = _run_probe(_BASELINE_PROBE, [str(baseline_dir)], baseline_dir, env)
        base.append(float(result["import_s"]))
    _, trace = _run_probe(_ENTRY_PROBE, [str(package_dir), str(shim)], package_dir, env,
                          importtime=True)
    return statistics.median(entry), statistics.median(base), heaviest_imports(trace)


def heaviest_imports(trace: str, count: int = 8) -> tuple[tuple[str, float], ...]:
    """Top-level packages by total *self* import time (seconds) from ``-X importtime`` output.

    Self times do not overlap, so the figures add up (cumulative times would count nested
    packages twice).
    """
    totals: dict[str, float] = {}
    for line in trace.splitlines():
        match = _IMPORTTIME.match(line)
        if match:
            name = match.group(4).split(".")[0]
            totals[name] = totals.get(name, 0.0) + int(match.group(1)) / 1e6
    return tuple(sorted(totals.items(), key=lambda item: -item[1])[:count])


def measure(work: Path, runs: int = 5, archive: Path | None = None, stage: str = "dev") -> Figures:
    """Package (unless ``archive`` is given), install the baseline, and measure both."""
    archive = archive or package_service(work / "package", stage=stage)
    package_dir = extract(archive, work / "unzipped")
    baseline_dir = install_baseline(work / "baseline")
    shim = runtime_shim(work / "runtime")
    entry_s, base_s, heavy = time_imports(package_dir, shim, baseline_dir, runs)
    return Figures(
        zip_bytes=archive.stat().st_size,
        package_bytes=unzipped_size(archive),
        baseline_bytes=tree_size(baseline_dir),
        entry_import_s=entry_s,
        baseline_import_s=base_s,
        runs=runs,
        largest=largest_entries(package_dir),
        heaviest_imports=heavy,
    )


def report(figures: Figures) -> str:
    """The figures as text, baseline beside each measurement."""
    largest = ", ".join(f"{name} {size / MB:.1f}" for name, size in figures.largest)
    heavy = ", ".join(f"{name} {secs * 1000:.0f}" for name, secs in figures.heaviest_imports)
    limit = figures.package_bytes / LAMBDA_LIMIT_BYTES
    rows = [
        ("zip", f"{figures.zip_bytes / MB:8.2f} MB"),
        ("unzipped", f"{figures.package_bytes / MB:8.2f} MB   ({limit:.1%} of the 250 MB limit)"),
        ("Flask + ask-sdk-core alone", f"{figures.baseline_bytes / MB:8.2f} MB   (same pip flags, slim)"),
        ("ratio", f"{figures.size_ratio:8.2f} x"),
    ]
    timings = [
        ("entry point: wsgi_handler -> skill.wsgi -> create_app()",
         f"{figures.entry_import_s * 1000:7.0f} ms"),
        ("import flask + ask_sdk_core.skill_builder alone",
         f"{figures.baseline_import_s * 1000:7.0f} ms"),
        ("ratio", f"{figures.import_ratio:7.2f} x"),
    ]
    return "\n".join([
        "Lambda package (npx serverless package --stage dev)",
        *(f"  {label:<29}{value}" for label, value in rows),
        f"  largest entries (MB): {largest}",
        f"Cold import, fresh `python -S`, median of {figures.runs}",
        *(f"  {label:<58}{value}" for label, value in timings),
        f"  heaviest packages (ms of own import time; wsgi_handler includes create_app): {heavy}",
    ])


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m skill bench package``."""
    parser = argparse.ArgumentParser(prog="python -m skill bench package", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--zip", type=Path, help="measure this artifact instead of packaging")
    parser.add_argument("--runs", type=int, default=5, help="import timings per side (median)")
    parser.add_argument("--stage", default="dev")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(list(argv or []))
    with tempfile.TemporaryDirectory(prefix="bench-package-") as tmp:
        try:
            figures = measure(Path(tmp), runs=max(1, args.runs), archive=args.zip, stage=args.stage)
        except PackagingError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    if args.json:
        payload = asdict(figures) | {"size_ratio": figures.size_ratio,
                                     "import_ratio": figures.import_ratio}
        print(json.dumps(payload, indent=2))
    else:
        print(report(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
