"""skill.bench.load: a small real run under gunicorn (no timing asserted), and its helpers."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from skill.bench.load import (
    RESULTS_BEGIN,
    RESULTS_END,
    SECTION_BEGIN,
    SECTION_END,
    LoadConfig,
    PhaseResult,
    Report,
    Series,
    build_parser,
    config_from,
    markdown,
    percentile,
    run,
    write_markdown,
)
from skill.bench.load_app import write_chain
from skill.bench.load_client import REQUESTS_PER_CYCLE, Expected, Transport, compare
from skill.bench.load_server import Server, ServerConfig
from skill.errors import ConfigError
from skill.simulator.conversation import DEFAULT_SKILL_ID, Conversation
from skill.storage import CheckinTag
from skill.testing import TestChain, make_chain

USERS, CYCLES = 4, 2


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """One small run: 4 users x 2 whole cycles each, baseline beside, then 120 same-user requests."""
    config = LoadConfig(users=USERS, seconds=60, connections=2, warmup_s=0, max_cycles=CYCLES,
                        hot_requests=120, hot_seconds=30)
    return run(config, tmp_path_factory.mktemp("load"))


def test_every_session_request_answered_as_expected(report: Report) -> None:
    """If 4 users go through 2 whole cycles each under gunicorn, then every request gets the
    expected answer: no error, and exactly 4 x 2 x 12 requests were made."""
    assert dict(report.skill.errors) == {}
    assert report.skill.requests == USERS * CYCLES * REQUESTS_PER_CYCLE
    assert report.baseline is not None and report.baseline.requests == report.skill.requests
    assert report.baseline.error_count == 0


def test_no_update_lost_for_distinct_users(report: Report) -> None:
    """If each user is driven by one connection at a time, then every stored record matches what
    the client saw succeed, field by field."""
    assert report.users_checked == USERS
    assert report.lost_updates == []
    assert report.conflicts_main == 0


def test_worker_close_waits_are_reported_for_both_apps(report: Report) -> None:
    """If the run used sync workers, then each app's workers reported their graceful closes
    (at least one per measured request), and the results say how long they waited."""
    for phase in (report.skill, report.baseline):
        assert phase is not None and phase.close_waits is not None
        assert phase.close_waits.closes >= phase.requests > 0
        assert 0 <= phase.close_waits.share < 1
    assert "Workers waiting for the client's FIN, which it sends with each request:" in \
        markdown(Series([report]), [], None)


def test_the_client_sends_its_fin_early_only_to_sync_workers() -> None:
    """If the workers close every connection (sync), then the client half-closes after each
    request, unless ``--late-fin`` asks for the old behaviour; with keep-alive it never does."""
    parse = build_parser().parse_args
    assert config_from(parse([])).client_half_closes
    assert not config_from(parse(["--late-fin"])).client_half_closes
    assert not config_from(parse(["--worker-class", "gthread"])).client_half_closes


def test_same_user_requests_all_answered(report: Report) -> None:
    """If one user is hit from 2 connections at once, then every request is answered with its
    reply or a spoken apology, never an error."""
    hot = report.hot
    assert hot is not None and dict(hot.errors) == {}
    assert hot.requests == 120
    assert hot.crisis_ok + hot.tags_ok + hot.apologies == hot.requests


def test_same_user_loses_no_update(report: Report) -> None:
    """If one user is hit from several connections at once, then every confirmed crisis reply and
    check-in is counted in the stored record."""
    hot = report.hot
    assert hot is not None
    assert (hot.stored_crisis, hot.stored_tags) == (hot.crisis_ok, hot.tags_ok)


@pytest.fixture(scope="module")
def skill_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, TestChain]]:
    """The bench's skill server on its own (one worker), and the chain it trusts."""
    workdir = tmp_path_factory.mktemp("server")
    trusted = make_chain()
    write_chain(trusted, workdir / "chain")
    env = {"REFLECT_DB_PATH": str(workdir / "db.sqlite3"), "REFLECT_SKILL_IDS": DEFAULT_SKILL_ID,
           "REFLECT_LOG_LEVEL": "WARNING"}
    with Server(f"skill.bench.load_app:create({str(workdir / 'chain')!r})",
                ServerConfig(workers=1), env, workdir / "log") as server:
        yield server, trusted


def _post(port: int, body: bytes, headers: dict[str, str]) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("POST", "/", body=body, headers=headers)
        return conn.getresponse().status
    finally:
        conn.close()


def test_bench_server_verifies_every_request(skill_server: tuple[Server, TestChain]) -> None:
    """If a request is unsigned, signed by another chain, or for another skill id, then the bench
    server answers 400; signed by the trusted test chain, 200."""
    server, trusted = skill_server
    envelopes: list[dict[str, Any]] = []

    def keep(envelope: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        envelopes.append(envelope)
        return 200, {}

    Conversation(keep, skill_id=DEFAULT_SKILL_ID).launch()
    Conversation(keep, skill_id="amzn1.ask.skill.someone-else").launch()
    body, other_body = (json.dumps(e).encode() for e in envelopes)
    assert _post(server.port, body, {"Content-Type": "application/json"}) == 400
    assert _post(server.port, body, make_chain().sign(body)) == 400
    assert _post(server.port, other_body, trusted.sign(other_body)) == 400
    assert _post(server.port, body, trusted.sign(body)) == 200


def test_bench_app_refuses_unverified_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If the development switch is on, then the bench app refuses to build: it must measure the
    real verification path."""
    from skill.bench.load_app import create

    write_chain(make_chain(), tmp_path)
    monkeypatch.setenv("REFLECT_DEV_SKIP_VERIFICATION", "1")
    monkeypatch.setenv("REFLECT_DB_PATH", str(tmp_path / "db.sqlite3"))
    with pytest.raises(ConfigError, match="real verification"):
        create(str(tmp_path))


def test_compare_names_the_lost_field() -> None:
    """If the store lacks one check-in tag the client saw confirmed, then compare names
    checkin_tags and nothing else."""
    tag = CheckinTag(dt.date(2024, 6, 1), "negative", (), ("work",))
    done = Expected(locale="en-US", tags=[tag, tag], lesson=("why-hard", "en-US", 4200))
    stored = Expected(locale="en-US", tags=[tag], lesson=("why-hard", "en-US", 4200))
    assert compare(done.record(), stored.record()) == ["checkin_tags"]
    assert compare(done.record(), done.record()) == []


def test_percentile_nearest_rank() -> None:
    """If latencies 1..100 are given, then p50 is 50 and p99 is 99 (nearest rank)."""
    values = [float(v) for v in range(100, 0, -1)]
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (50, 99, 100)


def test_write_markdown_keeps_other_sections(tmp_path: Path) -> None:
    """If docs/benchmarks.md has other sections, then writing results twice replaces only the
    generated block inside the load section."""
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Fuzz\n\nfuzz figures\n", encoding="utf-8")
    write_markdown(doc, "first")
    text = doc.read_text(encoding="utf-8")
    assert "fuzz figures" in text and SECTION_BEGIN in text and SECTION_END in text
    doc.write_text(text.replace(SECTION_END, "hand-written notes\n" + SECTION_END), encoding="utf-8")
    write_markdown(doc, "second")
    text = doc.read_text(encoding="utf-8")
    assert "first" not in text and f"{RESULTS_BEGIN}\nsecond\n{RESULTS_END}" in text
    assert "hand-written notes" in text and text.count(SECTION_BEGIN) == 1


def test_plot_is_a_png(report: Report, tmp_path: Path) -> None:
    """If the plot is asked for, then a PNG image is written."""
    from skill.bench.load import write_plot

    write_plot(report, tmp_path / "latency.png")
    assert (tmp_path / "latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _report(skill_rps: float, baseline_rps: float, p99_ms: float = 10.0, lost: int = 0) -> Report:
    """A synthetic run: 10 s per app at the given rates, latencies up to ``p99_ms``."""
    config = LoadConfig()
    skill = PhaseResult("skill", requests=int(skill_rps * 10), elapsed_s=10.0,
                        latencies_ms=[1.0] * 98 + [p99_ms] * 2)
    baseline = PhaseResult("baseline", requests=int(baseline_rps * 10), elapsed_s=10.0,
                           latencies_ms=[1.0] * 100)
    machine = {"date": "2026-11-25 22:00 UTC", "cpus": "2", "cpu": "test", "python": "3.11",
               "gunicorn": "27", "server": "--workers 2", "db_fs": "ext4"}
    return Report(config=config, skill=skill, baseline=baseline, hot=None,
                  lost_updates=[f"user.{i}: checkin_tags" for i in range(lost)], machine=machine)


def test_series_judges_throughput_on_the_median_run() -> None:
    """If three runs give 60%, 72% and 65%, then the median (65%) is judged and shown in detail,
    not the best run."""
    series = Series([_report(600, 1000), _report(720, 1000), _report(650, 1000)])
    assert series.median_ratio == pytest.approx(0.65)
    assert series.shown is series.reports[2]
    assert [ok for _, ok in series.targets()] == [False, True, True, True]
    block = markdown(series, ["--runs", "3"], None)
    assert "median 65%, range 60-72%" in block
    assert block.count("\n| 2 | 1000 | 720 | 72% |") == 1


def test_series_needs_every_run_clean() -> None:
    """If any one run lost an update or missed the latency target, then the series misses it."""
    series = Series([_report(800, 1000), _report(800, 1000, p99_ms=30.0, lost=1),
                     _report(800, 1000)])
    met = dict(series.targets())
    assert met["skill >= 70% of baseline throughput (median of 3 runs)"]
    assert not met["skill p99 <= 25 ms at 8 connections (every run)"]
    assert not met["0 lost updates (every run)"]


def test_one_run_is_judged_as_before() -> None:
    """If there is one run, then its own targets are the series' targets."""
    report = _report(700, 1000)
    assert Series([report]).targets() == report.targets()


def _answer_after_fin(listener: socket.socket, seen: list[bytes], fin: list[bool]) -> None:
    """Accept one connection, read until the client's FIN (or 1 s), then answer and close."""
    conn, _ = listener.accept()
    with conn:
        conn.settimeout(1.0)
        data = b""
        try:
            while chunk := conn.recv(65536):
                data += chunk
            fin.append(True)
        except TimeoutError:
            fin.append(False)
        seen.append(data)
        body = b'{"ok": true}'
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                     + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)


@pytest.mark.parametrize("one_per_connection", [True, False])
def test_client_says_it_is_done_when_the_server_closes_each_connection(
        one_per_connection: bool) -> None:
    """If the server closes every connection after its response (sync workers), then the client
    sends ``Connection: close`` and its FIN right after the request, before any answer, and still
    reads the whole answer; otherwise the connection stays open for the next request."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        seen: list[bytes] = []
        fin: list[bool] = []
        server = threading.Thread(target=_answer_after_fin, args=(listener, seen, fin))
        server.start()
        transport = Transport(listener.getsockname()[1], make_chain(), [], one_per_connection)
        status, payload = transport({"version": "1.0"})
        transport.close()
        server.join()
    assert (status, payload) == (200, {"ok": True})
    assert fin == [one_per_connection]
    assert (b"connection: close" in seen[0].lower()) is one_per_connection


def test_sync_workers_serve_clients_that_half_close(
        skill_server: tuple[Server, TestChain]) -> None:
    """If a client shuts its write side after each request, then the bench's gunicorn (sync
    workers) still answers every request in full."""
    server, trusted = skill_server
    samples: list[Any] = []
    transport = Transport(server.port, trusted, samples, one_per_connection=True)
    conversation = Conversation(transport, skill_id=DEFAULT_SKILL_ID)
    _, welcome = conversation.launch()
    _, reflection = conversation.intent("StartReflectionIntent")
    transport.close()
    assert welcome["response"]["outputSpeech"]["ssml"]
    assert reflection["sessionAttributes"]["state"] == "reflection:facts"
    assert len(samples) == 2
