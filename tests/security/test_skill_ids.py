"""The skill-id allow-list is enforced everywhere verification is on, and only the explicit
local development setting (REFLECT_DEV_SKIP_VERIFICATION) skips it.

"Everywhere" means every way the app is built (``create_app()`` from the environment, as under
gunicorn; ``create_app(mapping)``; the Lambda module ``skill.wsgi``), with either storage backend
and any log level: the verifiers do not depend on any of them.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from skill.errors import ConfigError
from skill.service import create_app
from skill.testing import TEST_CERT_URL, TestChain
from tests.fuzz.support import SKILL_ID, check_answer, envelope, store_snapshot

OTHER_ID = "amzn1.ask.skill.someone-else"
USER = "amzn1.ask.account.skill-ids"


def _send(app: Flask, chain: TestChain | None, skill_id: str | None = SKILL_ID,
          where: tuple[str, ...] = ("context", "session")) -> tuple[int, str]:
    """A launch for ``skill_id`` (``None``: no applicationId at all), signed when ``chain``."""
    env = envelope({"type": "LaunchRequest"}, user_id=USER)
    for place in ("context", "session"):
        node = env["context"]["System"] if place == "context" else env["session"]
        if place not in where or skill_id is None:
            node.pop("application", None)
        else:
            node["application"] = {"applicationId": skill_id}
    body = json.dumps(env).encode()
    headers = chain.sign(body) if chain is not None else {"Content-Type": "application/json"}
    response = app.test_client().post("/", data=body, headers=headers)
    text = response.get_data(as_text=True)
    check_answer(response.status_code, text, "LaunchRequest", True)
    return response.status_code, text


def _wsgi_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> Flask:
    """The Lambda entry point, imported afresh under ``env``."""
    monkeypatch.setenv("REFLECT_DB_PATH", str(tmp_path / "skill.sqlite3"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delitem(sys.modules, "skill.wsgi", raising=False)
    return importlib.import_module("skill.wsgi").app  # type: ignore[no-any-return]


BUILDS = ["env", "mapping", "wsgi"]
VARIANTS = [
    {},
    {"REFLECT_STORAGE": "dynamodb", "REFLECT_DYNAMODB_ENDPOINT": "http://127.0.0.1:9"},
    {"REFLECT_LOG_LEVEL": "DEBUG"},
    {"REFLECT_LOG_LEVEL": "ERROR", "REFLECT_CERT_TIMEOUT_S": "0.5", "REFLECT_MAX_BODY_BYTES": "4096"},
]


@pytest.fixture
def build(production_app: Callable[..., Flask], monkeypatch: pytest.MonkeyPatch,
          tmp_path: Path) -> Callable[[str, dict[str, str]], Flask]:
    def make(how: str, env: dict[str, str]) -> Flask:
        if how == "env":
            return production_app(**env)
        if how == "wsgi":
            return _wsgi_app(monkeypatch, tmp_path, **env)
        mapping: dict[str, Any] = {"db_path": str(tmp_path / "skill.sqlite3")}
        for name, value in env.items():
            key = name.removeprefix("REFLECT_").lower()
            mapping[key] = value.split(",") if key == "skill_ids" else value
        return create_app(mapping)

    return make


@pytest.mark.parametrize("variant", range(len(VARIANTS)))
@pytest.mark.parametrize("how", BUILDS)
class TestEnforced:
    def test_allowed_id_is_answered(self, build: Callable[[str, dict[str, str]], Flask],
                                    security_chain: TestChain, fake_s3: list[str], how: str,
                                    variant: int) -> None:
        """If the signed request is for an allowed skill id, then it is answered (after the
        app's own verifier downloaded the chain)."""
        app = build(how, {**VARIANTS[variant], "REFLECT_SKILL_IDS": f"{OTHER_ID},{SKILL_ID}"})
        status, _ = _send(app, security_chain)
        assert status == 200
        assert fake_s3 == [TEST_CERT_URL]

    @pytest.mark.parametrize("skill_ids", ["", " , ,", OTHER_ID, SKILL_ID.upper(), SKILL_ID + "-x"])
    def test_other_id_or_empty_list_is_refused(
        self, build: Callable[[str, dict[str, str]], Flask], security_chain: TestChain,
        tmp_path: Path, how: str, variant: int, skill_ids: str
    ) -> None:
        """If the allow-list is empty (or blank) or does not hold the request's exact skill id,
        then a validly signed request gets 400, no handler runs, and nothing is stored."""
        app = build(how, {**VARIANTS[variant], "REFLECT_SKILL_IDS": skill_ids})
        status, text = _send(app, security_chain)
        assert status == 400
        assert json.loads(text)["reason"] in {"skill id not allowed",
                                              "no skill id configured (set REFLECT_SKILL_IDS)"}
        assert store_snapshot(tmp_path / "skill.sqlite3") == {}


@pytest.mark.parametrize("where", [("context",), ("session",)])
def test_id_in_context_or_session_alone_is_checked(production_app: Callable[..., Flask],
                                                   security_chain: TestChain, where: tuple[str, ...]) -> None:
    """If the applicationId is in only one of context and session, then that one is checked."""
    app = production_app(REFLECT_SKILL_IDS=SKILL_ID)
    assert _send(app, security_chain, SKILL_ID, where)[0] == 200
    assert _send(app, security_chain, OTHER_ID, where)[0] == 400


def test_missing_application_id_is_refused(production_app: Callable[..., Flask],
                                           security_chain: TestChain) -> None:
    """If the request names no skill at all, then it gets 400."""
    app = production_app(REFLECT_SKILL_IDS=SKILL_ID)
    assert _send(app, security_chain, None)[0] == 400


def test_empty_allow_list_is_announced_at_start(production_app: Callable[..., Flask],
                                                capfd: pytest.CaptureFixture[str]) -> None:
    """If verification is on and no skill id is configured, then a warning says so at start."""
    production_app(REFLECT_SKILL_IDS="")
    warnings = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    assert any(w["event"] == "config.no_skill_ids" and w["level"] == "warning" for w in warnings)


@pytest.mark.parametrize("value", ["0", "false", "no", "off", "", "FALSE"])
@pytest.mark.parametrize("how", BUILDS)
def test_dev_switch_off_keeps_enforcement(build: Callable[[str, dict[str, str]], Flask],
                                          security_chain: TestChain, how: str, value: str) -> None:
    """If REFLECT_DEV_SKIP_VERIFICATION is off in any spelling, then a wrong skill id (even
    signed) and an unsigned request both get 400."""
    env = {"REFLECT_SKILL_IDS": SKILL_ID, "REFLECT_DEV_SKIP_VERIFICATION": value}
    if how == "mapping":
        env.pop("REFLECT_DEV_SKIP_VERIFICATION")  # the mapping has no "unset": tested via env
    app = build(how, env)
    assert _send(app, security_chain, OTHER_ID)[0] == 400
    assert _send(app, None, SKILL_ID)[0] == 400


@pytest.mark.parametrize("value", ["maybe", "2", "enabled", "y"])
def test_unreadable_dev_switch_fails_closed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                            value: str) -> None:
    """If REFLECT_DEV_SKIP_VERIFICATION holds something unreadable, then the app refuses to
    start (rather than guessing in either direction)."""
    monkeypatch.setenv("REFLECT_DB_PATH", str(tmp_path / "skill.sqlite3"))
    monkeypatch.setenv("REFLECT_DEV_SKIP_VERIFICATION", value)
    with pytest.raises(ConfigError, match="REFLECT_DEV_SKIP_VERIFICATION has an invalid value"):
        create_app()


@pytest.mark.parametrize("value", ["1", "true", "yes", "on", "TRUE"])
@pytest.mark.parametrize("how", ["env", "wsgi"])
def test_only_the_dev_switch_skips_the_check(build: Callable[[str, dict[str, str]], Flask],
                                             how: str, value: str) -> None:
    """If (and only if) the explicit development switch is on, then an unsigned request for any
    skill id, or none, is answered (the local development setting, loopback only for serve)."""
    app = build(how, {"REFLECT_SKILL_IDS": "", "REFLECT_DEV_SKIP_VERIFICATION": value})
    assert _send(app, None, OTHER_ID)[0] == 200
    assert _send(app, None, None)[0] == 200
