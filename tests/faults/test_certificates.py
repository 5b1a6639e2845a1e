"""Certificate download faults: failing, slow, stalled, oversized; and the cached chain.

The verifier downloads Amazon's signing chain on the first request for a URL and caches it
until the signing certificate expires. A failed download refuses the request (400, no handler
runs, nothing stored); a cached chain keeps the skill answering while S3 is unreachable. The
real :func:`~skill.verification.fetch_cert_chain` is exercised against servers on loopback.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time
import urllib.error
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from skill.testing import TestChain, make_chain
from skill.verification import MAX_CERT_BYTES, SignatureVerifier, fetch_cert_chain
from tests.fuzz.support import (
    check_answer,
    envelope,
    intent,
    post_signed,
    signed_app,
    store_snapshot,
)

USER = "amzn1.ask.account.certs"
TIMEOUT_S = 0.5


@pytest.fixture(scope="module")
def chain() -> TestChain:
    return make_chain()


def _body(request: dict[str, Any] | None = None) -> bytes:
    return json.dumps(envelope(request or intent("CheckInIntent", {"answer": "a fine day"}),
                               user_id=USER)).encode()


def _seeded_app(tmp_path: Path, chain: TestChain, fetcher: Callable[[str, float], bytes]) -> Flask:
    """The production app whose first download (to seed a stored record) succeeds, then
    ``fetcher`` takes over on a fresh, empty cache."""
    db = tmp_path / "certs.sqlite3"
    seeder = signed_app(db, chain, storage="sqlite", dev_skip_verification=False)
    assert post_signed(seeder.test_client(), chain, _body())[0] == 200
    return signed_app(db, chain, fetcher=fetcher, storage="sqlite", dev_skip_verification=False,
                      cert_timeout_s=TIMEOUT_S)


def _raiser(exc: BaseException) -> Callable[[str, float], bytes]:
    def fetch(url: str, timeout: float) -> bytes:
        raise exc

    return fetch


FAILURES = [
    OSError("network is unreachable"),
    TimeoutError("timed out"),
    urllib.error.URLError(ConnectionRefusedError(111, "Connection refused")),
    urllib.error.HTTPError("https://s3.amazonaws.com/echo.api/x.pem", 503, "Slow Down", None, None),  # type: ignore[arg-type]
    ValueError("unknown url type"),
]


@pytest.mark.parametrize("failure", FAILURES, ids=lambda e: type(e).__name__)
def test_failed_download_is_refused_and_changes_nothing(tmp_path: Path, chain: TestChain,
                                                        failure: BaseException) -> None:
    """If the certificate chain cannot be downloaded (cold cache), then the request gets 400,
    no handler runs, and the stored record is untouched."""
    app = _seeded_app(tmp_path, chain, _raiser(failure))
    before = store_snapshot(tmp_path / "certs.sqlite3")
    status, text = post_signed(app.test_client(), chain, _body())
    assert status == 400
    assert json.loads(text)["reason"].startswith("could not download the certificate chain")
    assert "outputSpeech" not in text
    assert store_snapshot(tmp_path / "certs.sqlite3") == before


@pytest.mark.parametrize("failure", FAILURES[:3], ids=lambda e: type(e).__name__)
def test_failed_download_body_has_no_python_text(tmp_path: Path, chain: TestChain,
                                                 failure: BaseException) -> None:
    """If the download fails, then the 400 body carries no Python exception names."""
    app = _seeded_app(tmp_path, chain, _raiser(failure))
    status, text = post_signed(app.test_client(), chain, _body())
    check_answer(status, text)


class CountingFetcher:
    """Serves the chain ``ok_times`` times, then fails like an unreachable S3."""

    def __init__(self, chain: TestChain, ok_times: int) -> None:
        self.chain, self.ok_times, self.calls = chain, ok_times, 0

    def __call__(self, url: str, timeout: float) -> bytes:
        self.calls += 1
        if self.calls > self.ok_times:
            raise OSError("s3 unreachable")
        return self.chain.chain_pem


def test_cached_chain_is_reused_while_downloads_fail(tmp_path: Path, chain: TestChain) -> None:
    """If S3 becomes unreachable after the first download, then every later request is still
    verified (from the cached chain) and answered, with one download in all."""
    fetcher = CountingFetcher(chain, ok_times=1)
    client = _seeded_app(tmp_path, chain, fetcher).test_client()
    for request in ({"type": "LaunchRequest"}, intent("AMAZON.HelpIntent"), intent("CheckInStartIntent")):
        for _ in range(3):
            status, text = post_signed(client, chain, _body(request))
            check_answer(status, text, "IntentRequest" if "intent" in request else "LaunchRequest", True)
            assert status == 200
    assert fetcher.calls == 1


def test_expired_cache_entry_is_fetched_again(tmp_path: Path, chain: TestChain) -> None:
    """If the cached signing certificate has expired, then the chain is downloaded again (and,
    with S3 unreachable, the request is refused rather than trusted on a stale certificate)."""
    fetcher = CountingFetcher(chain, ok_times=1)
    app = _seeded_app(tmp_path, chain, fetcher)
    later = {"offset": dt.timedelta(0)}
    endpoint = app.extensions["reflection"]["endpoint"]
    verifier = SignatureVerifier(trust_roots=[chain.root], fetcher=fetcher, timeout_s=TIMEOUT_S,
                                 clock=lambda: dt.datetime.now(dt.UTC) + later["offset"])
    endpoint.verifiers = [verifier, *endpoint.verifiers[1:]]
    client = app.test_client()
    assert post_signed(client, chain, _body())[0] == 200
    later["offset"] = dt.timedelta(days=31)  # past the signing certificate's 30 days
    status, text = post_signed(client, chain, _body())
    assert status == 400 and fetcher.calls == 2


# ------------------------------------------------------------------------------ the real download


@pytest.fixture
def stalled_server() -> Iterator[str]:
    """Accepts connections, reads the request, and never answers."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/echo.api/cert.pem"


def _serve_once(handler: Callable[[socket.socket], None]) -> tuple[str, threading.Thread]:
    """A one-connection HTTP server on loopback run by ``handler``; its URL and thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    sock.settimeout(10)

    def run() -> None:
        with closing(sock):
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            with closing(conn):
                conn.recv(4096)
                try:
                    handler(conn)
                except OSError:
                    pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return f"http://127.0.0.1:{sock.getsockname()[1]}/echo.api/cert.pem", thread


def test_stalled_download_gives_up_within_the_timeout(tmp_path: Path, chain: TestChain,
                                                      stalled_server: str) -> None:
    """If S3 accepts the connection and never answers, then the real download gives up after
    REFLECT_CERT_TIMEOUT_S and the request gets 400 well within Alexa's deadline."""
    app = _seeded_app(tmp_path, chain, lambda url, timeout: fetch_cert_chain(stalled_server, timeout))
    started = time.monotonic()
    status, text = post_signed(app.test_client(), chain, _body())
    elapsed = time.monotonic() - started
    assert status == 400
    assert elapsed < TIMEOUT_S + 2.0, f"gave up after {elapsed:.1f} s"


def test_oversized_chain_is_refused(chain: TestChain) -> None:
    """If the URL serves more than 64 KB, then the download stops there and is refused."""
    def huge(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-pem-file\r\n\r\n")
        conn.sendall(b"A" * (MAX_CERT_BYTES + 10))

    url, thread = _serve_once(huge)
    with pytest.raises(OSError, match="too large"):
        fetch_cert_chain(url, 2.0)
    thread.join(5)


def test_trickling_download_is_bounded_in_total() -> None:
    """If S3 answers one byte at a time, slower than the timeout allows in total, then the
    download still gives up around REFLECT_CERT_TIMEOUT_S."""
    def trickle(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-pem-file\r\n\r\n")
        for _ in range(12):  # ~2.4 s in all, each gap well under the 0.5 s timeout
            conn.sendall(b"-")
            time.sleep(0.2)

    url, thread = _serve_once(trickle)
    started = time.monotonic()
    try:
        fetch_cert_chain(url, TIMEOUT_S)
    except OSError:
        pass
    elapsed = time.monotonic() - started
    thread.join(5)
    assert elapsed < TIMEOUT_S + 1.0, f"the download ran for {elapsed:.1f} s"

