"""The HTTP edge: verification on by default, 400 for bad input, speech for unknown requests."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from skill.cli import main as cli_main
from skill.service import AlexaEndpoint, create_app
from skill.testing import make_chain
from skill.verification import SignatureVerifier, SkillIdVerifier, TimestampVerifier
from tests.conftest import post, speech_of

MakeRequest = Callable[..., dict[str, Any]]


class TestDefaults:
    def test_healthz(self, db_path: str) -> None:
        """If the app runs with default settings, then GET /healthz answers 200."""
        client = create_app({"db_path": db_path}).test_client()
        assert client.get("/healthz").status_code == 200

    def test_unsigned_request_rejected_by_default(self, db_path: str, make_request: MakeRequest) -> None:
        """If an unsigned request reaches the default server, then it gets 400 and no speech."""
        client = create_app({"db_path": db_path}).test_client()
        response = post(client, make_request("en-US", "LaunchRequest"))
        assert response.status_code == 400
        assert "outputSpeech" not in response.get_data(as_text=True)

    def test_same_envelope_through_dev_setting_is_answered(
        self, client: FlaskClient, make_request: MakeRequest
    ) -> None:
        """If the explicit dev setting is on (as in chat), then the same envelope is answered."""
        response = post(client, make_request("en-US", "LaunchRequest"))
        assert response.status_code == 200
        assert "reflection" in speech_of(response.get_json())


class TestSignedRequests:
    @pytest.fixture
    def signed_client(self, db_path: str) -> tuple[FlaskClient, Any]:
        chain = make_chain()
        app = create_app({"db_path": db_path, "skill_ids": ["amzn1.ask.skill.reflection-guide-local"]})
        endpoint: AlexaEndpoint = app.extensions["reflection"]["endpoint"]
        endpoint.verifiers = [
            SignatureVerifier(trust_roots=[chain.root], fetcher=lambda u, t: chain.chain_pem),
            TimestampVerifier(),
            SkillIdVerifier(["amzn1.ask.skill.reflection-guide-local"]),
        ]
        return app.test_client(), chain

    def test_signed_request_answered(self, signed_client: tuple[FlaskClient, Any],
                                     make_request: MakeRequest) -> None:
        """If the request is properly signed, recent and for our skill, then it is answered."""
        client, chain = signed_client
        body = json.dumps(make_request("ja-JP", "LaunchRequest")).encode()
        response = client.post("/", data=body, headers=chain.sign(body))
        assert response.status_code == 200
        assert "ふりかえり" in speech_of(response.get_json())

    def test_wrong_skill_id_rejected(self, signed_client: tuple[FlaskClient, Any],
                                     make_request: MakeRequest) -> None:
        """If the request is signed but for another skill, then it gets 400."""
        client, chain = signed_client
        envelope = make_request("en-US", "LaunchRequest")
        envelope["context"]["System"]["application"]["applicationId"] = "amzn1.ask.skill.other"
        body = json.dumps(envelope).encode()
        assert client.post("/", data=body, headers=chain.sign(body)).status_code == 400

    def test_stale_request_rejected(self, signed_client: tuple[FlaskClient, Any],
                                    make_request: MakeRequest) -> None:
        """If a signed request is replayed minutes later, then it gets 400."""
        client, chain = signed_client
        envelope = make_request("en-US", "LaunchRequest")
        old = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        envelope["request"]["timestamp"] = old.strftime("%Y-%m-%dT%H:%M:%SZ")
        body = json.dumps(envelope).encode()
        assert client.post("/", data=body, headers=chain.sign(body)).status_code == 400


class TestBadInput:
    @pytest.mark.parametrize("body", [b"", b"not json", b"[]", b"{}", b'{"request": {}}',
                                      b'{"request": {"type": "LaunchRequest"}}', b"\xff\xfe"])
    def test_malformed_body_is_400(self, client: FlaskClient, body: bytes) -> None:
        """If the body is not an Alexa envelope, then the answer is 400, never 500."""
        assert client.post("/", data=body).status_code == 400

    def test_wrong_field_types_are_400(self, client: FlaskClient, make_request: MakeRequest) -> None:
        """If a field has the wrong type, then the answer is 400."""
        envelope = make_request("en-US", "LaunchRequest")
        envelope["session"] = "not an object"
        assert post(client, envelope).status_code == 400

    def test_too_large_is_413(self, client: FlaskClient) -> None:
        """If the body is larger than the limit, then the answer is 413."""
        assert client.post("/", data=b"x" * (200 * 1024)).status_code == 413

    def test_get_on_endpoint_is_405(self, client: FlaskClient) -> None:
        """If the endpoint is fetched with GET, then the answer is 405."""
        assert client.get("/").status_code == 405

    @pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
    def test_unknown_request_type_gets_speech(self, client: FlaskClient, make_request: MakeRequest,
                                              locale: str) -> None:
        """If the request type is unknown to the SDK, then a spoken reprompt comes back."""
        response = post(client, make_request(locale, "Alexa.Something.New"))
        assert response.status_code == 200
        payload = response.get_json()
        assert speech_of(payload)
        assert payload["response"]["shouldEndSession"] is False
        assert payload["response"]["reprompt"]

    def test_unknown_locale_falls_back_to_english(self, client: FlaskClient,
                                                  make_request: MakeRequest) -> None:
        """If the locale has no locale file, then the skill still answers (in English), not 500."""
        response = post(client, make_request("fr-FR", "LaunchRequest"))
        assert response.status_code == 200
        assert speech_of(response.get_json())

    def test_english_variant_uses_english(self, client: FlaskClient, make_request: MakeRequest) -> None:
        """If the locale is en-GB, then the en-US file answers."""
        response = post(client, make_request("en-GB", "LaunchRequest"))
        assert "reflection" in speech_of(response.get_json())


class TestServeCommand:
    def test_dev_setting_refuses_public_host(self, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
        """If verification is off, then serve refuses to listen beyond loopback."""
        monkeypatch.setenv("REFLECT_DEV_SKIP_VERIFICATION", "1")
        assert cli_main(["serve", "--host", "0.0.0.0"]) == 2
        assert "loopback" in capsys.readouterr().err


class TestAudioFiles:
    def test_serves_clips_with_range_requests(self, client: FlaskClient) -> None:
        """If a player asks for part of a clip, then the server answers 206 with that range."""
        import json as _json
        from pathlib import Path

        manifest = _json.loads((Path(__file__).resolve().parent.parent / "audio" / "manifest.json")
                               .read_text(encoding="utf-8"))
        clip = manifest["clips"][0]["file"]
        with client.get(f"/audio/{clip}") as whole:
            assert whole.status_code == 200
            assert whole.mimetype == "audio/mpeg"
            data = whole.data
        with client.get(f"/audio/{clip}", headers={"Range": "bytes=100-199"}) as part:
            assert part.status_code == 206
            assert part.data == data[100:200]

    def test_no_path_traversal(self, client: FlaskClient) -> None:
        """If a path tries to leave the audio folder, then it is not served."""
        assert client.get("/audio/../pyproject.toml").status_code == 404
        assert client.get("/audio/%2e%2e/pyproject.toml").status_code == 404
