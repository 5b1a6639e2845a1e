"""The HTTP edge: ``create_app(config)`` mounts the skill on Flask.

``POST /`` takes Alexa requests: the raw body is verified (signature, certificate chain, timestamp,
skill id) before anything is deserialised, then dispatched to the ask-sdk-core skill. Malformed or
unverifiable requests get HTTP 400 and no handler runs. ``GET /healthz`` answers 200, and
``GET /audio/<file>`` serves the generated audio (with HTTP range requests) for local use.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ask_sdk_core.exceptions import SerializationException
from ask_sdk_core.skill import CustomSkill
from ask_sdk_model import RequestEnvelope
from ask_sdk_model.request import Request
from flask import Flask, Response, jsonify, request, send_from_directory

from skill.assembly import build_skill, open_persistence
from skill.config import Settings, load_settings
from skill.errors import UnsupportedLocaleError, VerificationError
from skill.logs import Stopwatch, configure_logging, current_request_id, get_logger, log_event
from skill.serialization import ModelSerializer
from skill.speech import DEFAULT_LOCALE, Catalog, Speech, load_catalog
from skill.verification import SignatureVerifier, SkillIdVerifier, TimestampVerifier, Verifier

log = get_logger("service")
_serializer = ModelSerializer()
#: Requests whose answers may carry no speech (AudioPlayer rules; events outside a session).
SILENT_REQUEST_PREFIXES = ("AudioPlayer.", "PlaybackController.", "AlexaSkillEvent.",
                           "System.", "SessionEndedRequest")


def default_verifiers(settings: Settings) -> list[Verifier]:
    """The verification chain for ``settings``: empty only under the explicit dev setting."""
    if not settings.verify_requests:
        return []
    return [
        SignatureVerifier(timeout_s=settings.cert_timeout_s),
        TimestampVerifier(),
        SkillIdVerifier(settings.skill_ids),
    ]


class BadRequest(Exception):
    """The request is not a well-formed Alexa request envelope (answered with 400)."""


class AlexaEndpoint:
    """Verify, deserialise and dispatch one Alexa request; never raise to the web framework."""

    def __init__(self, skill: CustomSkill, verifiers: Sequence[Verifier], catalog: Catalog) -> None:
        self.skill = skill
        self.verifiers = list(verifiers)
        self.catalog = catalog

    def handle(self, body: bytes, headers: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """Answer ``body``: ``(status, JSON payload)``."""
        watch = Stopwatch()
        token = current_request_id.set(None)
        fields: dict[str, Any] = {}
        try:
            status, payload = self._handle(body, headers, fields)
        finally:
            fields["latency_ms"] = watch.ms()
            log_event(log, "alexa.request", **fields)
            current_request_id.reset(token)
        return status, payload

    def _handle(
        self, body: bytes, headers: Mapping[str, str], fields: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        try:
            raw = _parse_envelope(body)
        except BadRequest as exc:
            fields.update(status=400, reason=str(exc))
            return 400, {"error": "bad request", "reason": str(exc)}
        req = raw["request"]
        current_request_id.set(str(req.get("requestId", "")) or None)
        intent = req.get("intent") if isinstance(req.get("intent"), dict) else {}
        fields.update(
            request_type=req.get("type"),
            intent=intent.get("name") if intent else None,
            locale=req.get("locale"),
        )
        try:
            for verifier in self.verifiers:
                verifier.verify(headers, body, raw)
        except VerificationError as exc:
            fields.update(status=400, reason=str(exc))
            return 400, {"error": "verification failed", "reason": exc.public_reason}

        if req.get("type") not in Request.discriminator_value_class_map:
            fields.update(status=200, handler="unknown_request_type")
            return 200, self._unknown_request_type(raw)
        try:
            # The body verified above, already parsed: decoded into models, not parsed again.
            envelope = _serializer.from_data(raw, RequestEnvelope)
        except (SerializationException, ValueError, TypeError, AttributeError):
            fields.update(status=400, reason="envelope does not match the Alexa schema")
            return 400, {"error": "bad request", "reason": "envelope does not match the Alexa schema"}
        try:
            response = self.skill.invoke(request_envelope=envelope, context=None)
        except Exception:  # the skill's own exception handlers failed: still answer, never 500
            log.exception("skill.invoke failed", extra={"fields": {"request_type": req.get("type")}})
            fields.update(status=200, handler="edge_apology")
            return 200, self._apology(raw)
        fields["status"] = 200
        payload = _serializer.serialize(response)
        return 200, payload if isinstance(payload, dict) else {}

    def _speech_for(self, raw: Mapping[str, Any]) -> Speech:
        locale = raw["request"].get("locale")
        try:
            catalog = self.catalog.for_locale(locale if isinstance(locale, str) else None)
        except UnsupportedLocaleError:
            catalog = self.catalog.for_locale(DEFAULT_LOCALE)
        return Speech(catalog)

    def _unknown_request_type(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """A request type this SDK does not model: a friendly spoken reprompt, never an error."""
        speech = self._speech_for(raw).say("fallback.unknown_request")
        reprompt = self._speech_for(raw).say("fallback.reprompt")
        return _response_payload(speech, reprompt, end_session="session" not in raw)

    def _apology(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        if str(raw["request"].get("type", "")).startswith(SILENT_REQUEST_PREFIXES):
            return {"version": "1.0", "response": {}}  # speech is not allowed in these answers
        speech = self._speech_for(raw).say("error.generic")
        return _response_payload(speech, None, end_session=True)


def _response_payload(speech: Speech, reprompt: Speech | None, end_session: bool) -> dict[str, Any]:
    response: dict[str, Any] = {
        "outputSpeech": {"type": "SSML", "ssml": speech.ssml()},
        "shouldEndSession": end_session,
    }
    if reprompt is not None and not end_session:
        response["reprompt"] = {"outputSpeech": {"type": "SSML", "ssml": reprompt.ssml()}}
    return {"version": "1.0", "sessionAttributes": {}, "response": response}


def _parse_envelope(body: bytes) -> dict[str, Any]:
    """Parse the raw body into a dict with the fields every Alexa request has.

    :raises BadRequest: if the body is not JSON, or lacks ``request.type``/``requestId``/``timestamp``.
    """
    try:
        raw = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("body is not JSON") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("request"), dict):
        raise BadRequest("body has no request object")
    req = raw["request"]
    for key in ("type", "requestId", "timestamp"):
        if not isinstance(req.get(key), str) or not req[key]:
            raise BadRequest(f"request.{key} missing")
    if "locale" in req and not isinstance(req["locale"], str):
        raise BadRequest("request.locale must be a string")
    if not isinstance(raw.get("context", {}), dict) or not isinstance(raw.get("session", {}), dict):
        raise BadRequest("context/session must be objects")
    return raw


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the Flask app: settings, logging, storage, the skill, its verifiers, and routes.

    :param config: setting overrides (lower-case names of :class:`~skill.config.Settings`),
        applied after the ``REFLECT_*`` environment.
    """
    settings = load_settings(config)
    configure_logging(settings.log_level)
    catalog = load_catalog()
    persistence = open_persistence(settings)
    skill = build_skill(settings, persistence)
    endpoint = AlexaEndpoint(skill, default_verifiers(settings), catalog)
    if settings.verify_requests and not settings.skill_ids:
        log_event(log, "config.no_skill_ids", level=30,
                  hint="set REFLECT_SKILL_IDS; every request is refused until then")

    app = Flask(__name__)
    # One byte of headroom: the view reads max + 1 bytes and answers 413 when it gets them, so a
    # chunked body (no Content-Length), which Werkzeug cuts at this limit, is refused too.
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes + 1
    app.extensions["reflection"] = {"settings": settings, "endpoint": endpoint, "skill": skill,
                                    "persistence": persistence}

    @app.post("/")
    def alexa() -> tuple[Response, int]:
        # Read one byte past the limit: a chunked body (no Content-Length) that is too large
        # must be refused, not silently cut to the limit and parsed.
        body = request.stream.read(settings.max_body_bytes + 1)
        if len(body) > settings.max_body_bytes:
            return jsonify({"error": "request body too large"}), 413
        status, payload = endpoint.handle(body, dict(request.headers))
        # Compact UTF-8 (Japanese stays 3 bytes a character, not a 6-byte escape), keys in the
        # order they were built: Alexa reads them by name.
        text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        return Response(text, mimetype="application/json"), status

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        return jsonify({"status": "ok"}), 200

    @app.get("/audio/<path:name>")
    def audio(name: str) -> Response:
        return send_from_directory(settings.audio_dir, name, conditional=True, max_age=3600)

    @app.errorhandler(413)
    def too_large(_: Exception) -> tuple[Response, int]:
        return jsonify({"error": "request body too large"}), 413

    @app.errorhandler(405)
    def not_allowed(_: Exception) -> tuple[Response, int]:
        return jsonify({"error": "method not allowed"}), 405

    return app
