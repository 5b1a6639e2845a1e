"""Alexa request verification on ``cryptography``.

The SDK's own verifier (``ask_sdk_webservice_support.verifier``) cannot be imported on OpenSSL 3:
its dependency ``oscrypto`` 1.3.0, the newest release, fails to parse the library's version string
and raises ``LibraryNotFoundError`` at import. This module implements the same checks with the
same ``verify(headers, serialized_request_env, deserialized_request_env)`` shape:

* :class:`SignatureVerifier`: the ``SignatureCertChainUrl`` rules, the certificate chain
  (path-validated to a trusted root by ``cryptography.x509.verification``, validity dates, SAN
  ``echo-api.amazon.com``) and the ``Signature-256`` RSA PKCS#1 v1.5 SHA-256 signature over the raw
  body. Downloads are bounded by a timeout; validated chains are cached until the leaf expires.
* :class:`TimestampVerifier`: ``request.timestamp`` within 150 seconds of now.
* :class:`SkillIdVerifier`: ``applicationId`` in the configured allow-list.

Every failure raises :class:`~skill.errors.VerificationError`, which the HTTP edge answers with 400.
"""

from __future__ import annotations

import base64
import datetime as dt
import posixpath
import threading
import time
import urllib.request
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

import certifi
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509 import verification as x509v

from skill.errors import VerificationError

CERT_URL_HEADER = "SignatureCertChainUrl"
SIGNATURE_HEADER = "Signature-256"
CERT_URL_SCHEME = "https"
CERT_URL_HOST = "s3.amazonaws.com"
CERT_URL_PATH_PREFIX = "/echo.api/"
CERT_URL_PORT = 443
SIGNING_CERT_SAN = "echo-api.amazon.com"
TIMESTAMP_TOLERANCE_S = 150
MAX_CERT_BYTES = 64 * 1024

#: Fetches the PEM chain at a URL within a timeout (seconds); raises ``OSError`` on failure.
CertFetcher = Callable[[str, float], bytes]


class Verifier(Protocol):
    """One verification step; the same shape as ask-sdk's ``AbstractVerifier``."""

    def verify(
        self,
        headers: Mapping[str, str],
        serialized_request_env: bytes,
        deserialized_request_env: Mapping[str, Any],
    ) -> None:
        """Return quietly if the request passes; raise :class:`VerificationError` if not."""


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup (HTTP header names are case-insensitive)."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def validate_cert_url(url: str) -> None:
    """Apply Amazon's rules for ``SignatureCertChainUrl``.

    :raises VerificationError: if the scheme is not https, the host not s3.amazonaws.com, the
        normalised path not under ``/echo.api/``, or a port other than 443 is given.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise VerificationError("certificate URL is malformed") from None
    if parts.scheme.lower() != CERT_URL_SCHEME:
        raise VerificationError("certificate URL scheme must be https")
    if (parts.hostname or "").lower() != CERT_URL_HOST:
        raise VerificationError("certificate URL host must be s3.amazonaws.com")
    if not posixpath.normpath(parts.path or "/").startswith(CERT_URL_PATH_PREFIX):
        raise VerificationError("certificate URL path must start with /echo.api/")
    if port is not None and port != CERT_URL_PORT:
        raise VerificationError("certificate URL port must be 443")


def fetch_cert_chain(url: str, timeout_s: float) -> bytes:
    """Download a PEM chain within ``timeout_s`` in total (not per socket read) and a size cap.

    :raises OSError: on a network failure, a download slower than the deadline, or a body over
        ``MAX_CERT_BYTES``.
    """
    deadline = time.monotonic() + timeout_s
    chunks: list[bytes] = []
    size = 0
    with urllib.request.urlopen(url, timeout=timeout_s) as response:  # noqa: S310 (https only)
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError("certificate download exceeded its deadline")
            chunk: bytes = response.read1(4096)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_CERT_BYTES:
                raise OSError("certificate chain too large")
    return b"".join(chunks)


def load_trust_roots(pem_path: str | None = None) -> list[x509.Certificate]:
    """Load the trust anchors: Mozilla's store from ``certifi`` unless a PEM file is given.

    Roots that today's ``cryptography`` flags as non-conforming (e.g. a negative serial number)
    are skipped: Amazon's chain does not lead to them, and they will stop loading in future.
    """
    with open(pem_path or certifi.where(), "rb") as handle:
        blocks = handle.read().split(b"-----END CERTIFICATE-----")
    roots: list[x509.Certificate] = []
    for block in blocks:
        if b"-----BEGIN CERTIFICATE-----" not in block:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("error", CryptographyDeprecationWarning)
            try:
                roots.append(x509.load_pem_x509_certificate(block + b"-----END CERTIFICATE-----\n"))
            except (ValueError, CryptographyDeprecationWarning):
                continue
    return roots


@dataclass(frozen=True)
class _CachedChain:
    leaf: x509.Certificate
    not_after: dt.datetime


class SignatureVerifier:
    """Verify the certificate URL, the certificate chain and the body signature."""

    def __init__(
        self,
        trust_roots: Iterable[x509.Certificate] | None = None,
        fetcher: CertFetcher = fetch_cert_chain,
        timeout_s: float = 3.0,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self._roots = list(trust_roots) if trust_roots is not None else None
        self._store: x509v.Store | None = None
        self._fetch = fetcher
        self._timeout_s = timeout_s
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._cache: dict[str, _CachedChain] = {}
        self._lock = threading.Lock()

    def verify(
        self,
        headers: Mapping[str, str],
        serialized_request_env: bytes,
        deserialized_request_env: Mapping[str, Any],
    ) -> None:
        url = _header(headers, CERT_URL_HEADER)
        signature_b64 = _header(headers, SIGNATURE_HEADER)
        if not url or not signature_b64:
            raise VerificationError("missing signature headers")
        validate_cert_url(url)
        leaf = self._signing_cert(url)
        try:
            signature = base64.b64decode(signature_b64, validate=True)
        except ValueError:
            raise VerificationError("signature is not base64") from None
        public_key = leaf.public_key()
        if not isinstance(public_key, rsa.RSAPublicKey):
            raise VerificationError("signing certificate key is not RSA")
        try:
            public_key.verify(signature, serialized_request_env, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise VerificationError("request signature does not match the body") from None

    def _signing_cert(self, url: str) -> x509.Certificate:
        """Return the validated signing certificate for ``url``, from cache when still valid."""
        now = self._clock()
        with self._lock:
            cached = self._cache.get(url)
        if cached is not None and now < cached.not_after:
            return cached.leaf
        try:
            pem = self._fetch(url, self._timeout_s)
        except (OSError, ValueError) as exc:
            reason = type(exc).__name__
            raise VerificationError(f"could not download the certificate chain: {reason}",
                                    "could not download the certificate chain") from None
        leaf = self._validate_chain(pem, now)
        with self._lock:
            self._cache[url] = _CachedChain(leaf=leaf, not_after=leaf.not_valid_after_utc)
        return leaf

    def _validate_chain(self, pem: bytes, now: dt.datetime) -> x509.Certificate:
        """Path-validate ``pem`` (signing certificate first) to a trust root at time ``now``."""
        try:
            certs = x509.load_pem_x509_certificates(pem)
        except ValueError:
            raise VerificationError("certificate chain is not valid PEM") from None
        leaf, intermediates = certs[0], certs[1:]
        if self._store is None:  # loaded on first use: keeps ~150 roots out of the cold start
            self._store = x509v.Store(self._roots if self._roots is not None else load_trust_roots())
        builder = (
            x509v.PolicyBuilder()
            .store(self._store)
            .time(now)
            .extension_policies(
                ca_policy=x509v.ExtensionPolicy.webpki_defaults_ca(),
                ee_policy=_signing_cert_policy(),
            )
        )
        verifier = builder.build_server_verifier(x509.DNSName(SIGNING_CERT_SAN))
        try:
            verifier.verify(leaf, intermediates)
        except x509v.VerificationError as exc:
            raise VerificationError(f"certificate chain rejected: {exc}",
                                    "certificate chain rejected") from None
        return leaf


def _signing_cert_policy() -> x509v.ExtensionPolicy:
    """Web PKI leaf rules, except that Amazon documents no extended key usage for the signing
    certificate: a present EKU is accepted whatever it lists, an absent one is not required."""
    return x509v.ExtensionPolicy.webpki_defaults_ee().may_be_present(
        x509.ExtendedKeyUsage, x509v.Criticality.AGNOSTIC, None
    )


class TimestampVerifier:
    """Reject requests whose ``request.timestamp`` is more than 150 s away from now."""

    def __init__(
        self,
        tolerance_s: float = TIMESTAMP_TOLERANCE_S,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        if tolerance_s < 0:
            raise ValueError("tolerance must be positive")
        self._tolerance = dt.timedelta(seconds=min(tolerance_s, TIMESTAMP_TOLERANCE_S))
        self._clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def verify(
        self,
        headers: Mapping[str, str],
        serialized_request_env: bytes,
        deserialized_request_env: Mapping[str, Any],
    ) -> None:
        request = deserialized_request_env.get("request")
        raw = request.get("timestamp") if isinstance(request, Mapping) else None
        if not isinstance(raw, str):
            raise VerificationError("request timestamp missing")
        try:
            stamp = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise VerificationError("request timestamp malformed") from None
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=dt.UTC)
        if abs(self._clock() - stamp) > self._tolerance:
            raise VerificationError("request timestamp outside tolerance")


def application_id(envelope: Mapping[str, Any]) -> str | None:
    """The ``applicationId`` of an envelope: from ``context.System`` or the session."""
    for path in (("context", "System", "application"), ("session", "application")):
        node: Any = envelope
        for key in path:
            node = node.get(key) if isinstance(node, Mapping) else None
        if isinstance(node, Mapping) and isinstance(node.get("applicationId"), str):
            return str(node["applicationId"])
    return None


class SkillIdVerifier:
    """Reject requests for any skill id outside the allow-list (an empty list rejects all)."""

    def __init__(self, allowed: Iterable[str]) -> None:
        self._allowed = frozenset(allowed)

    def verify(
        self,
        headers: Mapping[str, str],
        serialized_request_env: bytes,
        deserialized_request_env: Mapping[str, Any],
    ) -> None:
        if not self._allowed:
            raise VerificationError("no skill id configured (set REFLECT_SKILL_IDS)")
        if application_id(deserialized_request_env) not in self._allowed:
            raise VerificationError("skill id not allowed")
