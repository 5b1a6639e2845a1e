"""Fixtures for the security tests: the production app built from the environment alone.

``fake_s3`` makes the unmodified app trust the local test chain: Mozilla's root store is
replaced by the test root, and the certificate download (``urllib.request.urlopen`` inside
:func:`skill.verification.fetch_cert_chain`) is answered with the test chain for Amazon's test
URL only. Nothing in the app is swapped: the verifiers are the ones ``create_app()`` builds.
"""

from __future__ import annotations

import io
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from skill import verification
from skill.service import create_app
from skill.testing import TEST_CERT_URL, TestChain, make_chain


@pytest.fixture(scope="session")
def security_chain() -> TestChain:
    return make_chain()


class _Download(io.BytesIO):
    """What ``urlopen`` returns: a readable context manager."""


@pytest.fixture
def fake_s3(monkeypatch: pytest.MonkeyPatch, security_chain: TestChain) -> list[str]:
    """Serve the test chain at Amazon's test URL (and nothing anywhere else); the URLs fetched."""
    fetched: list[str] = []

    def urlopen(url: str, timeout: float | None = None) -> _Download:
        fetched.append(url)
        if url != TEST_CERT_URL:
            raise OSError(f"no route to {url}")
        return _Download(security_chain.chain_pem)

    monkeypatch.setattr(verification, "load_trust_roots", lambda pem_path=None: [security_chain.root])
    monkeypatch.setattr(urllib.request, "urlopen", urlopen)  # what fetch_cert_chain calls
    return fetched


@pytest.fixture
def production_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                   fake_s3: list[str]) -> Callable[..., Flask]:
    """``production_app(REFLECT_X="...")``: ``create_app()`` from these variables only."""

    def build(**env: Any) -> Flask:
        monkeypatch.setenv("REFLECT_DB_PATH", str(tmp_path / "skill.sqlite3"))
        for name, value in env.items():
            monkeypatch.setenv(name, str(value))
        return create_app()

    return build
