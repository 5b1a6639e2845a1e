"""``python -m skill``: subcommands hand their own flags through."""

from __future__ import annotations

import pytest

from skill.cli import main


def test_build_audio_check_passes_on_committed_audio(capsys: pytest.CaptureFixture[str]) -> None:
    """If build-audio --check runs on the committed clips, then it finds no problem (ffprobe)."""
    assert main(["build-audio", "--check", "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "0 problem" in captured.out + captured.err


def test_unknown_benchmark_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """If the benchmark name is unknown, then exit 2 naming the choices."""
    assert main(["bench", "nope"]) == 2
    assert "checkin" in capsys.readouterr().err


def test_bench_flags_reach_the_benchmark(capsys: pytest.CaptureFixture[str]) -> None:
    """If a benchmark flag comes first, then the benchmark's own parser sees it."""
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "checkin", "--help"])
    assert exit_info.value.code == 0
    assert "--no-peers" in capsys.readouterr().out
