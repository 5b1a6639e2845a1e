"""Gunicorn app factories for ``python -m skill bench load``: the skill, and a hello-world baseline.

``create(chain_dir)`` is the real skill (:func:`skill.service.create_app`, storage and settings from
the ``REFLECT_*`` environment) with its verification chain rebuilt on a locally generated trust
anchor: :class:`~skill.verification.SignatureVerifier` (certificate-URL rules, chain path-validated
to the test root, SAN, RSA-SHA256 body signature), :class:`~skill.verification.TimestampVerifier`
and :class:`~skill.verification.SkillIdVerifier` all run on every request. Only the trust root
differs from production, and the "download" of the signing chain reads a PEM file in ``chain_dir``
instead of Amazon's URL (which cannot be fetched offline). Nothing outside the benchmark imports
this module, so production verification is untouched.

``hello()`` is the baseline: the same Flask and gunicorn stack answering a fixed small JSON body.

``chain_dir`` holds ``root.pem`` (the trust anchor) and ``chain.pem`` (signing certificate first,
then the intermediate: what Alexa's certificate URL serves); :func:`write_chain` writes both.
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from flask import Flask, Response, jsonify, request

from skill.errors import ConfigError
from skill.testing import TEST_CERT_URL, TestChain
from skill.verification import SignatureVerifier, SkillIdVerifier, TimestampVerifier

ROOT_FILE = "root.pem"
CHAIN_FILE = "chain.pem"
#: The body the baseline answers with: a well-formed, empty Alexa response.
HELLO_BODY = {"version": "1.0", "response": {"shouldEndSession": True}}


def write_chain(chain: TestChain, chain_dir: Path) -> None:
    """Write ``chain``'s trust root and its served PEM chain into ``chain_dir``."""
    chain_dir.mkdir(parents=True, exist_ok=True)
    (chain_dir / ROOT_FILE).write_bytes(chain.root.public_bytes(serialization.Encoding.PEM))
    (chain_dir / CHAIN_FILE).write_bytes(chain.chain_pem)


class SignatureFetcher:
    """Serves one PEM file for :data:`~skill.testing.TEST_CERT_URL`; any other URL fails."""

    def __init__(self, pem_path: Path) -> None:
        self.pem_path = pem_path

    def __call__(self, url: str, timeout_s: float) -> bytes:
        """The chain PEM for ``url``.

        :raises OSError: ``url`` is not the test certificate URL, or the file cannot be read.
        """
        if url != TEST_CERT_URL:
            raise OSError(f"no local chain for {url!r}")
        return self.pem_path.read_bytes()


def file_fetcher(chain_dir: str | Path) -> SignatureFetcher:
    """A certificate "download" that serves ``chain.pem`` for the test URL and nothing else."""
    return SignatureFetcher(Path(chain_dir) / CHAIN_FILE)


def create(chain_dir: str) -> Flask:
    """The skill with full request verification anchored on the test root in ``chain_dir``.

    :param chain_dir: directory written by :func:`write_chain`.
    :raises ConfigError: verification is switched off, or no skill id is configured: the
        benchmark must measure the production verification path.
    """
    from skill.service import create_app

    app = create_app()
    settings = app.extensions["reflection"]["settings"]
    if not settings.verify_requests:
        raise ConfigError("bench load measures real verification: unset REFLECT_DEV_SKIP_VERIFICATION")
    if not settings.skill_ids:
        raise ConfigError("bench load needs REFLECT_SKILL_IDS")
    root = x509.load_pem_x509_certificate((Path(chain_dir) / ROOT_FILE).read_bytes())
    endpoint = app.extensions["reflection"]["endpoint"]
    endpoint.verifiers = [
        SignatureVerifier(trust_roots=[root], fetcher=file_fetcher(chain_dir),
                          timeout_s=settings.cert_timeout_s),
        TimestampVerifier(),
        SkillIdVerifier(settings.skill_ids),
    ]
    return app


def hello() -> Flask:
    """The baseline: read the body, answer a fixed small JSON (same Flask, same server)."""
    app = Flask(__name__)

    @app.post("/")
    def root() -> tuple[Response, int]:
        request.get_data(cache=False)
        return jsonify(HELLO_BODY), 200

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        return jsonify({"status": "ok"}), 200

    return app
