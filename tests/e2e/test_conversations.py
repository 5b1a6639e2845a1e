"""End to end: the real server over loopback HTTP, driven by a real Alexa client (virtual-alexa).

The module starts ``python -m skill serve`` once, as a subprocess, on a free loopback port with a
throwaway SQLite file and the explicit local development setting
(``REFLECT_DEV_SKIP_VERIFICATION=1``: virtual-alexa sends no signature headers). Each conversation
script in ``tests/e2e/scripts/<flow>.<locale>.yaml`` is then played by ``tests/e2e/runner.js``
(Node), which prints one JSON line per step. Besides what each step expects, every script is
checked for what ended up stored (its ``stored:`` section) and for privacy: no free-form answer
reaches the database file or the server's log (run at DEBUG). How to run and how to write a
script: ``docs/e2e.md``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from skill.storage.records import UserRecord
from skill.storage.sqlite import SqliteStore
from tests.conftest import raw_bytes

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
RUNNER = HERE / "runner.js"
SCRIPTS = sorted((HERE / "scripts").glob("*.yaml"))
FLOWS = ("reflection", "checkin-bad-day", "checkin-good-day", "checkin-crisis", "crisis-at-menu",
         "lesson-pause-resume", "delete-my-data")
LOCALES = ("en-US", "ja-JP")
#: Alexa (and virtual-alexa) refuse a Play directive whose stream URL is not https; nothing here
#: ever fetches it (``.invalid`` is a reserved name that never resolves).
AUDIO_BASE_URL = "https://e2e.invalid/audio"
SERVER_START_S = 30.0
RUNNER_TIMEOUT_S = 60.0


def _client_missing() -> str | None:
    """Why the Node client cannot run here, or ``None`` when it can."""
    if shutil.which("node") is None:
        return "node is not on PATH (Node.js >= 20 runs tests/e2e/runner.js)"
    for package in ("virtual-alexa", "js-yaml"):
        if not (REPO / "node_modules" / package / "package.json").is_file():
            return (f"node_modules/{package} is missing: run `npm ci` in {REPO} "
                    "(CI does this before the tests)")
    return None


@pytest.fixture(scope="module")
def node_client() -> None:
    """Skip (locally) or fail (under CI=true, where `npm ci` must have run) without the client."""
    reason = _client_missing()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"e2e client unavailable in CI: {reason}")
    pytest.skip(reason)


@dataclass(frozen=True)
class Server:
    """The running skill: its endpoint, SQLite file and log file."""

    url: str
    db: Path
    log: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1.0) as resp:
            body: object = json.loads(resp.read())
            return resp.status == 200 and body == {"status": "ok"}
    except (OSError, urllib.error.URLError, ValueError):
        return False


def _start(tmp: Path, attempt: int) -> tuple[subprocess.Popen[bytes], Server] | None:
    """Start the server on a free port; ``None`` when it exited (the port was taken meanwhile)."""
    port = _free_port()
    db = tmp / f"e2e-{attempt}.sqlite3"
    log = tmp / f"server-{attempt}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REFLECT_")}
    env.update({
        "REFLECT_DEV_SKIP_VERIFICATION": "1",
        "REFLECT_AUDIO_BASE_URL": AUDIO_BASE_URL,
        "REFLECT_LOG_LEVEL": "DEBUG",
        "PYTHONUNBUFFERED": "1",
    })
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "skill", "serve", "--host", "127.0.0.1", "--port", str(port),
             "--db", str(db)],
            cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None
        if _healthy(port):
            return proc, Server(f"http://127.0.0.1:{port}/", db, log)
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    pytest.fail(f"the server did not answer GET /healthz within {SERVER_START_S:.0f} s:\n"
                + log.read_text(errors="replace")[-3000:])


@pytest.fixture(scope="module")
def server(node_client: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """``python -m skill serve`` on a free loopback port, a fresh SQLite file, DEBUG logs."""
    tmp = tmp_path_factory.mktemp("e2e")
    started = None
    for attempt in range(3):
        started = _start(tmp, attempt)
        if started is not None:
            break
    if started is None:
        logs = "\n".join(p.read_text(errors="replace")[-1500:] for p in sorted(tmp.glob("*.log")))
        pytest.fail(f"the server exited at start-up three times:\n{logs}")
    proc, srv = started
    try:
        yield srv
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_runner(url: str, *scripts: Path) -> tuple[int, list[dict[str, Any]], str]:
    """Run tests/e2e/runner.js on ``scripts``: exit status, its JSON lines, its stderr."""
    proc = subprocess.run(
        ["node", str(RUNNER), "--url", url, "--repo", str(REPO), *map(str, scripts)],
        cwd=REPO, capture_output=True, timeout=RUNNER_TIMEOUT_S, check=False)
    lines = [json.loads(line) for line in proc.stdout.decode().splitlines() if line.strip()]
    return proc.returncode, lines, proc.stderr.decode(errors="replace")


def _explain(step: dict[str, Any]) -> str:
    """A failed step, readable: the action, what went wrong, what was sent and heard."""
    sent = "; ".join(
        s["type"] + (f" {s['intent']}" if "intent" in s else "")
        + (f" {json.dumps(s['slots'], ensure_ascii=False)}" if "slots" in s else "")
        + (f" @{s['offset_ms']}ms" if "offset_ms" in s else "")
        + (f" -> {s['error']}" if "error" in s else "")
        for s in step["sent"])
    response = step.get("response") or {}
    return (f"step {step['index']}: {step['action']}\n"
            + "".join(f"    - {failure}\n" for failure in step["failures"])
            + f"    sent: {sent or '(nothing)'}\n"
            + f"    heard: {json.dumps(response.get('speech'), ensure_ascii=False)}"
            + f" end_session={response.get('end_session')}"
            + f" directives={[d['type'] for d in response.get('directives', [])]}")


def _stored_failures(expected: dict[str, Any], record: UserRecord) -> list[str]:
    """Differences between a script's ``stored:`` section and the user's stored record."""
    failures: list[str] = []
    for key, want in expected.items():
        if key == "lesson":
            lesson = record.lesson
            if want is None:
                if lesson is not None:
                    failures.append(f"a lesson is still stored: {lesson}")
            elif lesson is None:
                failures.append(f"no lesson stored, expected {want}")
            else:
                got = {"id": lesson.lesson_id, "finished": lesson.finished,
                       "offset_ms": lesson.offset_ms, "locale": lesson.locale}
                diff = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
                if diff:
                    failures.append(f"stored lesson differs (got, expected): {diff}")
        elif key == "checkin_tags":
            if len(record.checkin_tags) != want:
                failures.append(f"{len(record.checkin_tags)} check-in tags stored, expected {want}")
        elif key == "crisis_count":
            if record.crisis_count != want:
                failures.append(f"crisis_count is {record.crisis_count}, expected {want}")
        else:
            raise AssertionError(f"unknown stored: key {key!r}")
    return failures


def _free_speech(lines: list[dict[str, Any]]) -> set[str]:
    """Every free-form answer (CheckInIntent.answer) that was sent to the skill."""
    return {s["slots"]["answer"] for line in lines if line["kind"] == "step" for s in line["sent"]
            if s.get("intent") == "CheckInIntent" and "answer" in s.get("slots", {})}


def test_every_flow_has_a_script_per_locale() -> None:
    """If the e2e suite is complete, then each flow has exactly one script in each locale."""
    names = {p.name for p in SCRIPTS}
    expected = {f"{flow}.{locale}.yaml" for flow in FLOWS for locale in LOCALES}
    assert names == expected


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_intend_steps_say_why(script: Path) -> None:
    """If a script sends an intent directly instead of saying words, then it says why."""
    doc = yaml.safe_load(script.read_text(encoding="utf-8"))
    missing = [i for i, step in enumerate(doc["steps"], 1) if "intend" in step and not step.get("why")]
    assert missing == [], f"intend steps without why: {missing}"
    uses_intend = any("intend" in step for step in doc["steps"])
    header = script.read_text(encoding="utf-8").split("\nflow:")[0]
    assert ("intend() instead of say()" in header) or not uses_intend


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.stem)
def test_conversation(script: Path, server: Server) -> None:
    """If a person has this scripted conversation through virtual-alexa, then every step is
    answered as expected, the stored record matches, and no free-form answer is stored or logged."""
    code, lines, stderr = run_runner(server.url, script)
    assert code in (0, 1), f"runner error (exit {code}):\n{stderr}"
    steps = [line for line in lines if line["kind"] == "step"]
    summary = next(line for line in lines if line["kind"] == "summary")
    problems = [_explain(step) for step in steps if not step["ok"]]
    assert not problems, f"{script.name}:\n" + "\n".join(problems)
    assert summary["ok"] and summary["ran"] == summary["steps"] == len(steps)

    expected = yaml.safe_load(script.read_text(encoding="utf-8")).get("stored")
    if expected:
        record = SqliteStore(server.db).get(summary["user_id"]).record
        assert _stored_failures(expected, record) == []

    said = _free_speech(lines)
    if said:
        stored_bytes = raw_bytes(server.db.parent.glob(server.db.name + "*"))
        log_text = server.log.read_text(encoding="utf-8", errors="replace")
        for answer in said:
            assert answer.encode() not in stored_bytes, f"stored verbatim: {answer!r}"
            assert answer not in log_text, f"logged verbatim: {answer!r}"


def test_runner_reports_what_went_wrong(server: Server, tmp_path: Path) -> None:
    """If a script expects the wrong things, then the runner fails those steps, says why, and
    exits 1 (so a passing suite is not a vacuous one)."""
    script = tmp_path / "wrong.en-US.yaml"
    script.write_text(
        "steps:\n"
        "  - launch:\n"
        "    expect: {says: [goodbye], end_session: true, directive: AudioPlayer.Play}\n"
        "  - say: \"check in\"\n"
        "    expect: {speech_contains: [zebra], elicit_slot: answer}\n",
        encoding="utf-8")
    code, lines, _ = run_runner(server.url, script)
    assert code == 1
    first, second, summary = lines
    assert not first["ok"]
    assert any("phrasing of goodbye" in f for f in first["failures"])
    assert any("shouldEndSession is false" in f for f in first["failures"])
    assert any("no AudioPlayer.Play" in f for f in first["failures"])
    assert len(second["failures"]) == 1 and second["failures"][0].startswith('speech lacks "zebra"')
    assert summary["failed_steps"] == [1, 2]


def test_runner_refuses_an_intend_without_why(server: Server, tmp_path: Path) -> None:
    """If a script sends an intent without saying why, then the runner stops with exit status 2."""
    script = tmp_path / "nowhy.en-US.yaml"
    script.write_text("steps:\n  - intend: {name: CheckInStartIntent}\n", encoding="utf-8")
    code, _, stderr = run_runner(server.url, script)
    assert code == 2
    assert "needs a \"why:\"" in stderr
