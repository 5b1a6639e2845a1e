"""scripts/upload-audio.sh, run against a stand-in `aws` command that records its arguments."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "upload-audio.sh"
FAKE_AWS = """#!/usr/bin/env bash
echo "$*" >> "$AWS_LOG"
case "$*" in
  *AudioBucketName*) echo reflection-guide-prod-audiobucket-abc ;;
  *AudioDistributionId*) echo E2EXAMPLE ;;
  *AudioBaseUrl*) echo https://d111111abcdef8.cloudfront.net ;;
esac
"""


def _run(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "aws"
    fake.write_text(FAKE_AWS, encoding="utf-8")
    fake.chmod(0o755)
    log = tmp_path / "aws.log"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "AWS_LOG": str(log)}
    done = subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True,
                          timeout=60, check=False)
    calls = log.read_text(encoding="utf-8").splitlines() if log.exists() else []
    return done, calls


def test_upload_syncs_mp3s_to_the_stack_bucket_and_invalidates(tmp_path: Path) -> None:
    """If the script runs for prod, then it syncs only MP3s to the stack's bucket and invalidates."""
    done, calls = _run(tmp_path, "--stage", "prod", "--region", "ap-northeast-1")
    assert done.returncode == 0, done.stderr
    sync = next(c for c in calls if c.startswith("s3 sync"))
    assert "s3://reflection-guide-prod-audiobucket-abc/" in sync
    assert "--exclude * --include */*.mp3" in sync
    assert "--content-type audio/mpeg" in sync
    assert "--region ap-northeast-1" in sync
    assert "--stack-name reflection-guide-prod" in calls[0]
    assert any(c.startswith("cloudfront create-invalidation --distribution-id E2EXAMPLE")
               for c in calls)
    assert "https://d111111abcdef8.cloudfront.net" in done.stdout


def test_dry_run_neither_uploads_nor_invalidates(tmp_path: Path) -> None:
    """If --dry-run is given, then aws s3 sync gets --dryrun and no invalidation is made."""
    done, calls = _run(tmp_path, "--bucket", "b", "--distribution-id", "E1", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert not [c for c in calls if c.startswith("cloudformation describe-stacks") and "Bucket" in c]
    assert any(c.startswith("s3 sync audio/ s3://b/") and "--dryrun" in c for c in calls)
    assert not [c for c in calls if c.startswith("cloudfront")]


def test_unknown_argument_is_refused(tmp_path: Path) -> None:
    """If an unknown flag is given, then the script exits 2 before calling aws."""
    done, calls = _run(tmp_path, "--bogus")
    assert done.returncode == 2
    assert "unknown argument" in done.stderr
    assert calls == []
