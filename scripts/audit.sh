#!/usr/bin/env bash
# Audit the skill's installed Python dependencies (.venv, as pip resolved them) for known
# vulnerabilities with pip-audit, and never report "clean" for a dependency nobody checked.
#
#   bash scripts/audit.sh [--allow-unaudited] [--service auto|osv|pypi] [--report FILE] [-- ARGS]
#
# Vulnerability data: OSV (api.osv.dev) when reachable, else PyPI (`--vulnerability-service pypi`).
# PyPI's per-release JSON (/pypi/NAME/VERSION/json), which pip-audit's PyPI service reads, may
# be unreachable where only package downloads are allowed; pip-audit then *skips* every package
# and still prints "No known vulnerabilities found" with exit 0. This script re-checks each skipped
# package against PyPI's project JSON (/pypi/NAME/json): its `vulnerabilities` describe the
# latest release, so they audit an installed version only when it is that release. Anything
# else is listed as "could not be audited". See docs/reliability.md, "Dependency audit".
#
# Exit status: 0 everything audited, nothing known; 1 known vulnerabilities (ids, fixed-in
# versions); 2 audit incomplete (some dependency unchecked; with --allow-unaudited only when
# nothing at all could be checked, or pip-audit failed).
#
# Environment: AUDIT_PYTHON (default .venv/bin/python), AUDIT_IGNORE (vulnerability ids or
# aliases to ignore, comma or space separated, each with a reason in docs/reliability.md),
# AUDIT_PYPI_URL (default https://pypi.org/pypi), AUDIT_TIMEOUT_S (default 15).
set -euo pipefail
cd "$(dirname "$0")/.."

PY="${AUDIT_PYTHON:-.venv/bin/python}"
SERVICE="${AUDIT_SERVICE:-auto}"
ALLOW_UNAUDITED=0
REPORT=""
EXTRA=()
while [ $# -gt 0 ]; do
  case "$1" in
    --allow-unaudited) ALLOW_UNAUDITED=1 ;;
    --service) SERVICE="$2"; shift ;;
    --report) REPORT="$2"; shift ;;
    --) shift; EXTRA=("$@"); break ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "audit.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

if [ ! -x "$PY" ]; then
  echo "audit.sh: $PY not found: run 'make test' (or make the venv) first" >&2
  exit 2
fi
TIMEOUT="${AUDIT_TIMEOUT_S:-15}"
IGNORE_ARGS=()
for id in ${AUDIT_IGNORE:+${AUDIT_IGNORE//,/ }}; do IGNORE_ARGS+=(--ignore-vuln "$id"); done

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

if [ -z "$REPORT" ]; then
  if ! "$PY" -m pip_audit --version >/dev/null 2>&1; then
    echo "audit.sh: pip-audit is not installed in $PY (it is in the dev extra: pip install -e '.[dev]')" >&2
    exit 2
  fi
  if [ "$SERVICE" = auto ]; then
    # Any HTTP answer (even 400 for the empty query) means OSV is reachable.
    if "$PY" - <<'PY' 2>/dev/null; then SERVICE=osv; else SERVICE=pypi; fi
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(urllib.request.Request("https://api.osv.dev/v1/query", data=b"{}",
                           headers={"Content-Type": "application/json"}), timeout=5)
except urllib.error.HTTPError:
    pass
except OSError:
    sys.exit(1)
PY
  fi
  echo "== pip-audit over $PY's environment (vulnerability service: $SERVICE)"
  REPORT="$WORK/pip-audit.json"
  status=0
  "$PY" -m pip_audit --progress-spinner off --skip-editable --vulnerability-service "$SERVICE" \
    --timeout "$TIMEOUT" --format json --aliases on --desc off --output "$REPORT" \
    ${IGNORE_ARGS[@]+"${IGNORE_ARGS[@]}"} ${EXTRA[@]+"${EXTRA[@]}"} 2>"$WORK/stderr" || status=$?
  if [ ! -s "$REPORT" ]; then
    echo "audit.sh: pip-audit produced no report (exit $status):" >&2
    tail -n 5 "$WORK/stderr" >&2
    exit 2
  fi
fi

exec "$PY" - "$REPORT" "$ALLOW_UNAUDITED" "$SERVICE" "$TIMEOUT" <<'PY'
"""Read pip-audit's JSON report; re-check skipped packages against PyPI's project JSON."""
import concurrent.futures
import json
import os
import sys
import urllib.error
import urllib.request
from importlib import metadata

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

report_path, allow_unaudited, service, timeout = sys.argv[1], sys.argv[2] == "1", sys.argv[3], float(sys.argv[4])
base = os.environ.get("AUDIT_PYPI_URL", "https://pypi.org/pypi").rstrip("/")
ignored = {i for i in os.environ.get("AUDIT_IGNORE", "").replace(",", " ").split() if i}

try:
    with open(report_path, encoding="utf-8") as handle:
        dependencies = json.load(handle)["dependencies"]
    if not isinstance(dependencies, list) or not all(isinstance(d, dict) for d in dependencies):
        raise TypeError("'dependencies' is not a list of objects")
except (OSError, ValueError, KeyError, TypeError) as exc:
    print(f"audit.sh: unreadable pip-audit report {report_path}: {exc}", file=sys.stderr)
    sys.exit(2)

installed = {canonicalize_name(d.metadata["Name"]): d.version for d in metadata.distributions()
             if d.metadata["Name"]}
findings, unaudited, local, recheck = [], [], [], []
audited = {"service": 0, "pypi-latest": 0}


def keep(vuln_id, aliases):
    return vuln_id not in ignored and not ignored.intersection(aliases or ())


for dep in dependencies:
    name = dep.get("name", "?")
    if "vulns" in dep:
        audited["service"] += 1
        for vuln in dep["vulns"]:
            if keep(vuln["id"], vuln.get("aliases")):
                findings.append((name, dep.get("version", "?"), vuln["id"], vuln.get("fix_versions", []),
                                 f"pip-audit/{service}"))
    elif "not found on PyPI" in dep.get("skip_reason", ""):
        recheck.append(canonicalize_name(name))
    elif "editable" in dep.get("skip_reason", ""):
        local.append(name)
    else:
        unaudited.append((name, installed.get(canonicalize_name(name), "?"), dep.get("skip_reason", "skipped")))


def project(name):
    """(installed version, project JSON or None when not on PyPI, error text)."""
    version = installed.get(name, "?")
    try:
        with urllib.request.urlopen(f"{base}/{name}/json", timeout=timeout) as response:
            return version, json.load(response), ""
    except urllib.error.HTTPError as exc:
        return version, None, "" if exc.code == 404 else f"PyPI answered HTTP {exc.code}"
    except (OSError, ValueError) as exc:
        return version, None, f"PyPI unreachable ({type(exc).__name__})"


with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
    for name, (version, data, error) in zip(recheck, pool.map(project, recheck)):
        if error:
            unaudited.append((name, version, error))
            continue
        if data is None:
            local.append(name)  # not published on PyPI: nothing to look up
            continue
        latest = str((data.get("info") or {}).get("version", ""))
        try:
            same = Version(version) == Version(latest)
        except InvalidVersion:
            same = version == latest
        if not same:
            unaudited.append((name, version, f"not the latest release ({latest}); vulnerability data "
                                             "for older releases is not reachable here"))
            continue
        audited["pypi-latest"] += 1
        for vuln in data.get("vulnerabilities") or []:
            if vuln.get("withdrawn") is None and keep(vuln.get("id", "?"), vuln.get("aliases")):
                findings.append((name, version, vuln.get("id", "?"), vuln.get("fixed_in") or [],
                                 "PyPI project data"))

total = sum(audited.values())
print(f"audited: {total} ({audited['service']} by pip-audit/{service}, {audited['pypi-latest']} as the "
      f"latest release via PyPI's project data); not on PyPI: {len(local)}; "
      f"could not be audited: {len(unaudited)}; ignored ids: {', '.join(sorted(ignored)) or 'none'}")
if findings:
    print("\nKNOWN VULNERABILITIES")
    for name, version, vuln_id, fixes, source in sorted(findings):
        print(f"  {name} {version}: {vuln_id} (fixed in {', '.join(map(str, fixes)) or 'no release yet'}; {source})")
if unaudited:
    print("\nCOULD NOT BE AUDITED")
    for name, version, why in sorted(unaudited):
        print(f"  {name} {version}: {why}")
if findings:
    sys.exit(1)
if total == 0:
    print("\naudit.sh: nothing could be audited", file=sys.stderr)
    sys.exit(2)
if unaudited and not allow_unaudited:
    print("\naudit.sh: audit incomplete (pass --allow-unaudited to accept this)", file=sys.stderr)
    sys.exit(2)
print("\nno known vulnerabilities in the audited dependencies")
PY
