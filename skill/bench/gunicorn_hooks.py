"""gunicorn server hooks for ``python -m skill bench load``: how long workers wait to close.

Loaded by the bench's gunicorn masters (``-c python:skill.bench.gunicorn_hooks``) for both apps.
gunicorn's sync workers close every connection gracefully (``gunicorn.util.close_graceful``):
after the response they shut their write side and wait for the client's FIN, serving no one
meanwhile. Each worker times those closes and, when it exits, appends one JSON line to the file
named by :data:`WAIT_LOG_ENV`::

    {"pid": 1234, "closes": 10171, "close_wait_s": 7.18, "alive_s": 45.0}

Nothing here runs in the skill itself, and without the variable (or on a gunicorn without
``close_graceful``) the hooks do nothing.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: The file each worker appends its line to.
WAIT_LOG_ENV = "REFLECT_BENCH_CLOSE_LOG"

_counts: dict[str, float] = {}


def post_fork(server: Any, worker: Any) -> None:
    """gunicorn hook, in each new worker: time every graceful close from now on."""
    import gunicorn.util

    original: Callable[..., None] | None = getattr(gunicorn.util, "close_graceful", None)
    if original is None or not os.environ.get(WAIT_LOG_ENV):
        return
    _counts.update(closes=0, wait_s=0.0, born=time.perf_counter())

    def timed(sock: Any, *args: Any, **kwargs: Any) -> None:
        start = time.perf_counter()
        try:
            original(sock, *args, **kwargs)
        finally:
            _counts["closes"] += 1
            _counts["wait_s"] += time.perf_counter() - start

    gunicorn.util.close_graceful = timed


def worker_exit(server: Any, worker: Any) -> None:
    """gunicorn hook, as a worker exits: append its line (one ``write``, so lines never mix)."""
    path = os.environ.get(WAIT_LOG_ENV)
    if not path or "born" not in _counts:
        return
    line = json.dumps({"pid": os.getpid(), "closes": int(_counts["closes"]),
                       "close_wait_s": round(_counts["wait_s"], 6),
                       "alive_s": round(time.perf_counter() - _counts["born"], 3)})
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(line + "\n")


@dataclass(frozen=True)
class CloseWaits:
    """What one app's workers reported: graceful closes, time spent in them, time alive."""

    closes: int = 0
    wait_s: float = 0.0
    alive_s: float = 0.0

    @property
    def per_close_ms(self) -> float:
        return self.wait_s * 1000 / self.closes if self.closes else float("nan")

    @property
    def share(self) -> float:
        """The workers' time spent waiting to close, as a share of their lifetime."""
        return self.wait_s / self.alive_s if self.alive_s > 0 else float("nan")


def read_close_waits(lines: Iterable[str]) -> CloseWaits:
    """Sum the workers' lines (blank or malformed lines, e.g. from a killed worker, are skipped)."""
    closes, wait_s, alive_s = 0, 0.0, 0.0
    for line in lines:
        try:
            record = json.loads(line)
            closes += int(record["closes"])
            wait_s += float(record["close_wait_s"])
            alive_s += float(record["alive_s"])
        except (ValueError, KeyError, TypeError):
            continue
    return CloseWaits(closes, wait_s, alive_s)


def close_waits(path: Path) -> CloseWaits | None:
    """The summed lines of ``path``; ``None`` when no worker wrote one."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    waits = read_close_waits(text.splitlines())
    return waits if waits.closes else None
