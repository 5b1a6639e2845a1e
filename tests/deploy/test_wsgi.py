"""The Lambda entry point module: ``skill.wsgi.app`` is the app built from REFLECT_* settings."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from flask import Flask


def test_wsgi_module_builds_the_app_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If skill.wsgi is imported with REFLECT_* set, then `app` is a Flask app using those settings."""
    monkeypatch.setenv("REFLECT_STORAGE", "sqlite")
    monkeypatch.setenv("REFLECT_DB_PATH", str(tmp_path / "wsgi.sqlite3"))
    monkeypatch.setenv("REFLECT_SKILL_IDS", "amzn1.ask.skill.test-a,amzn1.ask.skill.test-b")
    monkeypatch.setenv("REFLECT_AUDIO_BASE_URL", "https://d111111abcdef8.cloudfront.net")
    monkeypatch.delitem(sys.modules, "skill.wsgi", raising=False)
    module = importlib.import_module("skill.wsgi")
    assert isinstance(module.app, Flask)
    settings = module.app.extensions["reflection"]["settings"]
    assert settings.skill_ids == ("amzn1.ask.skill.test-a", "amzn1.ask.skill.test-b")
    assert settings.audio_base_url == "https://d111111abcdef8.cloudfront.net"
    assert settings.verify_requests is True
    response = module.app.test_client().post("/", data=b"{}", content_type="application/json")
    assert response.status_code == 400
