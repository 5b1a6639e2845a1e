"""Alexa request verification, run for real against a locally generated certificate chain."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from skill.errors import VerificationError
from skill.testing import TEST_CERT_URL, TestChain, make_chain
from skill.verification import (
    SignatureVerifier,
    SkillIdVerifier,
    TimestampVerifier,
    validate_cert_url,
)

SKILL_ID = "amzn1.ask.skill.test"


@pytest.fixture(scope="module")
def chain() -> TestChain:
    return make_chain()


def _body(timestamp: dt.datetime | None = None, skill_id: str = SKILL_ID) -> bytes:
    stamp = (timestamp or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps({
        "version": "1.0",
        "context": {"System": {"application": {"applicationId": skill_id}}},
        "request": {"type": "LaunchRequest", "requestId": "r1", "timestamp": stamp, "locale": "en-US"},
    }).encode()


def _verifier(chain: TestChain, **kwargs: Any) -> SignatureVerifier:
    return SignatureVerifier(trust_roots=[chain.root], fetcher=lambda url, timeout: chain.chain_pem, **kwargs)


class TestSignatureVerifier:
    def test_valid_request_passes(self, chain: TestChain) -> None:
        """If the body is signed by a chain to a trusted root, then verification passes."""
        body = _body()
        _verifier(chain).verify(chain.sign(body), body, json.loads(body))

    def test_tampered_body_rejected(self, chain: TestChain) -> None:
        """If one byte of the body changes after signing, then the signature check fails."""
        body = _body()
        headers = chain.sign(body)
        with pytest.raises(VerificationError, match="signature does not match"):
            _verifier(chain).verify(headers, body.replace(b"LaunchRequest", b"LaunchRequesT"), {})

    @pytest.mark.parametrize("missing", ["Signature-256", "SignatureCertChainUrl"])
    def test_missing_header_rejected(self, chain: TestChain, missing: str) -> None:
        """If a signature header is missing, then the request is rejected."""
        body = _body()
        headers = chain.sign(body)
        del headers[missing]
        with pytest.raises(VerificationError, match="missing signature headers"):
            _verifier(chain).verify(headers, body, {})

    def test_headers_are_case_insensitive(self, chain: TestChain) -> None:
        """If a proxy lower-cases header names, then verification still passes."""
        body = _body()
        headers = {k.lower(): v for k, v in chain.sign(body).items()}
        _verifier(chain).verify(headers, body, {})

    def test_wrong_san_rejected(self) -> None:
        """If the signing certificate's SAN is not echo-api.amazon.com, then it is rejected."""
        evil = make_chain(san="echo-api.example.com")
        body = _body()
        with pytest.raises(VerificationError, match="subjectAltName"):
            _verifier(evil).verify(evil.sign(body), body, {})

    def test_expired_cert_rejected(self) -> None:
        """If the signing certificate has expired, then the chain is rejected."""
        now = dt.datetime.now(dt.UTC)
        old = make_chain(not_before=now - dt.timedelta(days=60), not_after=now - dt.timedelta(days=1))
        body = _body()
        with pytest.raises(VerificationError, match="certificate chain rejected"):
            _verifier(old).verify(old.sign(body), body, {})

    def test_untrusted_root_rejected(self, chain: TestChain) -> None:
        """If the chain does not lead to a trusted root, then it is rejected."""
        stranger = make_chain()
        body = _body()
        verifier = SignatureVerifier(trust_roots=[chain.root], fetcher=lambda u, t: stranger.chain_pem)
        with pytest.raises(VerificationError, match="certificate chain rejected"):
            verifier.verify(stranger.sign(body), body, {})

    def test_download_failure_rejected(self, chain: TestChain) -> None:
        """If the certificate download fails or times out, then the request is rejected (400)."""

        def failing(url: str, timeout: float) -> bytes:
            raise TimeoutError("slow")

        body = _body()
        verifier = SignatureVerifier(trust_roots=[chain.root], fetcher=failing)
        with pytest.raises(VerificationError, match="could not download.*TimeoutError"):
            verifier.verify(chain.sign(body), body, {})

    def test_garbage_pem_rejected(self, chain: TestChain) -> None:
        """If the downloaded file is not PEM, then the request is rejected."""
        body = _body()
        verifier = SignatureVerifier(trust_roots=[chain.root], fetcher=lambda u, t: b"not a cert")
        with pytest.raises(VerificationError, match="not valid PEM"):
            verifier.verify(chain.sign(body), body, {})

    def test_validated_chain_is_cached(self, chain: TestChain) -> None:
        """If the same certificate URL comes again, then the chain is not downloaded again."""
        calls: list[str] = []

        def counting(url: str, timeout: float) -> bytes:
            calls.append(url)
            return chain.chain_pem

        verifier = SignatureVerifier(trust_roots=[chain.root], fetcher=counting)
        for _ in range(3):
            body = _body()
            verifier.verify(chain.sign(body), body, {})
        assert calls == [TEST_CERT_URL]

    def test_timeout_is_passed_to_the_download(self, chain: TestChain) -> None:
        """If a timeout is configured, then the download is bounded by it."""
        seen: list[float] = []

        def fetch(url: str, timeout: float) -> bytes:
            seen.append(timeout)
            return chain.chain_pem

        body = _body()
        SignatureVerifier(trust_roots=[chain.root], fetcher=fetch, timeout_s=1.5).verify(
            chain.sign(body), body, {})
        assert seen == [1.5]


class TestCertUrl:
    @pytest.mark.parametrize("url", [
        "https://s3.amazonaws.com/echo.api/echo-api-cert.pem",
        "https://s3.amazonaws.com:443/echo.api/echo-api-cert.pem",
        "HTTPS://S3.AMAZONAWS.COM/echo.api/../echo.api/echo-api-cert.pem",
    ])
    def test_accepted(self, url: str) -> None:
        """If the URL follows Amazon's rules, then it is accepted."""
        validate_cert_url(url)

    @pytest.mark.parametrize(("url", "why"), [
        ("http://s3.amazonaws.com/echo.api/echo-api-cert.pem", "scheme"),
        ("https://notamazon.com/echo.api/echo-api-cert.pem", "host"),
        ("https://s3.amazonaws.com/EcHo.aPi/echo-api-cert.pem", "path"),
        ("https://s3.amazonaws.com/invalid.path/echo-api-cert.pem", "path"),
        ("https://s3.amazonaws.com/echo.api/../invalid.path/echo-api-cert.pem", "path"),
        ("https://s3.amazonaws.com:563/echo.api/echo-api-cert.pem", "port"),
    ])
    def test_rejected(self, url: str, why: str) -> None:
        """If the URL breaks a rule, then the error names which one."""
        with pytest.raises(VerificationError, match=why):
            validate_cert_url(url)

    def test_bad_url_header_rejected_before_download(self, chain: TestChain) -> None:
        """If the header URL is bad, then nothing is downloaded."""
        body = _body()
        headers = chain.sign(body, cert_url="http://s3.amazonaws.com/echo.api/x.pem")

        def must_not_fetch(url: str, timeout: float) -> bytes:
            raise AssertionError("downloaded")

        verifier = SignatureVerifier(trust_roots=[chain.root], fetcher=must_not_fetch)
        with pytest.raises(VerificationError, match="scheme"):
            verifier.verify(headers, body, {})


class TestTimestampVerifier:
    def test_recent_passes(self) -> None:
        """If the timestamp is within 150 s, then it passes."""
        stamp = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=100)
        TimestampVerifier().verify({}, b"", json.loads(_body(stamp)))

    @pytest.mark.parametrize("skew", [-151, 151, -3600])
    def test_stale_or_future_rejected(self, skew: int) -> None:
        """If the timestamp is more than 150 s away (either way), then it is rejected."""
        stamp = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=skew)
        with pytest.raises(VerificationError, match="outside tolerance"):
            TimestampVerifier().verify({}, b"", json.loads(_body(stamp)))

    def test_tolerance_is_capped(self) -> None:
        """If a larger tolerance is asked for, then 150 s still applies."""
        stamp = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=200)
        with pytest.raises(VerificationError):
            TimestampVerifier(tolerance_s=3600).verify({}, b"", json.loads(_body(stamp)))

    @pytest.mark.parametrize("envelope", [{}, {"request": {}}, {"request": {"timestamp": "yesterday"}}])
    def test_missing_or_malformed_rejected(self, envelope: dict[str, Any]) -> None:
        """If the timestamp is missing or malformed, then the request is rejected."""
        with pytest.raises(VerificationError, match="timestamp"):
            TimestampVerifier().verify({}, b"", envelope)

    def test_negative_tolerance_is_an_error(self) -> None:
        """If the tolerance is negative, then ValueError is raised."""
        with pytest.raises(ValueError, match="positive"):
            TimestampVerifier(tolerance_s=-1)


class TestSkillIdVerifier:
    def test_allowed_passes(self) -> None:
        """If the applicationId is allowed, then it passes."""
        SkillIdVerifier([SKILL_ID]).verify({}, b"", json.loads(_body()))

    def test_wrong_skill_rejected(self) -> None:
        """If the applicationId is not in the allow-list, then it is rejected."""
        with pytest.raises(VerificationError, match="skill id not allowed"):
            SkillIdVerifier([SKILL_ID]).verify({}, b"", json.loads(_body(skill_id="amzn1.ask.skill.other")))

    def test_empty_allow_list_fails_closed(self) -> None:
        """If no skill id is configured, then every request is rejected."""
        with pytest.raises(VerificationError, match="no skill id configured"):
            SkillIdVerifier([]).verify({}, b"", json.loads(_body()))
