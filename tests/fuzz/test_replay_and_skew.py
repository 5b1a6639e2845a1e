"""Replays, clock skew and tampering, through the real verifier with the local test chain.

Decision (docs/reliability.md, "Replays"): Alexa's verification rules bound only the timestamp
(150 s) and bind the body to Amazon's signature; they do not ask for request-id uniqueness. The
skill follows them: a genuine signed request replayed within 150 s is answered again, one older
than 150 s is refused with 400, and any change to the body (re-signed by anyone but the
certificate Amazon serves) is refused with 400. Every refusal leaves the store untouched.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import example, given
from hypothesis import strategies as st

from skill.testing import TEST_CERT_URL, TestChain, make_chain
from skill.verification import SIGNATURE_HEADER
from tests.fuzz.support import (
    FUZZ,
    check_answer,
    envelope,
    intent,
    now_stamp,
    post_signed,
    signed_app,
    store_snapshot,
)

USER = "amzn1.ask.account.replay"


@dataclass
class MovableClock:
    """The verifiers' "now": real time plus an offset the test moves forward."""

    offset: dt.timedelta = field(default_factory=dt.timedelta)

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset


@pytest.fixture(scope="module")
def clock() -> MovableClock:
    return MovableClock()


@pytest.fixture(scope="module")
def attacker() -> TestChain:
    """Someone else's chain: a root nobody trusts, and their own signing key."""
    return make_chain()


@pytest.fixture(scope="module")
def db(fuzz_dir: Path) -> Path:
    return fuzz_dir / "replay.sqlite3"


@pytest.fixture(scope="module")
def app(db: Path, fuzz_chain: TestChain, attacker: TestChain, clock: MovableClock) -> Flask:
    """The production app; S3 serves the trusted chain, except under ``.../attacker.pem``."""

    def fetch(url: str, timeout: float) -> bytes:
        return attacker.chain_pem if url.endswith("attacker.pem") else fuzz_chain.chain_pem

    app = signed_app(db, fuzz_chain, fetcher=fetch, clock=clock, storage="sqlite",
                     dev_skip_verification=False)
    client = app.test_client()
    body = json.dumps(envelope(intent("CheckInIntent", {"answer": "a calm day"}), user_id=USER)).encode()
    assert post_signed(client, fuzz_chain, body)[0] == 200
    return app


@pytest.fixture(scope="module")
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def _body(skew_s: float = 0.0, request: dict[str, object] | None = None) -> bytes:
    env = envelope(request or intent("CheckInIntent", {"answer": "a long day"}), user_id=USER)
    env["request"]["timestamp"] = now_stamp(skew_s)
    return json.dumps(env).encode()


def _refused(client: FlaskClient, db: Path, body: bytes, headers: dict[str, str]) -> str:
    """Send ``body`` with exactly ``headers``; assert a 400 that changed nothing stored."""
    before = store_snapshot(db)
    response = client.post("/", data=body, headers=headers)
    text = response.get_data(as_text=True)
    assert response.status_code == 400, text[:200]
    check_answer(400, text)
    assert store_snapshot(db) == before
    return str(json.loads(text).get("reason", ""))


@FUZZ
@given(skew=st.one_of(st.integers(-140, 140), st.integers(160, 10**7), st.integers(-(10**7), -160)))
@example(skew=0)
@example(skew=140)
@example(skew=-140)
@example(skew=160)
@example(skew=-160)
def test_clock_skew(client: FlaskClient, fuzz_chain: TestChain, db: Path, skew: int) -> None:
    """If a signed request's timestamp is within 150 s of now (either way), then it is answered;
    if it is further off (a stale replay, or a device clock far ahead), then it gets 400 and
    nothing is stored. (140..160 s is left out: the clock moves while the test runs.)"""
    body = _body(skew)
    if abs(skew) <= 140:
        status, text = post_signed(client, fuzz_chain, body)
        check_answer(status, text, "IntentRequest", True)
        assert status == 200
    else:
        assert _refused(client, db, body, fuzz_chain.sign(body)) == "request timestamp outside tolerance"


@FUZZ
@given(stamp=st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "now", "2026-13-01T00:00:00Z", "1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z",
                     "2026-02-30T10:00:00Z", "0", "-1", "NaN", "T", "Z"]),
))
def test_malformed_timestamps_get_400(client: FlaskClient, fuzz_chain: TestChain, db: Path,
                                      stamp: str) -> None:
    """If the timestamp is not a recent ISO-8601 time, then the signed request gets 400."""
    env = json.loads(_body())
    env["request"]["timestamp"] = stamp
    body = json.dumps(env).encode()
    _refused(client, db, body, fuzz_chain.sign(body))


@pytest.mark.parametrize("form", ["%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%S+00:00", "%Y-%m-%dT%H:%M:%S"])
def test_other_iso_forms_are_read(client: FlaskClient, fuzz_chain: TestChain, form: str) -> None:
    """If the timestamp carries fractions, an explicit offset or no zone (read as UTC), then a
    recent one is answered."""
    env = json.loads(_body())
    env["request"]["timestamp"] = dt.datetime.now(dt.UTC).strftime(form)
    body = json.dumps(env).encode()
    assert post_signed(client, fuzz_chain, body)[0] == 200


def test_replay_within_150s_is_answered_again(client: FlaskClient, fuzz_chain: TestChain) -> None:
    """If a genuine signed request is replayed within 150 s, then it is answered again: Alexa's
    rules bound the timestamp only (documented decision, docs/reliability.md)."""
    body = _body(request={"type": "LaunchRequest"})
    headers = fuzz_chain.sign(body)
    first = client.post("/", data=body, headers=headers)
    again = client.post("/", data=body, headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)


@FUZZ
@given(later_s=st.one_of(st.integers(0, 120), st.integers(151, 10**6)))
@example(later_s=151)
def test_replay_after_150s_is_refused(client: FlaskClient, fuzz_chain: TestChain, db: Path,
                                      clock: MovableClock, later_s: int) -> None:
    """If a signed request that was answered is replayed more than 150 s later, then it gets 400
    and changes nothing; within the window it is still answered."""
    body = _body()
    headers = fuzz_chain.sign(body)
    clock.offset = dt.timedelta(0)
    assert client.post("/", data=body, headers=headers).status_code == 200
    clock.offset = dt.timedelta(seconds=later_s)
    try:
        if later_s <= 120:
            assert client.post("/", data=body, headers=headers).status_code == 200
        else:
            _refused(client, db, body, headers)
    finally:
        clock.offset = dt.timedelta(0)


@FUZZ
@given(data=st.data())
def test_tampered_body_is_refused(client: FlaskClient, fuzz_chain: TestChain, db: Path,
                                  data: st.DataObject) -> None:
    """If any byte of a signed body changes after signing, then the request gets 400 and nothing
    is stored."""
    body = bytearray(_body())
    index = data.draw(st.integers(0, len(body) - 1), label="index")
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != body[index]), label="byte")
    headers = fuzz_chain.sign(bytes(body))
    body[index] = byte
    _refused(client, db, bytes(body), headers)


@pytest.mark.parametrize("change", [
    (b'"a long day"', b'"zzz, delete"'),
    (b'"CheckInIntent"', b'"DeleteMyDataIntent"'),
    (b'"en-US"', b'"ja-JP"'),
])
def test_tampered_body_resigned_by_someone_else_is_refused(
    client: FlaskClient, fuzz_chain: TestChain, attacker: TestChain, db: Path, change: tuple[bytes, bytes]
) -> None:
    """If a body is changed and re-signed with another key, then it gets 400, whether the
    headers point at Amazon's certificate (signature mismatch) or at one the attacker serves
    (chain not trusted)."""
    body = _body().replace(*change)
    assert _refused(client, db, body, attacker.sign(body)) == "request signature does not match the body"
    own_url = TEST_CERT_URL.replace("echo-api-cert-test.pem", "attacker.pem")
    reason = _refused(client, db, body, attacker.sign(body, cert_url=own_url))
    assert reason.startswith("certificate chain rejected")


@FUZZ
@given(signature=st.one_of(
    st.text(st.characters(min_codepoint=32, max_codepoint=255, blacklist_characters="\x7f"), max_size=400),
    st.binary(max_size=300).map(lambda b: base64.b64encode(b).decode()),
))
def test_forged_signatures_are_refused(client: FlaskClient, fuzz_chain: TestChain, db: Path,
                                       signature: str) -> None:
    """If the Signature-256 header holds anything but Amazon's signature of the body, then 400."""
    body = _body()
    headers = {**fuzz_chain.sign(body), SIGNATURE_HEADER: signature}
    _refused(client, db, body, headers)
