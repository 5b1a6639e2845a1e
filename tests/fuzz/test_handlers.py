"""Property tests of the handlers: random conversations and garbage slot values, signed and real.

A request Alexa could really send (any intent of the model or an unknown one, any slot value,
in any order within a session whose attributes came from the skill's own previous answer) must
be answered with something to hear, and must never fall through to a catch-all: a crash logged
by the exception handler or the edge fails the property even though the person heard an apology.
Garbage the skill never produced itself (forged session attributes, unknown locales) only has to
get a well-formed answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import example, given, settings
from hypothesis import strategies as st

from skill.reflection import MAX_MS, MIN_MS, parse_iso_duration
from skill.simulator.conversation import Conversation
from skill.simulator.nlu import SlotValue, load_model
from skill.storage.records import UserRecord
from skill.testing import TestChain
from tests.fuzz.support import (
    FUZZ,
    RecordLog,
    check_answer,
    envelope,
    intent,
    post_signed,
    says_one_of,
    signed_app,
    speech_of,
    store_snapshot,
)

LOCALES = ["en-US", "ja-JP"]
MODEL = load_model("en-US")["interactionModel"]["languageModel"]["intents"]
SLOTS = {i["name"]: [s["name"] for s in i.get("slots", [])] for i in MODEL}
INTENTS = sorted(SLOTS)
UNKNOWN_INTENTS = ["UnknownIntent", "AMAZON.SearchAction<object@WeatherForecast>", "AMAZON.MoreIntent",
                   "AMAZON.SelectIntent", "AMAZON.ScrollDownIntent", "HelloWorldIntent"]
EVENTS = ["AudioPlayer.PlaybackStarted", "AudioPlayer.PlaybackStopped", "AudioPlayer.PlaybackFinished",
          "AudioPlayer.PlaybackNearlyFinished", "PlaybackController.PlayCommandIssued",
          "PlaybackController.PauseCommandIssued", "PlaybackController.NextCommandIssued",
          "PlaybackController.PreviousCommandIssued"]

#: Slot values a person (or Alexa's NLU) could produce: empty, long, emoji, mixed scripts,
#: markup-looking text, control and bidi characters.
SLOT_TEXT = st.one_of(
    st.just(""),
    st.text(max_size=60),
    st.text(min_size=500, max_size=3000),
    st.text(alphabet="😀😢🙏🏽👨‍👩‍👧❤️🔥 ", min_size=1, max_size=30),
    st.text(alphabet="abcあいうカタカナ漢字한글кириллицаعربى ", min_size=1, max_size=60),
    st.sampled_from(["<speak>hi</speak>", "&amp; & < > \" '", "]]>", "<break time='10s'/>",
                     "\x00\x01\x1b[31m", "\u202eevil", "{placeholder}", "{0}", "%s %d", "None",
                     "null", "PT2M", "asking for help", "助けを求める", "I want to end my life"]),
)
DURATION = st.one_of(
    st.from_regex(r"-?P(\d{1,6}[DWY])?(T(\d{1,6}H)?(\d{1,6}M)?(\d{1,6}(\.\d{1,3})?S)?)?", fullmatch=True),
    SLOT_TEXT,
)
LOCALE_TEXT = st.one_of(st.sampled_from(["en-US", "ja-JP", "en-GB", "en-IN", "ja", "EN-us", "ja_JP",
                                         "", "fr-FR", "de-DE", "zz", "x" * 100]),
                        st.text(max_size=12))


@pytest.fixture(scope="module")
def db(fuzz_dir: Path) -> Path:
    return fuzz_dir / "handlers.sqlite3"


@pytest.fixture(scope="module")
def app(db: Path, fuzz_chain: TestChain) -> Flask:
    return signed_app(db, fuzz_chain, storage="sqlite", dev_skip_verification=False)


@pytest.fixture(scope="module")
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="module")
def crashes() -> Iterator[RecordLog]:
    log = RecordLog().attach("skill")
    yield log
    log.detach("skill")


class SignedDevice:
    """A Conversation whose every request is signed and checked against the contract."""

    def __init__(self, client: FlaskClient, chain: TestChain, crashes: RecordLog) -> None:
        self.client, self.chain, self.crashes = client, chain, crashes
        self.trail: list[str] = []

    def __call__(self, env: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        request = env["request"]
        label = request.get("intent", {}).get("name") or request["type"]
        slots = {k: v.get("value") for k, v in (request.get("intent", {}).get("slots") or {}).items()}
        self.trail.append(f"{label} {slots if slots else ''} state={self._state(env)}")
        self.crashes.clear()
        status, text = post_signed(self.client, self.chain, json.dumps(env).encode())
        payload = check_answer(status, text, request["type"], "session" in env)
        assert status == 200, f"{status} {text[:200]}\n" + "\n".join(self.trail)
        assert not self.crashes.crashes(), f"{self.crashes.crashes()} after:\n" + "\n".join(self.trail)
        return status, payload or {}

    @staticmethod
    def _state(env: Mapping[str, Any]) -> str:
        return str(((env.get("session") or {}).get("attributes") or {}).get("state", "-"))


def device(client: FlaskClient, chain: TestChain, crashes: RecordLog, locale: str,
           user: str) -> tuple[Conversation, SignedDevice]:
    transport = SignedDevice(client, chain, crashes)
    return Conversation(transport, locale=locale, user_id=user), transport


STEP = st.one_of(
    st.tuples(st.just("intent"), st.sampled_from(INTENTS), st.none()),
    st.tuples(st.just("intent"), st.sampled_from(INTENTS), st.dictionaries(
        st.sampled_from(["answer", "topic", "duration", "extra", "value"]), SLOT_TEXT, max_size=2)),
    st.tuples(st.just("unknown"), st.sampled_from(UNKNOWN_INTENTS), st.none()),
    st.tuples(st.just("launch"), st.none(), st.none()),
    st.tuples(st.just("end"), st.sampled_from(["USER_INITIATED", "ERROR", "EXCEEDED_MAX_REPROMPTS"]),
              st.none()),
    st.tuples(st.just("event"), st.sampled_from(EVENTS), st.integers(-10**6, 10**8)),
)


@settings(FUZZ, max_examples=200)
@given(locale=st.sampled_from(LOCALES), steps=st.lists(STEP, min_size=1, max_size=10),
       user=st.integers(0, 10**9))
def test_random_conversations_never_crash(client: FlaskClient, fuzz_chain: TestChain, db: Path,
                                          crashes: RecordLog, locale: str,
                                          steps: list[tuple[str, Any, Any]], user: int) -> None:
    """If a person says anything, in any order, in a session the skill itself carried, then
    every answer is well-formed, something is heard, no catch-all runs, and what is stored
    still reads as a valid record."""
    user_id = f"amzn1.ask.account.walk-{user}"
    conversation, _ = device(client, fuzz_chain, crashes, locale, user_id)
    for kind, name, extra in steps:
        if kind == "launch":
            conversation.launch()
        elif kind == "end":
            conversation.end(name)
        elif kind == "event":
            conversation.event(name, {"offsetInMilliseconds": str(extra)} if "Playback" in name else {})
        elif kind == "unknown":
            conversation.send(intent(name))
        elif extra is None:
            conversation.intent(name)
        else:
            # Slots the model names for this intent are filled; others are sent as unknown slots.
            conversation.send(intent(name, extra))
    stored = store_snapshot(db).get(user_id)
    if stored is not None:
        UserRecord.from_attributes(json.loads(stored[1]))


@FUZZ
@given(locale=st.sampled_from(LOCALES), answer=SLOT_TEXT, state=st.sampled_from(
    ["menu", "checkin", "crisis", "lesson:offer", "reflection_offer", "confirm_delete"]),
    user=st.integers(0, 10**9))
@example(locale="en-US", answer="", state="checkin", user=1)
@example(locale="ja-JP", answer="😢" * 40, state="checkin", user=2)
@example(locale="en-US", answer="x" * 3000, state="menu", user=3)
def test_free_speech_is_answered_and_never_echoed_or_stored(
    client: FlaskClient, fuzz_chain: TestChain, db: Path, crashes: RecordLog,
    locale: str, answer: str, state: str, user: int
) -> None:
    """If CheckInIntent.answer holds anything at all, then the person hears a well-formed answer,
    and the words (marked) appear neither in the response nor in the store."""
    marked = f"{answer} qzxv{user}"
    user_id = f"amzn1.ask.account.free-{user}"
    conversation, _ = device(client, fuzz_chain, crashes, locale, user_id)
    conversation.launch()
    if state == "checkin":
        conversation.intent("CheckInStartIntent")
    _, payload = conversation.intent("CheckInIntent", {"answer": SlotValue(marked)})
    assert speech_of(payload)
    assert f"qzxv{user}" not in json.dumps(payload, ensure_ascii=False)
    assert f"qzxv{user}" not in json.dumps(store_snapshot(db), ensure_ascii=False)


@FUZZ
@given(locale=st.sampled_from(LOCALES), topic=SLOT_TEXT, audio_player=st.booleans(),
       user=st.integers(0, 10**9))
@example(locale="en-US", topic="", audio_player=True, user=1)
@example(locale="ja-JP", topic="助け", audio_player=False, user=2)
def test_any_lesson_topic_is_answered(client: FlaskClient, fuzz_chain: TestChain, crashes: RecordLog,
                                      locale: str, topic: str, audio_player: bool, user: int) -> None:
    """If PlayLessonIntent.topic holds anything, then a lesson plays or the person is offered
    the list: never a crash, and the topic is never spoken back."""
    conversation, _ = device(client, fuzz_chain, crashes, locale, f"amzn1.ask.account.topic-{user}")
    conversation.audio_player = audio_player
    _, payload = conversation.intent("PlayLessonIntent", {"topic": SlotValue(f"{topic} qzxv{user}")})
    directives = [d["type"] for d in payload["response"].get("directives") or []]
    assert "AudioPlayer.Play" in directives or speech_of(payload)
    assert f"qzxv{user}" not in json.dumps(payload, ensure_ascii=False)


@FUZZ
@given(locale=st.sampled_from(LOCALES), duration=DURATION, user=st.integers(0, 10**9))
@example(locale="en-US", duration="PT-5M", user=1)
@example(locale="en-US", duration="P99999D", user=2)
@example(locale="ja-JP", duration="PT", user=3)
@example(locale="en-US", duration="P", user=4)
@example(locale="en-US", duration="PT0S", user=5)
@example(locale="en-US", duration="-PT5M", user=6)
@example(locale="ja-JP", duration="PT５M", user=7)
@example(locale="en-US", duration="P1Y", user=8)
@example(locale="en-US", duration="PT10000M", user=9)
@example(locale="en-US", duration="PT59S", user=10)
@example(locale="en-US", duration="PT601S", user=11)
@example(locale="en-US", duration="pt2m", user=12)
@example(locale="en-US", duration="PT1.5M", user=13)
@example(locale="en-US", duration="PT99999999999999999999H", user=14)
def test_any_duration_starts_or_offers(client: FlaskClient, fuzz_chain: TestChain, crashes: RecordLog,
                                       locale: str, duration: str, user: int) -> None:
    """If StartReflectionIntent.duration is anything, then a reflection starts when it reads as
    1 to 10 minutes, and otherwise the person is offered a length they can say yes to."""
    conversation, _ = device(client, fuzz_chain, crashes, locale, f"amzn1.ask.account.dur-{user}")
    conversation.launch()
    _, payload = conversation.intent("StartReflectionIntent", {"duration": SlotValue(duration)})
    state = payload["sessionAttributes"].get("state")
    parsed = parse_iso_duration(duration) if duration else None
    if not duration or (parsed is not None and MIN_MS <= parsed <= MAX_MS):
        assert state == "reflection:facts"
    else:
        assert state == "reflection_offer"
        assert says_one_of(payload, locale, "reflection.out_of_range", "reflection.out_of_range.one")
        _, accepted = conversation.intent("AMAZON.YesIntent")
        assert accepted["sessionAttributes"].get("state") == "reflection:facts"


def test_absurdly_long_duration_gets_the_offer(client: FlaskClient, fuzz_chain: TestChain,
                                               crashes: RecordLog) -> None:
    """If the duration has hundreds of digits, then the out-of-range offer is made, no crash."""
    conversation, _ = device(client, fuzz_chain, crashes, "en-US", "amzn1.ask.account.dur-inf")
    conversation.intent("StartReflectionIntent", {"duration": SlotValue("PT" + "9" * 400 + "M")})


# ------------------------------------------------------------------------- forged or odd envelopes


@FUZZ
@given(attributes=st.dictionaries(
    st.sampled_from(["state", "said", "reflection", "checkin", "lesson_offer", "lesson_current",
                     "offer_ms", "last_intro", "junk"]),
    st.one_of(st.sampled_from(["menu", "reflection:facts", "reflection:closing", "crisis", "checkin",
                               "lesson:offer", "lesson:heard", "confirm_delete", "reflection_offer"]),
              st.none(), st.integers(), st.text(max_size=20), st.lists(st.integers(), max_size=3),
              st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8), max_size=3))),
    name=st.sampled_from(INTENTS), value=SLOT_TEXT, locale=st.sampled_from(LOCALES))
def test_forged_session_attributes_get_a_well_formed_answer(
    client: FlaskClient, fuzz_chain: TestChain, db: Path, attributes: dict[str, Any], name: str,
    value: str, locale: str
) -> None:
    """If the session attributes are garbage the skill never wrote, then the answer is still a
    well-formed 200 with something to hear (an apology at worst), never a 500."""
    slots = {slot: value for slot in SLOTS[name]}
    env = envelope(intent(name, slots), session=attributes, locale=locale,
                   user_id="amzn1.ask.account.forged")
    status, text = post_signed(client, fuzz_chain, json.dumps(env).encode())
    check_answer(status, text, "IntentRequest", True)
    assert status == 200


@FUZZ
@given(locale=LOCALE_TEXT, name=st.sampled_from(["LaunchRequest", *INTENTS]))
@example(locale="fr-FR", name="LaunchRequest")
@example(locale="en-GB", name="PlayLessonIntent")
def test_any_locale_string_is_answered(client: FlaskClient, fuzz_chain: TestChain, locale: str,
                                       name: str) -> None:
    """If the locale is any string, then the answer is a 4xx or a well-formed spoken response."""
    request = {"type": name} if name == "LaunchRequest" else intent(name)
    env = envelope(request, locale=locale, user_id="amzn1.ask.account.locale")
    status, text = post_signed(client, fuzz_chain, json.dumps(env).encode())
    check_answer(status, text, request["type"], True)


@pytest.mark.parametrize("locale", ["fr-FR", "de-DE"])
def test_unsupported_locale_says_so(client: FlaskClient, fuzz_chain: TestChain, crashes: RecordLog,
                                    locale: str) -> None:
    """If the locale has no catalog, then the person hears that only English and Japanese are
    spoken (error.unsupported_locale), and nothing crashes."""
    crashes.clear()
    env = envelope({"type": "LaunchRequest"}, locale=locale, user_id="amzn1.ask.account.fr")
    status, text = post_signed(client, fuzz_chain, json.dumps(env).encode())
    payload = check_answer(status, text, "LaunchRequest", True)
    assert says_one_of(payload, "en-US", "error.unsupported_locale")
    assert not crashes.crashes()


@FUZZ
@given(event=st.sampled_from(EVENTS), token=st.one_of(
    st.sampled_from(["lesson:v1:en-US:why-hard", "lesson:v1:ja-JP:why-hard", "lesson:v1:en-US:gone",
                     "lesson:v2:en-US:why-hard", "lesson:v1:fr-FR:why-hard", ""]),
    st.text(max_size=80)), offset=st.integers(-(2**31), 2**53), player=st.sampled_from(
    ["IDLE", "PLAYING", "PAUSED", "STOPPED", "FINISHED", "BUFFER_UNDERRUN"]))
def test_player_events_are_silent(client: FlaskClient, fuzz_chain: TestChain, crashes: RecordLog,
                                  event: str, token: str, offset: int, player: str) -> None:
    """If an AudioPlayer or PlaybackController event carries any token and offset, then the
    answer is a 4xx or a 200 without speech, and no catch-all runs."""
    crashes.clear()
    request: dict[str, Any] = {"type": event}
    if event.startswith("AudioPlayer."):
        request.update(token=token, offsetInMilliseconds=offset)
    env = envelope(request, session=False, user_id="amzn1.ask.account.player")
    env["context"]["AudioPlayer"] = {"playerActivity": player, "token": token,
                                     "offsetInMilliseconds": offset}
    status, text = post_signed(client, fuzz_chain, json.dumps(env).encode())
    check_answer(status, text, event, False)
    assert not crashes.crashes(), crashes.crashes()


def test_ssml_pattern_of_check_answer_is_strict() -> None:
    """If a response's SSML had unescaped text, then the contract check would reject it (so the
    properties above really check that the speech parses)."""
    body = json.dumps({"version": "1.0", "response": {"outputSpeech": {
        "type": "SSML", "ssml": "<speak>fish & chips</speak>"}}})
    with pytest.raises(Exception, match=re.escape("not well-formed")):
        check_answer(200, body)
