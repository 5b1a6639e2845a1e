"""Public helpers for tests and benchmarks: a local certificate chain and signed requests.

They let the real :class:`~skill.verification.SignatureVerifier` run offline: a generated
root -> intermediate -> signing certificate chain stands in for Amazon's, and requests are signed
exactly as Alexa signs them (RSA PKCS#1 v1.5 + SHA-256 over the raw body, ``Signature-256``).
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from skill.verification import CERT_URL_HEADER, SIGNATURE_HEADER, SIGNING_CERT_SAN

TEST_CERT_URL = "https://s3.amazonaws.com/echo.api/echo-api-cert-test.pem"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass(frozen=True)
class TestChain:
    """A generated chain: the root to trust, the PEM Alexa would serve, and the signing key."""

    __test__ = False  # not a pytest test class

    root: x509.Certificate
    chain_pem: bytes
    signing_key: rsa.RSAPrivateKey

    def sign(self, body: bytes, cert_url: str = TEST_CERT_URL) -> dict[str, str]:
        """Headers Alexa would send with ``body``."""
        signature = self.signing_key.sign(body, padding.PKCS1v15(), hashes.SHA256())
        return {
            CERT_URL_HEADER: cert_url,
            SIGNATURE_HEADER: base64.b64encode(signature).decode("ascii"),
            "Content-Type": "application/json",
        }


def make_chain(
    san: str = SIGNING_CERT_SAN,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
) -> TestChain:
    """Generate root -> intermediate -> signing certificate, shaped like a Web PKI chain.

    :param san: the DNS name in the signing certificate's SAN.
    :param not_before: start of the signing certificate's validity (default: an hour ago).
    :param not_after: end of the signing certificate's validity (default: in 30 days).
    """
    now = dt.datetime.now(dt.UTC)
    root_key, mid_key, leaf_key = _key(), _key(), _key()

    def build(
        subject: str,
        issuer: x509.Name,
        public_key: rsa.RSAPublicKey,
        issuer_key: rsa.RSAPrivateKey,
        ca: bool,
        start: dt.datetime,
        end: dt.datetime,
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(subject))
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                critical=False,
            )
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
            )
        else:
            builder = (
                builder.add_extension(
                    x509.KeyUsage(True, False, True, False, False, False, False, False, False),
                    critical=True,
                )
                .add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
                .add_extension(
                    x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                    critical=False,
                )
            )
        return builder.sign(issuer_key, hashes.SHA256())

    long_ago, far = now - dt.timedelta(days=1), now + dt.timedelta(days=3650)
    root = build("Reflection Test Root", _name("Reflection Test Root"), root_key.public_key(),
                 root_key, True, long_ago, far)
    mid = build("Reflection Test Intermediate", root.subject, mid_key.public_key(),
                root_key, True, long_ago, far)
    leaf = build(san, mid.subject, leaf_key.public_key(), mid_key, False,
                 not_before or now - dt.timedelta(hours=1), not_after or now + dt.timedelta(days=30))
    pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (leaf, mid))
    return TestChain(root=root, chain_pem=pem, signing_key=leaf_key)
