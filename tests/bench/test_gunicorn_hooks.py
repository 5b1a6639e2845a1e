"""skill.bench.gunicorn_hooks: the workers' graceful-close timings, as the bench reads them."""

from __future__ import annotations

import math
from pathlib import Path

from skill.bench.gunicorn_hooks import CloseWaits, close_waits, read_close_waits


def test_worker_lines_are_summed() -> None:
    """If two workers report, then closes, waiting and lifetimes add up."""
    waits = read_close_waits([
        '{"pid": 1, "closes": 100, "close_wait_s": 0.07, "alive_s": 10.0}',
        '{"pid": 2, "closes": 300, "close_wait_s": 0.21, "alive_s": 10.0}',
    ])
    assert waits == CloseWaits(closes=400, wait_s=0.28, alive_s=20.0)
    assert math.isclose(waits.per_close_ms, 0.7)
    assert math.isclose(waits.share, 0.014)


def test_broken_lines_are_skipped() -> None:
    """If a worker was killed mid-line or wrote something else, then that line counts for nothing."""
    waits = read_close_waits(['{"pid": 1, "closes": 10, "close_wait_s": 0.01, "alive_s": 1.0}',
                              '{"pid": 2, "clo', "", '{"pid": 3}', '["not", "a", "record"]'])
    assert waits == CloseWaits(closes=10, wait_s=0.01, alive_s=1.0)


def test_no_report_reads_as_none(tmp_path: Path) -> None:
    """If no worker wrote a line (no file, or nothing usable in it), then there is no figure."""
    assert close_waits(tmp_path / "missing.closes") is None
    empty = tmp_path / "empty.closes"
    empty.write_text("\n", encoding="utf-8")
    assert close_waits(empty) is None
    assert math.isnan(CloseWaits().per_close_ms) and math.isnan(CloseWaits().share)
