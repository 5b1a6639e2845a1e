"""scripts/audit.sh: pip-audit's report, re-checked against PyPI's project data, never a false
"clean".

The script is run as CI runs it, on a pip-audit JSON report given with ``--report`` (shaped as
pip-audit 2.x writes it) and with PyPI replaced by a server on loopback (``AUDIT_PYPI_URL``),
so these tests need no network and do not depend on today's advisories. The live audit is the
CI step itself (docs/reliability.md, "Dependency audit").
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from skill.config import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "audit.sh"
FLASK = metadata.version("flask")
PYYAML = metadata.version("pyyaml")
SKIPPED = "Dependency not found on PyPI and could not be audited: {name} ({version})"


class FakePyPI:
    """``/pypi/<name>/json`` answered from :attr:`projects`; 404 for anything else."""

    def __init__(self) -> None:
        self.projects: dict[str, dict[str, Any]] = {}
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                outer.requests.append(self.path)
                name = self.path.strip("/").split("/")[1] if self.path.count("/") >= 3 else ""
                data = outer.projects.get(name)
                body = json.dumps(data).encode() if data is not None else b""
                self.send_response(200 if data is not None else 404)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/pypi"

    def project(self, name: str, latest: str, vulns: list[dict[str, Any]] | None = None) -> None:
        self.projects[name] = {"info": {"name": name, "version": latest}, "vulnerabilities": vulns or []}


@pytest.fixture
def pypi() -> Iterator[FakePyPI]:
    fake = FakePyPI()
    thread = threading.Thread(target=fake.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def audit(tmp_path: Path, pypi_url: str, dependencies: list[dict[str, Any]], *args: str,
          ignore: str = "") -> subprocess.CompletedProcess[str]:
    """Run the script on a report of ``dependencies``; stdout and stderr together."""
    report = tmp_path / "report.json"
    report.write_text(json.dumps({"dependencies": dependencies, "fixes": []}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDIT_")}
    env.update(AUDIT_PYTHON=sys.executable, AUDIT_PYPI_URL=pypi_url, AUDIT_TIMEOUT_S="3",
               AUDIT_IGNORE=ignore)
    return subprocess.run(["bash", str(SCRIPT), "--report", str(report), "--service", "pypi", *args],
                          capture_output=True, text=True, env=env, timeout=60, check=False)


def skipped(name: str, version: str) -> dict[str, Any]:
    return {"name": name, "skip_reason": SKIPPED.format(name=name, version=version)}


def test_clean_report_passes(tmp_path: Path, pypi: FakePyPI) -> None:
    """If pip-audit checked every dependency and found nothing, then the audit passes."""
    result = audit(tmp_path, pypi.url, [{"name": "flask", "version": FLASK, "vulns": []},
                                        {"name": "pyyaml", "version": PYYAML, "vulns": []}])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "audited: 2 (2 by pip-audit/pypi" in result.stdout


def test_vulnerability_found_by_pip_audit_fails(tmp_path: Path, pypi: FakePyPI) -> None:
    """If pip-audit reports a vulnerability, then the audit fails naming it and its fix."""
    vuln = {"id": "PYSEC-2099-1", "fix_versions": ["99.0"], "aliases": ["CVE-2099-0001"]}
    result = audit(tmp_path, pypi.url, [{"name": "flask", "version": FLASK, "vulns": [vuln]}])
    assert result.returncode == 1
    assert f"flask {FLASK}: PYSEC-2099-1 (fixed in 99.0; pip-audit/pypi)" in result.stdout


@pytest.mark.parametrize("ignore", ["PYSEC-2099-1", "CVE-2099-0001", "OTHER-1, CVE-2099-0001"])
def test_ignored_ids_and_aliases(tmp_path: Path, pypi: FakePyPI, ignore: str) -> None:
    """If a vulnerability's id or alias is in AUDIT_IGNORE, then it does not fail the audit."""
    vuln = {"id": "PYSEC-2099-1", "fix_versions": [], "aliases": ["CVE-2099-0001"]}
    result = audit(tmp_path, pypi.url, [{"name": "flask", "version": FLASK, "vulns": [vuln]}], ignore=ignore)
    assert result.returncode == 0, result.stdout


def test_skipped_latest_release_is_checked_against_project_data(tmp_path: Path, pypi: FakePyPI) -> None:
    """If pip-audit skipped a package (per-release JSON unreachable) that is PyPI's latest
    release, then its project data's vulnerabilities decide (withdrawn ones do not count)."""
    pypi.project("flask", FLASK, [
        {"id": "GHSA-xxxx-0001", "fixed_in": ["99.1"], "aliases": [], "withdrawn": None},
        {"id": "GHSA-xxxx-0002", "fixed_in": [], "aliases": [], "withdrawn": "2026-01-01T00:00:00Z"},
    ])
    pypi.project("pyyaml", PYYAML)
    result = audit(tmp_path, pypi.url, [skipped("flask", FLASK), skipped("pyyaml", PYYAML)])
    assert result.returncode == 1
    assert f"flask {FLASK}: GHSA-xxxx-0001 (fixed in 99.1; PyPI project data)" in result.stdout
    assert "GHSA-xxxx-0002" not in result.stdout
    assert "2 as the latest release via PyPI's project data" in result.stdout
    assert sorted(pypi.requests) == ["/pypi/flask/json", "/pypi/pyyaml/json"]


def test_skipped_latest_release_without_vulnerabilities_passes(tmp_path: Path, pypi: FakePyPI) -> None:
    """If every skipped package is the latest release and has no advisory, then it passes."""
    pypi.project("flask", FLASK)
    result = audit(tmp_path, pypi.url, [skipped("flask", FLASK)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_outdated_package_is_never_reported_clean(tmp_path: Path, pypi: FakePyPI) -> None:
    """If a skipped package is older than PyPI's latest release, then it is listed as "could not
    be audited" and the audit is incomplete (2); --allow-unaudited accepts that, still listing it."""
    pypi.project("flask", "999.0")
    pypi.project("pyyaml", PYYAML)
    deps = [skipped("flask", FLASK), skipped("pyyaml", PYYAML)]
    strict = audit(tmp_path, pypi.url, deps)
    assert strict.returncode == 2
    assert f"flask {FLASK}: not the latest release (999.0)" in strict.stdout
    lenient = audit(tmp_path, pypi.url, deps, "--allow-unaudited")
    assert lenient.returncode == 0
    assert "could not be audited: 1" in lenient.stdout and "COULD NOT BE AUDITED" in lenient.stdout


def test_unreachable_pypi_fails_even_when_lenient(tmp_path: Path) -> None:
    """If nothing could be checked at all (PyPI unreachable), then the audit fails with 2 even
    with --allow-unaudited: pip-audit's own "No known vulnerabilities found" is not trusted."""
    result = audit(tmp_path, "http://127.0.0.1:9/pypi", [skipped("flask", FLASK)], "--allow-unaudited")
    assert result.returncode == 2
    assert "PyPI unreachable" in result.stdout
    assert "nothing could be audited" in result.stderr


def test_local_packages_are_not_looked_up_as_strangers(tmp_path: Path, pypi: FakePyPI) -> None:
    """If a package is editable (the skill itself) or not on PyPI, then it counts as local, not
    as unaudited, and no stranger's advisories are attributed to it."""
    deps = [{"name": "reflection-guide", "skip_reason": "distribution marked as editable"},
            skipped("some-private-lib", "1.0"), {"name": "flask", "version": FLASK, "vulns": []}]
    result = audit(tmp_path, pypi.url, deps)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not on PyPI: 2" in result.stdout
    assert pypi.requests == ["/pypi/some-private-lib/json"]


@pytest.mark.parametrize("content", ["", "not json", "{}", '{"dependencies": 3}'])
def test_unreadable_report_fails(tmp_path: Path, pypi: FakePyPI, content: str) -> None:
    """If the report is missing or malformed, then the audit fails with 2 (never passes)."""
    report = tmp_path / "bad.json"
    report.write_text(content)
    env = {**os.environ, "AUDIT_PYTHON": sys.executable, "AUDIT_PYPI_URL": pypi.url}
    result = subprocess.run(["bash", str(SCRIPT), "--report", str(report)], capture_output=True,
                            text=True, env=env, timeout=60, check=False)
    assert result.returncode == 2, result.stdout + result.stderr


def test_help_and_bad_arguments() -> None:
    """If asked for --help, then the script explains itself; if given an unknown argument, then
    it stops with 2."""
    shown = subprocess.run(["bash", str(SCRIPT), "--help"], capture_output=True, text=True, check=False)
    assert shown.returncode == 0 and "pip-audit" in shown.stdout
    wrong = subprocess.run(["bash", str(SCRIPT), "--frobnicate"], capture_output=True, text=True, check=False)
    assert wrong.returncode == 2
