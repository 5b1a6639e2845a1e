"""skill.bench.checkin: a smoke run on a tiny set written here, and the scoring helpers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from skill.bench.checkin import load_examples, main, score

TINY = {
    "dev_en.jsonl": [
        ("lunch with my brother was lovely", "positive", False, []),
        ("my car broke down on the highway", "negative", False, []),
        ("the heat is killing me but the beach was fun", "mixed", False, ["hyperbole"]),
        ("i sorted the mail and watered the plants", "neutral", False, []),
    ],
    "dev_crisis_en.jsonl": [("i keep wishing i could just stop existing", "negative", True, [])],
    "dev_ja.jsonl": [
        ("弟とランチに行って楽しかった", "positive", False, []),
        ("車が故障して大変だった", "negative", False, []),
        ("暑くて死にそうだけど海は楽しかった", "mixed", False, ["hyperbole"]),
        ("郵便を出して植物に水をやった", "neutral", False, []),
    ],
    "dev_crisis_ja.jsonl": [("いっそ消えてしまいたい", "negative", True, [])],
}


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    for name, rows in TINY.items():
        lines = [json.dumps({"text": t, "polarity": p, "crisis": c, "tags": g}, ensure_ascii=False)
                 for t, p, c, g in rows]
        (tmp_path / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return tmp_path


def test_smoke_run(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """If the benchmark runs on a tiny set, then it prints every figure and never the text."""
    code = main(["--data", str(tiny), "--rounds", "1", "--import-runs", "1", "--no-peers"])
    out = capsys.readouterr().out
    assert code == 0
    for label in ("en-US", "ja-JP", "polarity macro-F1", "crisis recall", "hyperbole false alarms",
                  "latency per answer", "import skill.checkin", "baseline: import json"):
        assert label in out, label
    assert "brother" not in out and "弟" not in out


def test_check_flag_fails_on_missed_targets(tiny: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """If a target is missed and --check is given, then the exit code is 1."""
    rows = (tiny / "dev_crisis_en.jsonl").read_text(encoding="utf-8")
    (tiny / "dev_crisis_en.jsonl").write_text(
        rows + json.dumps({"text": "my sock has a hole", "polarity": "negative", "crisis": True,
                           "tags": []}) + "\n", encoding="utf-8")
    code = main(["--data", str(tiny), "--locale", "en-US", "--rounds", "1", "--import-runs", "1",
                 "--no-peers", "--check", "--show-errors"])
    out = capsys.readouterr().out
    assert code == 1
    assert "crisis missed dev_crisis_en.jsonl:2" in out
    assert "sock" not in out


def test_score_macro_f1() -> None:
    """If predictions are perfect or all wrong, then macro-F1 is 1.0 or 0.0."""
    gold = ["positive", "negative", "mixed", "neutral"]
    assert score(gold, gold).macro_f1 == 1.0
    assert score(gold, ["negative", "positive", "neutral", "mixed"]).macro_f1 == 0.0
    assert score([], []).n == 0


def test_bad_line_is_reported(tmp_path: Path) -> None:
    """If a dataset line has an unknown polarity, then loading names the file and line."""
    path = tmp_path / "dev_en.jsonl"
    path.write_text('{"text": "x", "polarity": "meh"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="dev_en.jsonl:1"):
        load_examples(path)


def test_peers_map_to_four_classes() -> None:
    """If the dev extra is installed, then VADER and oseti answer with the four classes."""
    from skill.bench.checkin import oseti_classifier, vader_classifier

    vader = vader_classifier()
    if vader is None:
        pytest.skip("vaderSentiment not installed (dev extra)")
    assert vader("what a wonderful day") == "positive"
    assert vader("great lunch but a horrible commute") == "mixed"
    oseti = oseti_classifier()
    if oseti is None:
        pytest.skip("oseti / ipadic not installed (dev extra)")
    assert oseti("とても楽しかった") == "positive"
    assert oseti("") == "neutral"
