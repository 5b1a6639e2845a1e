"""Shared by the fuzz, fault and security suites: response checks, store snapshots, signed apps.

Nothing here is a test. The checks encode the contract of the HTTP edge under bad input:
every answer is a 4xx or a well-formed Alexa response (speech where speech is due, silence where
the platform forbids it), never a 500, and never Python's own words (tracebacks, exception names,
source locations) in the body.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sqlite3
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from contextlib import closing
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings

from skill.service import AlexaEndpoint, create_app
from skill.simulator.conversation import DEFAULT_SKILL_ID
from skill.storage.sqlite import TABLE
from skill.testing import TestChain
from skill.verification import SignatureVerifier, SkillIdVerifier, TimestampVerifier

SKILL_ID = DEFAULT_SKILL_ID
#: Bounded property runs: no deadline (the first request warms caches), no example database
#: written into the repo; tests raise max_examples with ``settings(FUZZ, max_examples=N)``.
FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
#: Alexa waits about 8 s for a skill's answer before it gives up on the request.
ALEXA_DEADLINE_S = 8.0
#: outputSpeech must stay under 8000 characters (platform notes, section 2).
MAX_SSML_CHARS = 8000
#: The statuses the edge may answer ``POST /`` with.
EDGE_STATUSES = frozenset({200, 400, 405, 413})
#: Request types whose response must carry no speech (events outside any session).
SILENT_PREFIXES = ("AudioPlayer.", "PlaybackController.", "AlexaSkillEvent.", "System.",
                   "SessionEndedRequest")

_PYTHON_TEXT = re.compile(
    r"Traceback \(most recent call last\)"
    r"|File \"[^\"]*\"(, line \d+)?"
    r"|\b\w+\.py\b"
    r"|\b[A-Z][A-Za-z]*(?:Error|Exception|Warning)\b"
    r"|\bline \d+, in\b"
)
_TAG = re.compile(r"<[^>]+>")


# ------------------------------------------------------------------------------------ responses


def python_text_in(body: str) -> list[str]:
    """Fragments of ``body`` that look like Python talking: tracebacks, exception names, files."""
    return [m.group(0) for m in _PYTHON_TEXT.finditer(body)]


def spoken_text(ssml: str) -> str:
    """The words of an SSML string, tags removed."""
    return " ".join(_TAG.sub(" ", ssml).split())


def check_ssml(output_speech: Any) -> str:
    """Assert ``output_speech`` is SSML that parses, sits in ``<speak>`` and fits the limit."""
    assert isinstance(output_speech, dict), output_speech
    assert output_speech.get("type") == "SSML", output_speech
    ssml = output_speech.get("ssml")
    assert isinstance(ssml, str) and len(ssml) < MAX_SSML_CHARS, ssml
    root = ET.fromstring(ssml)  # raises on unescaped text
    assert root.tag == "speak", ssml
    return ssml


def check_answer(status: int, body: str, request_type: str | None = None,
                 has_session: bool | None = None) -> dict[str, Any] | None:
    """Assert the edge's answer honours the contract; the payload when it was a 200.

    :param request_type: the ``request.type`` that was sent, when known: events must be silent,
        requests inside a session must be heard (speech or an AudioPlayer directive).
    :param has_session: whether the envelope carried a session.
    """
    assert status in EDGE_STATUSES, f"HTTP {status}: {body[:300]}"
    leaked = python_text_in(body)
    assert not leaked, f"Python text in the body: {leaked} in {body[:300]}"
    if status != 200:
        payload = json.loads(body)
        assert isinstance(payload, dict) and "error" in payload, body[:300]
        assert "outputSpeech" not in body
        return None
    payload = json.loads(body)
    assert isinstance(payload, dict), body[:300]
    assert payload.get("version") == "1.0", body[:300]
    response = payload.get("response")
    assert isinstance(response, dict), body[:300]
    speech = response.get("outputSpeech")
    if speech is not None:
        check_ssml(speech)
    reprompt = response.get("reprompt")
    if reprompt is not None:
        check_ssml(reprompt.get("outputSpeech"))
    if "shouldEndSession" in response:
        assert isinstance(response["shouldEndSession"], bool), body[:300]
    if request_type is not None and request_type.startswith(SILENT_PREFIXES):
        assert speech is None and reprompt is None and "card" not in response, \
            f"speech in the answer to {request_type}: {body[:300]}"
    elif request_type in ("LaunchRequest", "IntentRequest") and has_session:
        assert audible(response), f"nothing to hear for {request_type}: {body[:300]}"
    return payload


def audible(response: Mapping[str, Any]) -> bool:
    """Whether a response gives the person something to hear: words, or an AudioPlayer action."""
    speech = (response.get("outputSpeech") or {}).get("ssml", "")
    directives = [d.get("type", "") for d in response.get("directives") or []]
    return bool(spoken_text(speech)) or "<audio" in speech or any(
        t.startswith("AudioPlayer.") for t in directives)


def speech_of(payload: Mapping[str, Any] | None) -> str:
    """The spoken words of a response payload ("" when silent)."""
    response = (payload or {}).get("response") or {}
    return spoken_text(str((response.get("outputSpeech") or {}).get("ssml", "")))


def variants(locale: str, key: str) -> list[str]:
    """Every phrasing of a locale-file key (to recognise, e.g., the apology that was spoken)."""
    from skill.speech import load_catalog

    return list(load_catalog().for_locale(locale).variants(key))


def says_one_of(payload: Mapping[str, Any] | None, locale: str, *keys: str) -> bool:
    """Whether the response speaks one phrasing of one of ``keys`` (placeholders ignored)."""
    heard = speech_of(payload)
    for key in keys:
        for phrasing in variants(locale, key):
            fixed = [part.strip() for part in re.split(r"\{[^}]*\}", phrasing) if part.strip()]
            if fixed and all(part in heard for part in fixed):
                return True
    return False


# ------------------------------------------------------------------------------------ storage


def store_snapshot(db_path: str | Path) -> dict[str, tuple[Any, ...]]:
    """Every stored row (user id -> version, attributes, expiry), read straight from SQLite."""
    path = Path(db_path)
    if not path.is_file():
        return {}
    with closing(sqlite3.connect(path)) as conn:
        try:
            rows = conn.execute(
                f"SELECT user_id, version, attributes, expires_at FROM {TABLE}").fetchall()
        except sqlite3.OperationalError:  # created but never written
            return {}
    return {row[0]: tuple(row[1:]) for row in rows}


# ------------------------------------------------------------------------------------ requests


def now_stamp(skew_s: float = 0.0) -> str:
    """An Alexa ``request.timestamp``, ``skew_s`` seconds from now."""
    moment = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=skew_s)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def envelope(request: Mapping[str, Any], *, locale: str = "en-US", user_id: str = "amzn1.ask.account.fuzz",
             session: bool | Mapping[str, Any] = True, skill_id: str = SKILL_ID,
             audio_player: bool = True, request_id: str | None = None) -> dict[str, Any]:
    """A full Alexa request envelope around ``request`` (a session with ``session`` as its
    attributes when a mapping is given)."""
    application = {"applicationId": skill_id}
    user = {"userId": user_id}
    body: dict[str, Any] = {
        "version": "1.0",
        "context": {"System": {
            "application": application, "user": user,
            "device": {"deviceId": "amzn1.ask.device.fuzz",
                       "supportedInterfaces": {"AudioPlayer": {}} if audio_player else {}},
            "apiEndpoint": "https://api.amazonalexa.com",
        }},
        "request": {"requestId": request_id or f"amzn1.echo-api.request.{uuid.uuid4()}",
                    "timestamp": now_stamp(), "locale": locale, **request},
    }
    if audio_player:
        body["context"]["AudioPlayer"] = {"playerActivity": "IDLE"}
    if session is not False:
        body["session"] = {
            "new": False, "sessionId": "amzn1.echo-api.session.fuzz", "application": application,
            "user": user, "attributes": dict(session) if isinstance(session, Mapping) else {},
        }
    return body


def intent(name: str, slots: Mapping[str, str | None] | None = None) -> dict[str, Any]:
    """An ``IntentRequest`` body for ``name`` with raw slot values (``None``: slot without value)."""
    slot_json: dict[str, Any] = {}
    for slot, value in (slots or {}).items():
        entry: dict[str, Any] = {"name": slot, "confirmationStatus": "NONE"}
        if value is not None:
            entry["value"] = value
        slot_json[slot] = entry
    return {"type": "IntentRequest",
            "intent": {"name": name, "confirmationStatus": "NONE", "slots": slot_json}}


# ------------------------------------------------------------------------------------ apps


def static_fetcher(chain: TestChain) -> Callable[[str, float], bytes]:
    """A certificate fetcher that serves ``chain`` (what S3 would serve)."""
    return lambda url, timeout: chain.chain_pem


def signed_app(db_path: str | Path, chain: TestChain, skill_ids: Iterable[str] = (SKILL_ID,),
               fetcher: Callable[[str, float], bytes] | None = None,
               clock: Callable[[], dt.datetime] | None = None,
               **config: Any) -> Flask:
    """The production app (verification on), trusting ``chain``'s root instead of Mozilla's.

    Only the signature verifier's trust anchors and download are swapped; the verifier classes,
    their order and the edge are the real ones.
    """
    ids = list(skill_ids)
    app = create_app({"db_path": str(db_path), "skill_ids": ids, "log_level": "WARNING", **config})
    endpoint: AlexaEndpoint = app.extensions["reflection"]["endpoint"]
    assert [type(v) for v in endpoint.verifiers] == [SignatureVerifier, TimestampVerifier,
                                                     SkillIdVerifier]
    timeout_s = app.extensions["reflection"]["settings"].cert_timeout_s
    endpoint.verifiers = [
        SignatureVerifier(trust_roots=[chain.root], fetcher=fetcher or static_fetcher(chain),
                          timeout_s=timeout_s, clock=clock),
        TimestampVerifier(clock=clock),
        SkillIdVerifier(ids),
    ]
    return app


def post_signed(client: FlaskClient, chain: TestChain, body: bytes,
                headers: Mapping[str, str] | None = None) -> tuple[int, str]:
    """POST ``body`` signed as Alexa signs it; ``(status, body text)``."""
    signed = {**chain.sign(body), **(headers or {})}
    response = client.post("/", data=body, headers=signed)
    return response.status_code, response.get_data(as_text=True)


# ------------------------------------------------------------------------------------ logs


class RecordLog:
    """Collects log records (attach with :meth:`attach`); :meth:`errors` lists the unhandled ones."""

    #: Events logged when a request fell through to a catch-all (a crash inside the skill).
    CRASH_EVENTS = frozenset({"unhandled error", "skill.invoke failed"})

    def __init__(self) -> None:
        self.records: list[logging.LogRecord] = []
        outer = self

        class _Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                outer.records.append(record)

        self.handler = _Handler(level=logging.DEBUG)

    def attach(self, *logger_names: str) -> RecordLog:
        for name in logger_names:
            logging.getLogger(name or None).addHandler(self.handler)
        return self

    def detach(self, *logger_names: str) -> None:
        for name in logger_names:
            logging.getLogger(name or None).removeHandler(self.handler)

    def clear(self) -> None:
        self.records.clear()

    def crashes(self) -> list[str]:
        """The crash events recorded, each as ``event: error type @ where``."""
        out = []
        for record in self.records:
            if record.getMessage() in self.CRASH_EVENTS:
                exc = record.exc_info[1] if record.exc_info else None
                tb = exc.__traceback__ if exc is not None else None
                while tb is not None and tb.tb_next is not None:
                    tb = tb.tb_next
                where = f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}" if tb else "?"
                out.append(f"{record.getMessage()}: {type(exc).__name__} @ {where}")
        return out
