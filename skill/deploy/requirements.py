"""The Lambda requirements file, generated from ``[project].dependencies`` in ``pyproject.toml``.

serverless-python-requirements reads a requirements file, not PEP 621 metadata, so the runtime
dependencies are written to :data:`REQUIREMENTS_PATH` by :func:`write_requirements`; ``--check``
(:func:`stale_requirements`) fails when the file no longer matches ``pyproject.toml``. The file is
never edited by hand: ``pyproject.toml`` stays the single list of runtime dependencies.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from skill.config import REPO_ROOT

PYPROJECT_PATH = REPO_ROOT / "pyproject.toml"
REQUIREMENTS_PATH = REPO_ROOT / "skill" / "deploy" / "lambda-requirements.txt"
HEADER = (
    "# Generated from pyproject.toml [project].dependencies by `python -m skill.deploy sync`.\n"
    "# Do not edit. serverless.yml drops boto3 (noDeploy): the Lambda runtime ships it.\n"
)


def runtime_requirements(pyproject: Path = PYPROJECT_PATH) -> list[str]:
    """The runtime requirement strings of ``pyproject``, in file order.

    :param pyproject: path of ``pyproject.toml``.
    :raises ValueError: if the file has no ``[project].dependencies`` list.
    """
    with open(pyproject, "rb") as handle:
        data = tomllib.load(handle)
    deps = data.get("project", {}).get("dependencies")
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        raise ValueError(f"{pyproject}: [project].dependencies must be a list of strings")
    return [dep.strip() for dep in deps]


def render_requirements(pyproject: Path = PYPROJECT_PATH) -> str:
    """The full text of the requirements file for ``pyproject``."""
    return HEADER + "".join(f"{dep}\n" for dep in runtime_requirements(pyproject))


def write_requirements(
    pyproject: Path = PYPROJECT_PATH, target: Path = REQUIREMENTS_PATH
) -> bool:
    """Write the requirements file; ``True`` if its content changed."""
    text = render_requirements(pyproject)
    if target.exists() and target.read_text(encoding="utf-8") == text:
        return False
    target.write_text(text, encoding="utf-8")
    return True


def stale_requirements(
    pyproject: Path = PYPROJECT_PATH, target: Path = REQUIREMENTS_PATH
) -> list[str]:
    """Problems that make ``target`` differ from what ``pyproject`` generates (empty: up to date)."""
    if not target.exists():
        return [f"{target} is missing"]
    if target.read_text(encoding="utf-8") != render_requirements(pyproject):
        return [f"{target} is stale (pyproject.toml dependencies changed)"]
    return []
