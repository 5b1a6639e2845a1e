"""Fixtures for the property tests: one certificate chain, and apps built once per module.

Hypothesis runs many examples per test, so the apps are module-scoped (function-scoped fixtures
are not reset between examples); each example uses its own user id where state matters.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from skill.testing import TestChain, make_chain


@pytest.fixture(scope="session")
def fuzz_chain() -> TestChain:
    """A generated root -> intermediate -> signing chain (RSA 2048, made once)."""
    return make_chain()


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")
