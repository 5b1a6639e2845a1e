"""The Lambda requirements file generated from pyproject.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from skill.deploy import requirements

PYPROJECT = """\
[project]
name = "x"
dependencies = [
    # a comment
    "flask>=3.0",
    "boto3>=1.34",
]
"""


def test_committed_requirements_match_pyproject() -> None:
    """If the committed file is compared with pyproject.toml, then it is up to date."""
    assert requirements.stale_requirements() == [], "run: python -m skill.deploy sync"


def test_committed_requirements_list_every_runtime_dependency() -> None:
    """If the file is read, then it lists exactly pyproject's runtime dependencies."""
    lines = [line for line in requirements.REQUIREMENTS_PATH.read_text(encoding="utf-8").splitlines()
             if line and not line.startswith("#")]
    assert lines == requirements.runtime_requirements()
    assert any(line.startswith("ask-sdk-core") for line in lines)


def test_write_then_check_round_trip(tmp_path: Path) -> None:
    """If the file is written, then it is fresh; if pyproject changes, then it is stale."""
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(PYPROJECT, encoding="utf-8")
    target = tmp_path / "reqs.txt"
    assert requirements.stale_requirements(pyproject, target) == [f"{target} is missing"]
    assert requirements.write_requirements(pyproject, target) is True
    assert requirements.write_requirements(pyproject, target) is False
    assert target.read_text(encoding="utf-8").endswith("flask>=3.0\nboto3>=1.34\n")
    pyproject.write_text(PYPROJECT.replace("flask>=3.0", "flask>=3.1"), encoding="utf-8")
    assert requirements.stale_requirements(pyproject, target) == [
        f"{target} is stale (pyproject.toml dependencies changed)"]


def test_pyproject_without_dependencies_is_refused(tmp_path: Path) -> None:
    """If pyproject.toml has no dependency list, then ValueError names it."""
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"\[project\]\.dependencies"):
        requirements.runtime_requirements(pyproject)
