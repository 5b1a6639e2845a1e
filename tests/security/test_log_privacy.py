"""What a person says never reaches a log, at any level, through any logger, in any flow.

The app is the production one (verification on, built from REFLECT_* only) at
REFLECT_LOG_LEVEL=DEBUG, and the root logger is opened to DEBUG too, as a host that logs
everything would (gunicorn, Lambda). Every flow runs in both locales with nonsense marker words
inside the free-form slot values (check-in answers, crisis words, lesson topics, durations,
unknown slots): the markers must appear in no log output (the JSON lines on stderr), in no
record the skill's loggers create (message, arguments, fields), in no record that reaches the
root logger (fully formatted, tracebacks included), and nowhere in the database file.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from skill.handlers import reflection
from skill.logs import JsonFormatter
from skill.simulator.conversation import Conversation
from skill.simulator.nlu import SlotValue
from skill.storage.dynamodb import DynamoDBStore, create_table, drop_table
from skill.testing import TestChain
from tests.conftest import raw_bytes
from tests.fuzz.support import SKILL_ID, RecordLog, check_answer, speech_of
from tests.storage.conftest import dynalite_endpoint  # noqa: F401 (the dynalite server fixture)

SECRETS = {
    "en-US": ("zorblax", "quindlewort"),
    "ja-JP": ("ペリカン団地", "からくり羊羹"),
}
CRISIS = {"en-US": "honestly i just want to end my life", "ja-JP": "もう死にたいってずっと思ってる"}
BAD_DAY = {"en-US": "my day was awful and my manager shouted at me",
           "ja-JP": "今日は最悪だった上司に怒鳴られた"}
HOTLINE = {"en-US": "nine eight eight", "ja-JP": "よりそいホットライン"}


class SignedTransport:
    """Posts each envelope signed with the test chain; checks the contract on every answer."""

    def __init__(self, client: FlaskClient, chain: TestChain) -> None:
        self.client, self.chain = client, chain

    def __call__(self, envelope: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        body = json.dumps(envelope).encode()
        response = self.client.post("/", data=body, headers=self.chain.sign(body))
        text = response.get_data(as_text=True)
        check_answer(response.status_code, text, envelope["request"]["type"], "session" in envelope)
        assert response.status_code == 200, text
        return response.status_code, json.loads(text)


def every_flow(app: Flask, chain: TestChain, locale: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Launch, check-in, crisis, reflection, lessons, privacy, unknown input, rejected input and
    a crash, each carrying the locale's marker words wherever free speech can arrive."""
    one, two = SECRETS[locale]
    said = f"{BAD_DAY[locale]} {one} {two}"
    c = Conversation(SignedTransport(app.test_client(), chain), locale=locale,
                     user_id=f"amzn1.ask.account.privacy-{uuid.uuid4().hex}", skill_id=SKILL_ID)

    def answer(text: str) -> dict[str, Any]:
        return c.intent("CheckInIntent", {"answer": SlotValue(text)})[1]

    c.launch()
    c.intent("CheckInStartIntent")
    for text in (said, f"{one} {two}", f"{two}"):
        answer(text)
    crisis = answer(f"{CRISIS[locale]} {one} {two}")
    assert HOTLINE[locale] in speech_of(crisis), "the crisis flow did not run"
    answer(f"{one} {two}")
    c.intent("AMAZON.RepeatIntent")
    c.intent("AMAZON.YesIntent")
    c.intent("AMAZON.StopIntent")

    c.launch()
    c.intent("StartReflectionIntent", {"duration": SlotValue(f"{one} {two}")})
    c.intent("AMAZON.YesIntent")
    answer(f"{one} {two}")
    c.say(f"{two} {one}")
    for _ in range(4):
        c.intent("NextStepIntent")

    c.launch()
    c.intent("PlayLessonIntent", {"topic": SlotValue(f"{one} {two}")})
    c.intent("PlayLessonIntent", {"topic": SlotValue(f"{one}", resolved_id=f"{two}")})
    c.intent("PlayLessonIntent")
    for event in ("AudioPlayer.PlaybackStarted", "AudioPlayer.PlaybackStopped",
                  "AudioPlayer.PlaybackFinished"):
        c.event(event, {})
    c.launch()
    answer(f"{one} {two}")
    c.intent("AMAZON.NoIntent")

    c.send({"type": "IntentRequest", "intent": {"name": "HelloWorldIntent", "slots": {
        "name": {"name": "name", "value": f"{one} {two}"}}}})
    c.send({"type": "IntentRequest", "intent": {"name": "AMAZON.HelpIntent", "slots": {
        "query": {"name": "query", "value": f"{one} {two}"}}}})
    c.intent("AMAZON.FallbackIntent")
    c.say(f"{one} {two}")
    c.intent("WhatDoYouRememberIntent")
    c.intent("DeleteMyDataIntent")
    c.intent("AMAZON.YesIntent")
    c.send({"type": "SessionEndedRequest", "reason": "ERROR",
            "error": {"type": "INVALID_RESPONSE", "message": f"{one} {two}"}})

    # Rejected input that carries the words: a tampered body, and a body that is not JSON.
    client = app.test_client()
    body = json.dumps(c.envelope(c.intent_request("CheckInIntent", {"answer": SlotValue(said)}))).encode()
    headers = chain.sign(body)
    assert client.post("/", data=body.replace(b"CheckIn", b"Checkin"), headers=headers).status_code == 400
    assert client.post("/", data=b"{" + said.encode(), headers=headers).status_code == 400

    # A bug whose exception message quotes the person.
    def crash(self: Any, handler_input: Any) -> Any:
        raise RuntimeError(f"cannot handle {said}")

    with monkeypatch.context() as patch:
        patch.setattr(reflection.StartReflectionHandler, "handle", crash)
        c.intent("StartReflectionIntent", {"duration": SlotValue(f"{one}")})


@pytest.fixture
def everything_logged() -> Iterator[tuple[RecordLog, RecordLog]]:
    """Records of the skill's loggers, and every record reaching the root logger at DEBUG."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    skill_log, root_log = RecordLog().attach("skill"), RecordLog().attach("")
    yield skill_log, root_log
    skill_log.detach("skill")
    root_log.detach("")
    root.setLevel(level)


def _leaks(skill_log: RecordLog, root_log: RecordLog, stderr: str, db_files: list[Path]) -> list[str]:
    """Every place a marker word turned up."""
    words = [w for pair in SECRETS.values() for w in pair]
    full = logging.Formatter("%(name)s %(levelname)s %(message)s")
    json_formatter = JsonFormatter()
    found = []
    for line in stderr.splitlines():
        found += [f"stderr: {line[:160]}" for w in words if w in line]
    for record in skill_log.records:
        texts = [record.getMessage(), json.dumps(getattr(record, "fields", {}), ensure_ascii=False,
                                                 default=str), json_formatter.format(record)]
        found += [f"skill record {record.name}: {record.msg!r}" for w in words for t in texts if w in t]
    for record in root_log.records:
        text = full.format(record)
        found += [f"root record {record.name}: {text[:160]}" for w in words if w in text]
    for path in db_files:
        raw = raw_bytes([path]).decode("utf-8", errors="replace")
        found += [f"stored in {path.name}" for w in words if w in raw]
    return found


@pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
def test_words_never_logged_with_sqlite(production_app: Callable[..., Flask], security_chain: TestChain,
                                        everything_logged: tuple[RecordLog, RecordLog], tmp_path: Path,
                                        capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                                        locale: str) -> None:
    """If every flow runs at DEBUG with marker words in every free-form value, then no log line,
    no log record (the skill's or the root's) and no byte of the SQLite file holds them."""
    app = production_app(REFLECT_LOG_LEVEL="DEBUG", REFLECT_SKILL_IDS=SKILL_ID)
    every_flow(app, security_chain, locale, monkeypatch)
    skill_log, root_log = everything_logged
    stderr = capfd.readouterr().err
    assert '"level": "debug"' in stderr or skill_log.records, "nothing was logged at all"
    db = tmp_path / "skill.sqlite3"
    leaks = _leaks(skill_log, root_log, stderr, [db, Path(f"{db}-wal")])
    assert not leaks, "\n".join(leaks[:10])


def test_words_never_logged_with_dynamodb(production_app: Callable[..., Flask], security_chain: TestChain,
                                          everything_logged: tuple[RecordLog, RecordLog],
                                          dynalite_endpoint: str,  # noqa: F811
                                          capfd: pytest.CaptureFixture[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """If the same flows run on DynamoDB (a local dynalite), then botocore's own DEBUG records
    (full request bodies) carry no marker words either: only derived tags are ever sent."""
    table = f"privacy-{uuid.uuid4().hex[:10]}"
    store = DynamoDBStore(table, region="us-east-1", endpoint=dynalite_endpoint)
    create_table(store)
    try:
        app = production_app(REFLECT_LOG_LEVEL="DEBUG", REFLECT_SKILL_IDS=SKILL_ID,
                             REFLECT_STORAGE="dynamodb", REFLECT_DYNAMODB_TABLE=table,
                             REFLECT_DYNAMODB_ENDPOINT=dynalite_endpoint)
        for locale in SECRETS:
            every_flow(app, security_chain, locale, monkeypatch)
        skill_log, root_log = everything_logged
        assert any(r.name.startswith("botocore") for r in root_log.records), "botocore logged nothing"
        dump = json.dumps(store.scan_raw(), ensure_ascii=False)
        leaks = _leaks(skill_log, root_log, capfd.readouterr().err, [])
        leaks += [f"stored: {w}" for pair in SECRETS.values() for w in pair if w in dump]
        assert not leaks, "\n".join(leaks[:10])
    finally:
        drop_table(store)
