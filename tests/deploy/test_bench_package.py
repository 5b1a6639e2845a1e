"""The package benchmark's pure parts: sizes, import-time parsing, the report, the HTTP API event."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from skill.bench import package as bench

TRACE = """\
import time: self [us] | cumulative | imported package
import time:       100 |        100 |     botocore.exceptions
import time:      2000 |       2100 |   botocore
import time:       500 |       2600 | boto3
import time:      3000 |       3000 | flask
import time:       250 |        250 |   flask.json
noise line
"""


def test_unzipped_and_tree_sizes_count_file_bytes(tmp_path: Path) -> None:
    """If a zip holds 3 + 5 bytes, then its unzipped size is 8, and so is the extracted tree's."""
    archive = tmp_path / "a.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as handle:
        handle.writestr("pkg/a.py", "abc")
        handle.writestr("b.txt", "hello")
    assert bench.unzipped_size(archive) == 8
    out = bench.extract(archive, tmp_path / "out")
    assert bench.tree_size(out) == 8
    assert bench.largest_entries(out) == (("b.txt", 5), ("pkg", 3))


def test_heaviest_imports_sum_self_time_per_top_level_package() -> None:
    """If -X importtime lines are parsed, then self times add up per top-level package."""
    heavy = bench.heaviest_imports(TRACE)
    assert [name for name, _ in heavy] == ["flask", "botocore", "boto3"]
    assert [secs for _, secs in heavy] == pytest.approx([0.00325, 0.0021, 0.0005])


def test_report_prints_baseline_beside_each_figure() -> None:
    """If figures are reported, then each measurement has its baseline and ratio beside it."""
    figures = bench.Figures(zip_bytes=7 * bench.MB, package_bytes=20 * bench.MB,
                            baseline_bytes=10 * bench.MB, entry_import_s=0.6,
                            baseline_import_s=0.2, runs=5, largest=(("cryptography", 11 * bench.MB),),
                            heaviest_imports=(("botocore", 0.12),))
    text = bench.report(figures)
    assert figures.size_ratio == 2.0
    assert "Flask + ask-sdk-core alone" in text and "2.00 x" in text
    assert "600 ms" in text and "200 ms" in text and "3.00 x" in text
    assert "(8.0% of the 250 MB limit)" in text


def test_http_api_event_carries_the_body_as_json() -> None:
    """If an event is built, then it is a payload 2.0 POST / with the JSON body and extra headers."""
    event = bench.http_api_event({"a": 1}, {"signature-256": "x"})
    assert event["version"] == "2.0"
    assert event["requestContext"]["http"]["method"] == "POST"
    assert json.loads(event["body"]) == {"a": 1}
    assert event["headers"]["signature-256"] == "x"


def test_serverless_env_has_dummy_credentials_and_no_real_ones() -> None:
    """If the packaging environment is built, then AWS values are dummies and telemetry is off."""
    env = bench.serverless_env("/usr/bin/python3.11")
    assert env["AWS_ACCESS_KEY_ID"] == "AKIAIOSFODNN7EXAMPLE"
    assert env["SLS_TELEMETRY_DISABLED"] == "1"
    assert env["PYTHON_BIN"] == "/usr/bin/python3.11"
    assert "AWS_PROFILE" not in env and "AWS_SESSION_TOKEN" not in env


def test_runtime_shim_links_boto3_only(tmp_path: Path) -> None:
    """If the runtime shim is built, then it links boto3 and botocore and nothing of the app."""
    shim = bench.runtime_shim(tmp_path / "runtime")
    names = {p.name for p in shim.iterdir()}
    assert {"boto3", "botocore"} <= names <= set(bench.RUNTIME_PROVIDED)
