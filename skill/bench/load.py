"""``python -m skill bench load``: whole sessions under gunicorn, real verification, nothing lost.

The skill runs under gunicorn (2 sync workers by default) on a temporary SQLite file, on
127.0.0.1 only, with the full Alexa verification chain anchored on a locally generated root
(:mod:`skill.bench.load_app`); every request is a real envelope signed as Alexa signs it
(:mod:`skill.bench.load_client`). A hello-world Flask app runs beside it under the same gunicorn
configuration, driven by the same client with the same sessions, signing and connections.

* **Throughput and latency**: ``--users`` people (unique ids, half en-US, half ja-JP) go through
  whole sessions (launch, reflection, check-in, lesson with AudioPlayer events, stop) on
  ``--connections`` connections. After ``--warmup`` seconds each, the skill and the baseline are
  measured in alternating slices (ABBA order) of about 5 s, ``--seconds`` each in total, so
  that other load on the machine hits both alike. Every response is checked.
* **Nothing lost**: afterwards each user's stored record is compared with what the client saw
  succeed (locale, streak, recent prompts, check-in tags, lesson progress, crisis count).
* **One user, many devices**: ``--hot-requests`` one-shot crisis check-ins and check-ins on one
  user from all connections at once; stored counters against confirmed replies, with write
  conflicts, merges and apologies counted from the server log.

``--runs N`` repeats the whole measurement on fresh servers and a fresh store and judges the
throughput target on the median ratio (one run's ratio moves by several points with the machine).

Exit status 1 when any request failed or any update was lost (``--strict``: also when a
throughput or latency target is missed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from skill.bench.gunicorn_hooks import WAIT_LOG_ENV, CloseWaits, close_waits
from skill.bench.load_app import write_chain
from skill.bench.load_client import (
    HOT_USER,
    REQUESTS_PER_CYCLE,
    HotResult,
    SimUser,
    compare,
    drive,
    hot_phase,
    make_users,
)
from skill.bench.load_server import Server, ServerConfig, machine_busy_s, self_cpu_s
from skill.simulator.conversation import DEFAULT_SKILL_ID
from skill.storage import SqliteStore
from skill.testing import TestChain, make_chain

TARGET_RATIO = 0.70
TARGET_P99_MS = 25.0
SLICE_S = 5.0
#: The load section of ``docs/benchmarks.md``, and the generated results inside it.
SECTION_BEGIN, SECTION_END = "<!-- bench-load:begin -->", "<!-- bench-load:end -->"
RESULTS_BEGIN, RESULTS_END = "<!-- bench-load-results:begin -->", "<!-- bench-load-results:end -->"


@dataclass(frozen=True)
class LoadConfig:
    """What to run: sizes, bounds, and the gunicorn configuration."""

    users: int = 64
    seconds: float = 20.0
    connections: int = 8
    server: ServerConfig = field(default_factory=ServerConfig)
    warmup_s: float = 2.0
    slice_s: float = SLICE_S
    #: Stop each user after this many cycles (``None``: only time bounds the run).
    max_cycles: int | None = None
    hot_requests: int = 400
    hot_seconds: float = 10.0
    baseline: bool = True
    seed: int = 20240601
    log_level: str = "INFO"
    #: The client closes each connection only after reading the response (as before
    #: 2026-11-26) instead of sending its FIN with the request; for comparisons.
    late_fin: bool = False

    @property
    def client_half_closes(self) -> bool:
        """Whether the client sends its FIN with each request (see :class:`Transport`)."""
        return self.server.one_per_connection and not self.late_fin


@dataclass
class PhaseResult:
    """The measured figures of one app (warm-up excluded)."""

    name: str
    requests: int = 0
    elapsed_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    by_step: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    server_cpu_s: float = 0.0
    client_cpu_s: float = 0.0
    other_cpu_s: float = 0.0
    slices: int = 0
    #: The workers' graceful closes over the server's life (``None``: not reported).
    close_waits: CloseWaits | None = None

    @property
    def throughput(self) -> float:
        return self.requests / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def pct(self, q: float) -> float:
        return percentile(self.latencies_ms, q)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def per_request_ms(self, cpu_s: float) -> float:
        return cpu_s * 1000 / self.requests if self.requests else math.nan

    def share(self, cpu_s: float) -> float:
        """``cpu_s`` as a share of every CPU of the machine over the measured time."""
        cpus = os.cpu_count() or 1
        return cpu_s / self.elapsed_s / cpus if self.elapsed_s > 0 else math.nan


@dataclass
class Report:
    """Everything one run measured and verified."""

    config: LoadConfig
    skill: PhaseResult
    baseline: PhaseResult | None
    hot: HotResult | None
    users_checked: int = 0
    lost_updates: list[str] = field(default_factory=list)
    conflicts_main: int = 0
    log_levels: Counter[str] = field(default_factory=Counter)
    machine: dict[str, str] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or not self.baseline.throughput:
            return None
        return self.skill.throughput / self.baseline.throughput

    @property
    def lost_count(self) -> int:
        return len(self.lost_updates) + (self.hot.lost if self.hot is not None else 0)

    @property
    def error_count(self) -> int:
        hot = sum(self.hot.errors.values()) if self.hot is not None else 0
        return self.skill.error_count + hot

    def targets(self) -> list[tuple[str, bool]]:
        """Each target of the issue, and whether this run met it."""
        ratio = self.ratio
        return [
            (f"skill >= {TARGET_RATIO:.0%} of baseline throughput",
             ratio is not None and ratio >= TARGET_RATIO),
            (f"skill p99 <= {TARGET_P99_MS:g} ms at {self.config.connections} connections",
             self.skill.pct(99) <= TARGET_P99_MS),
            ("0 errors", self.error_count == 0),
            ("0 lost updates", self.lost_count == 0),
        ]


@dataclass
class Series:
    """Several whole runs of the same configuration, each on fresh servers and a fresh store.

    One run's ratio moves with the machine by several points (both apps' figures move together),
    so with ``--runs N`` the throughput target is judged on the median ratio; latency, errors
    and lost updates must hold in every run. The run shown in detail is the median one.
    """

    reports: list[Report]

    @property
    def ratios(self) -> list[float]:
        return [r.ratio for r in self.reports if r.ratio is not None]

    @property
    def median_ratio(self) -> float | None:
        ratios = self.ratios
        return statistics.median(ratios) if ratios else None

    @property
    def shown(self) -> Report:
        """The run whose ratio is the (lower) median, or the only run."""
        ranked = sorted(self.reports, key=lambda r: r.ratio if r.ratio is not None else 0.0)
        return ranked[(len(ranked) - 1) // 2]

    @property
    def error_count(self) -> int:
        return sum(r.error_count for r in self.reports)

    @property
    def lost_count(self) -> int:
        return sum(r.lost_count for r in self.reports)

    def targets(self) -> list[tuple[str, bool]]:
        """Each target of the issue, judged over every run (the ratio on the median)."""
        if len(self.reports) == 1:
            return self.reports[0].targets()
        config, median = self.reports[0].config, self.median_ratio
        worst_p99 = max(r.skill.pct(99) for r in self.reports)
        return [
            (f"skill >= {TARGET_RATIO:.0%} of baseline throughput (median of "
             f"{len(self.reports)} runs)", median is not None and median >= TARGET_RATIO),
            (f"skill p99 <= {TARGET_P99_MS:g} ms at {config.connections} connections (every run)",
             worst_p99 <= TARGET_P99_MS),
            ("0 errors (every run)", self.error_count == 0),
            ("0 lost updates (every run)", self.lost_count == 0),
        ]


RUN_HEADER = ["run", "baseline req/s", "skill req/s", "skill / baseline", "skill p99 ms",
              "server CPU ms/req: skill / baseline", "errors", "lost updates"]


def run_rows(series: Series) -> list[list[str]]:
    """One row per run, in the order they ran."""
    rows = []
    for index, report in enumerate(series.reports, start=1):
        base = report.baseline
        ratio = report.ratio
        rows.append([
            str(index), _fmt(base.throughput, 0) if base else "n/a",
            _fmt(report.skill.throughput, 0), _pct(ratio),
            _fmt(report.skill.pct(99), 1),
            f"{_fmt(report.skill.per_request_ms(report.skill.server_cpu_s), 2)} / "
            + (_fmt(base.per_request_ms(base.server_cpu_s), 2) if base else "n/a"),
            str(report.error_count), str(report.lost_count)])
    return rows


def _series_sentence(series: Series) -> str:
    ratios = series.ratios
    if not ratios:
        return f"{len(series.reports)} runs, no baseline."
    median = series.median_ratio or 0.0
    return (f"Skill / baseline throughput over {len(series.reports)} runs: median "
            f"{median * 100:.0f}%, range {min(ratios) * 100:.0f}-{max(ratios) * 100:.0f}%.")


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (nearest rank) of ``values``; ``nan`` when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


# --------------------------------------------------------------------------- running


@dataclass
class _Target:
    result: PhaseResult
    server: Server
    users: list[SimUser]


def _measure_slice(target: _Target, chain: TestChain, config: LoadConfig, seconds: float) -> None:
    server0, client0, machine0 = target.server.cpu_s(), self_cpu_s(), machine_busy_s()
    driven = drive(target.server.port, chain, target.users, config.connections, seconds,
                   config.max_cycles, config.client_half_closes)
    server_s = target.server.cpu_s() - server0
    client_s = self_cpu_s() - client0
    result = target.result
    result.server_cpu_s += server_s
    result.client_cpu_s += client_s
    result.other_cpu_s += max(0.0, machine_busy_s() - machine0 - server_s - client_s)
    result.requests += len(driven.samples)
    result.elapsed_s += driven.elapsed_s
    result.errors.update(driven.errors)
    result.slices += 1
    for sample in driven.samples:
        result.latencies_ms.append(sample.ms)
        result.by_step.setdefault(sample.step, []).append(sample.ms)


def _log_events(path: Path, offset: int = 0) -> Iterator[dict[str, Any]]:
    """The JSON log lines the skill wrote to ``path`` from byte ``offset`` on."""
    with open(path, "rb") as handle:
        handle.seek(offset)
        for line in handle:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                yield record


def _conflicts(path: Path, offset: int = 0, end: int | None = None) -> tuple[int, int]:
    """Write conflicts and conflict apologies logged between two byte offsets of the log."""
    conflicts = apologies = 0
    with open(path, "rb") as handle:
        handle.seek(offset)
        data = handle.read(None if end is None else max(0, end - offset))
    for line in data.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        event = str(record.get("event", "")) if isinstance(record, dict) else ""
        if event.startswith(("storage: save conflict", "storage: write conflict")):
            conflicts += 1
        elif event == "handled error" and record.get("error") == "ConcurrentUpdateError":
            apologies += 1
    return conflicts, apologies


def run(config: LoadConfig, workdir: Path) -> Report:
    """Run every phase with files in ``workdir`` (a fresh directory) and verify the store."""
    chain = make_chain()
    chain_dir = workdir / "chain"
    write_chain(chain, chain_dir)
    db_path = workdir / "skill.sqlite3"
    skill_log = workdir / "skill.log"
    env = {
        "REFLECT_DB_PATH": str(db_path),
        "REFLECT_SKILL_IDS": DEFAULT_SKILL_ID,
        "REFLECT_LOG_LEVEL": config.log_level,
        # Only used inside AudioPlayer directives; never fetched.
        "REFLECT_AUDIO_BASE_URL": "https://audio.invalid/audio",
        WAIT_LOG_ENV: str(workdir / "skill.closes"),
    }
    users = make_users("user", config.users, config.seed)
    targets: list[_Target] = []
    hot: HotResult | None = None
    with ExitStack() as stack:
        if config.baseline:
            server = stack.enter_context(Server(
                "skill.bench.load_app:hello()", config.server,
                {WAIT_LOG_ENV: str(workdir / "baseline.closes")}, workdir / "baseline.log"))
            targets.append(_Target(PhaseResult("baseline"), server,
                                   make_users("baseline", config.users, config.seed, check=False)))
        skill_server = stack.enter_context(Server(
            f"skill.bench.load_app:create({str(chain_dir)!r})", config.server, env, skill_log))
        skill_target = _Target(PhaseResult("skill"), skill_server, users)
        targets.append(skill_target)

        for target in targets:  # warm-up: counted for errors and stored state, not for timing
            if config.warmup_s > 0:
                warm = drive(target.server.port, chain, target.users, config.connections,
                             config.warmup_s, config.max_cycles, config.client_half_closes)
                target.result.errors.update(warm.errors)
        rounds = max(1, round(config.seconds / config.slice_s))
        for index in range(rounds):
            order = targets if index % 2 == 0 else targets[::-1]
            for target in order:
                _measure_slice(target, chain, config, config.seconds / rounds)

        main_end = skill_log.stat().st_size
        if config.hot_requests > 0 and config.hot_seconds > 0:
            hot = hot_phase(skill_server.port, chain, config.connections, config.hot_requests,
                            config.hot_seconds, config.client_half_closes)
    # Every server has stopped: the log is complete and nothing writes to the store any more.
    for target in targets:
        target.result.close_waits = close_waits(workdir / f"{target.result.name}.closes")
    report = Report(config=config, skill=skill_target.result,
                    baseline=targets[0].result if config.baseline else None, hot=hot,
                    machine=_machine(config, workdir))
    report.conflicts_main, _ = _conflicts(skill_log, 0, main_end)
    if hot is not None:
        hot.conflicts_logged, hot.conflict_apologies_logged = _conflicts(skill_log, main_end)
    for record in _log_events(skill_log):
        report.log_levels[str(record.get("level", "?"))] += 1
    store = SqliteStore(db_path)
    days = {d for u in users for d in u.expected.reflections} | {
        t.date for u in users for t in u.expected.tags}
    for user in users:
        diffs = compare(user.expected.record(), store.get(user.user_id).record,
                        relax_dates=len(days) > 1)
        report.users_checked += 1
        report.lost_updates.extend(f"{user.user_id}: {diff}" for diff in diffs)
    if hot is not None:
        hot_record = store.get(HOT_USER).record
        hot.stored_crisis, hot.stored_tags = hot_record.crisis_count, len(hot_record.checkin_tags)
    return report


def filesystem_of(path: Path) -> str:
    """The filesystem type holding ``path`` (``/proc/mounts``), e.g. ``ext4`` or ``tmpfs``."""
    best, kind = "", "?"
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return kind
    target = str(path.resolve())
    for line in mounts:
        parts = line.split()
        if len(parts) > 2 and (target == parts[1] or target.startswith(parts[1].rstrip("/") + "/")):
            if len(parts[1]) >= len(best):
                best, kind = parts[1], parts[2]
    return kind


def _machine(config: LoadConfig, workdir: Path) -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        gunicorn_version = version("gunicorn")
    except PackageNotFoundError:
        gunicorn_version = "?"
    model = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": str(os.cpu_count()), "cpu": model, "python": platform.python_version(),
            "gunicorn": gunicorn_version, "server": config.server.describe(),
            "db_fs": filesystem_of(workdir),
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")}


# --------------------------------------------------------------------------- output


def _pct(ratio: float | None) -> str:
    """A ratio as a whole percentage (``n/a%`` without a baseline)."""
    return _fmt(None if ratio is None else ratio * 100, 0) + "%"


def _fmt(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None or math.isnan(value) else f"{value:.{digits}f}"


PHASE_HEADER = ["app", "requests", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms", "errors",
                "server CPU ms/req", "client CPU ms/req", "CPU busy: server / client / other"]


def phase_rows(report: Report) -> list[list[str]]:
    """The rows of the skill-vs-baseline table."""
    rows = []
    for phase in (report.baseline, report.skill):
        if phase is None:
            continue
        busy = " / ".join(f"{_fmt(phase.share(s) * 100, 0)}%"
                          for s in (phase.server_cpu_s, phase.client_cpu_s, phase.other_cpu_s))
        rows.append([phase.name, str(phase.requests), _fmt(phase.throughput, 0),
                     _fmt(phase.pct(50), 2), _fmt(phase.pct(95), 2), _fmt(phase.pct(99), 2),
                     _fmt(max(phase.latencies_ms, default=math.nan), 1), str(phase.error_count),
                     _fmt(phase.per_request_ms(phase.server_cpu_s), 2),
                     _fmt(phase.per_request_ms(phase.client_cpu_s), 2), busy])
    return rows


def step_rows(report: Report) -> list[list[str]]:
    """The skill's latency by kind of request, slowest median first."""
    ordered = sorted(report.skill.by_step.items(), key=lambda kv: -percentile(kv[1], 50))
    return [[step, str(len(values)), _fmt(percentile(values, 50), 2), _fmt(percentile(values, 99), 2)]
            for step, values in ordered]


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def _close_sentence(report: Report) -> str:
    """How long the workers waited to close each connection, per app."""
    how = ("after reading each response (`--late-fin`)" if report.config.late_fin
           else "with each request")
    parts = [f"{phase.name} {_fmt(phase.close_waits.per_close_ms, 2)} ms per connection, "
             f"{_fmt(phase.close_waits.share * 100, 0)}% of worker time"
             for phase in (report.baseline, report.skill)
             if phase is not None and phase.close_waits is not None]
    if not parts:
        return "Graceful closes were not timed (no sync workers, or no report from them)."
    return (f"Workers waiting for the client's FIN, which it sends {how}: "
            + "; ".join(parts) + ".")


def _hot_sentence(report: Report) -> str:
    hot = report.hot
    if hot is None:
        return "The same-user phase was skipped."
    rate = hot.requests / hot.elapsed_s if hot.elapsed_s else math.nan
    errors = f"; errors: {dict(hot.errors)}" if hot.errors else ""
    return (f"One user from {hot.connections} connections at once: {hot.requests} one-shot requests "
            f"in {hot.elapsed_s:.1f} s ({_fmt(rate, 0)} req/s). Crisis replies heard "
            f"{hot.crisis_ok}, stored `crisis_count` {hot.stored_crisis}; check-ins answered "
            f"{hot.tags_ok}, stored tags {hot.stored_tags}. Write conflicts {hot.conflicts_logged}: "
            f"{hot.resolved} merged and written, {hot.apologies} answered with an apology. "
            f"**Lost updates: {hot.lost}** (confirmed increments missing from the store){errors}.")


def markdown(series: Series, argv: Sequence[str], plot: str | None) -> str:
    """The generated results block for ``docs/benchmarks.md``."""
    report = series.shown
    c, m, ratio = report.config, report.machine, report.ratio
    command = " ".join(["python -m skill bench load", *argv])
    lines = [
        f"`{command}` on {m['date']}: {m['cpus']} CPUs ({m['cpu']}), Python {m['python']}, "
        f"gunicorn {m['gunicorn']} `{m['server']}`, {c.connections} connections, {c.users} users, "
        f"{c.seconds:g} s measured per app in {report.skill.slices} alternating slices after "
        f"{c.warmup_s:g} s warm-up; SQLite on {m['db_fs']}. The client runs on the same machine "
        "(its CPU is in the table; *other* is every other process on the machine).",
        "",
    ]
    if len(series.reports) > 1:
        lines += [f"**{_series_sentence(series)}** Each run starts fresh servers on a fresh store:",
                  "", _table(RUN_HEADER, run_rows(series)), "",
                  "The median run in detail:", ""]
    lines += [
        _table(PHASE_HEADER, phase_rows(report)),
        "",
        f"**Skill / baseline throughput: {_pct(ratio)}.**",
        "",
        "| target | met |",
        "|---|---|",
    ]
    lines += [f"| {name} | {'yes' if ok else '**no**'} |" for name, ok in series.targets()]
    lost = ", ".join(report.lost_updates[:5])
    lines += ["", f"Stored records checked after the run: {report.users_checked} users, "
              f"**{len(report.lost_updates)} lost updates**" + (f" ({lost})" if lost else "")
              + f"; write conflicts during the run: {report.conflicts_main}."]
    if report.skill.errors:
        lines += ["", "Errors: " + ", ".join(f"`{k}` x{v}" for k, v in report.skill.errors.most_common())]
    lines += ["", _close_sentence(report), "", _hot_sentence(report), "",
              "Skill latency by request:", "",
              _table(["request", "count", "p50 ms", "p99 ms"], step_rows(report))]
    if plot:
        lines += ["", f"![latency percentiles, skill vs baseline]({Path(plot).name})"]
    return "\n".join(lines)


def print_report(report: Report) -> None:
    print(_table(PHASE_HEADER, phase_rows(report)))
    ratio = report.ratio
    print(f"\nskill / baseline throughput: {_pct(ratio)}")
    print(_close_sentence(report))
    for name, ok in report.targets():
        print(f"  [{'x' if ok else ' '}] {name}")
    print(f"stored records checked: {report.users_checked} users, lost updates "
          f"{len(report.lost_updates)}, write conflicts {report.conflicts_main}")
    for line in report.lost_updates[:20]:
        print(f"  lost: {line}")
    for key, count in report.skill.errors.most_common(20):
        print(f"  error: {key} x{count}")
    print(_hot_sentence(report).replace("**", "").replace("`", ""))
    print("skill latency by request (p50 / p99 ms):")
    for step, requests, p50, p99 in step_rows(report):
        print(f"  {step:<26} n={requests:>6}  {p50:>7} / {p99:>7}")
    print(f"skill log lines by level: {dict(report.log_levels)}")


def write_markdown(path: Path, block: str) -> None:
    """Put ``block`` between the results markers of the load section, creating what is missing;
    everything else in the file is kept."""
    results = f"{RESULTS_BEGIN}\n{block}\n{RESULTS_END}"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if RESULTS_BEGIN in text and RESULTS_END in text:
        head, rest = text.split(RESULTS_BEGIN, 1)
        text = head + results + rest.split(RESULTS_END, 1)[1]
    elif SECTION_BEGIN in text and SECTION_END in text:
        head, rest = text.split(SECTION_END, 1)
        text = head.rstrip("\n") + "\n\n" + results + "\n" + SECTION_END + rest
    else:
        section = (f"{SECTION_BEGIN}\n## Load: whole sessions under gunicorn, nothing lost\n\n"
                   f"{results}\n{SECTION_END}\n")
        text = text.rstrip("\n") + "\n\n" + section
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_plot(report: Report, path: Path) -> None:
    """Latency percentiles of skill and baseline, and the skill's p50/p99 by request."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8), gridspec_kw={"width_ratios": [3, 2]})
    quantiles = [50, 75, 90, 95, 99, 99.5, 99.9]
    xs = [1 / (1 - q / 100) for q in quantiles]
    for phase, style in ((report.baseline, "--"), (report.skill, "-")):
        if phase is None or not phase.latencies_ms:
            continue
        left.plot(xs, [phase.pct(q) for q in quantiles], style, marker="o",
                  label=f"{phase.name}: {phase.throughput:.0f} req/s, p99 {phase.pct(99):.1f} ms")
    left.axhline(TARGET_P99_MS, color="grey", linestyle=":", label=f"p99 target {TARGET_P99_MS:g} ms")
    left.set_xscale("log")
    left.set_xticks(xs)
    left.set_xticklabels([f"p{q:g}" for q in quantiles])
    left.minorticks_off()
    left.set_ylim(bottom=0)
    left.set_ylabel("latency (ms)")
    left.set_title(f"Latency percentiles, {report.config.connections} connections, "
                   f"{report.machine.get('server', '')}", fontsize=9)
    left.legend(loc="upper left", fontsize=8)
    left.grid(True, alpha=0.3)
    rows = sorted(report.skill.by_step.items(), key=lambda kv: percentile(kv[1], 50))
    names = [name for name, _ in rows]
    right.barh(names, [percentile(v, 99) for _, v in rows], color="#f4b183", label="p99")
    right.barh(names, [percentile(v, 50) for _, v in rows], color="#2f5597", label="p50")
    right.set_xlabel("latency (ms)")
    right.set_title("Skill, by request", fontsize=9)
    right.tick_params(axis="y", labelsize=7)
    right.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


# --------------------------------------------------------------------------- command line


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m skill bench load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=64, help="simulated users (unique ids)")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured seconds per app")
    parser.add_argument("--connections", type=int, default=8, help="concurrent client connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--worker-class", choices=["sync", "gthread"], default="sync")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds per app first")
    parser.add_argument("--cycles", type=int, default=None,
                        help=f"stop each user after this many cycles ({REQUESTS_PER_CYCLE} requests each)")
    parser.add_argument("--hot-requests", type=int, default=400,
                        help="requests on one user from every connection at once (0 skips)")
    parser.add_argument("--hot-seconds", type=float, default=10.0, help="time bound of that phase")
    parser.add_argument("--no-baseline", action="store_true", help="skip the hello-world baseline")
    parser.add_argument("--runs", type=int, default=1,
                        help="whole runs in a row, each on fresh servers and a fresh store; the "
                        "throughput target is then judged on the median ratio")
    parser.add_argument("--tmpdir", help="where the temporary SQLite file and logs go "
                        "(default: the system temp dir; its filesystem is reported)")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--plot", help="write the latency plot (PNG, needs matplotlib) here")
    parser.add_argument("--write", help="write the results into the load section of this Markdown file")
    parser.add_argument("--late-fin", action="store_true",
                        help="the client closes each connection only after reading the response, "
                        "as before 2026-11-26, instead of sending its FIN with the request (sync "
                        "workers wait for it: compare the two)")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 also when a throughput or latency target is missed")
    return parser


def config_from(args: argparse.Namespace) -> LoadConfig:
    """A :class:`LoadConfig` from parsed arguments (sizes checked, times bounded)."""
    for name in ("users", "connections", "workers", "threads", "runs"):
        if getattr(args, name) < 1:
            raise SystemExit(f"--{name.replace('_', '-')} must be at least 1")
    if not 0 < args.seconds <= 600:
        raise SystemExit("--seconds must be in (0, 600]")
    return LoadConfig(
        users=args.users, seconds=args.seconds, connections=args.connections,
        server=ServerConfig(workers=args.workers, worker_class=args.worker_class, threads=args.threads),
        warmup_s=min(max(0.0, args.warmup), 60.0), max_cycles=args.cycles,
        hot_requests=max(0, args.hot_requests), hot_seconds=min(max(0.0, args.hot_seconds), 120.0),
        baseline=not args.no_baseline, seed=args.seed, late_fin=args.late_fin)


def main(argv: list[str]) -> int:
    """Run the load benchmark: 0 when no request failed and no update was lost."""
    args = build_parser().parse_args(argv)
    config = config_from(args)
    started = time.monotonic()
    reports = []
    for index in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="bench-load-", dir=args.tmpdir) as tmp:
            reports.append(run(config, Path(tmp)))
        if args.runs > 1:
            print(f"== run {index + 1} of {args.runs}")
        print_report(reports[-1])
    series = Series(reports)
    if args.runs > 1:
        print("\n" + _table(RUN_HEADER, run_rows(series)))
        print(_series_sentence(series))
        for name, ok in series.targets():
            print(f"  [{'x' if ok else ' '}] {name}")
    print(f"(whole run {time.monotonic() - started:.0f} s)")
    if args.plot:
        write_plot(series.shown, Path(args.plot))
        print(f"plot written to {args.plot}")
    if args.write:
        write_markdown(Path(args.write), markdown(series, argv, args.plot))
        print(f"results written to {args.write}")
    failed = series.error_count > 0 or series.lost_count > 0
    if args.strict:
        failed = failed or not all(ok for _, ok in series.targets())
    return 1 if failed else 0
