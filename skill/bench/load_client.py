"""The client side of ``python -m skill bench load``: simulated people, signed requests, checks.

Every request is a real envelope built by :class:`~skill.simulator.conversation.Conversation`,
serialised once, signed over exactly those bytes as Alexa signs (:meth:`TestChain.sign`) and
posted over one HTTP connection per client thread. Latency is measured from sending the request
to reading the whole response: building and signing the request are excluded.

Each :class:`SimUser` keeps an :class:`Expected` account of what its successful requests must
have stored; :func:`compare` holds the stored record against it afterwards.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import http.client
import json
import queue
import random
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from skill.checkin import analyze
from skill.lessons.catalog import load_lessons
from skill.reflection import STAGES
from skill.simulator.conversation import DEFAULT_SKILL_ID, Conversation
from skill.simulator.nlu import SlotValue, resolver_for
from skill.speech import load_catalog
from skill.storage import MAX_CHECKIN_TAGS, CheckinTag, LessonProgress, UserRecord
from skill.testing import TestChain

LOCALES = ("en-US", "ja-JP")
STAGE_NAMES = tuple(name for name, _ in STAGES)
#: What each simulated person says, per locale (sent as slot values, as Alexa would).
ANSWERS = {"en-US": "rough because of work", "ja-JP": "仕事で疲れました"}
#: Free speech the check-in engine reads as crisis (the hot-user phase counts these).
CRISIS_ANSWER = "i want to end my life"
LESSON_REQUEST = {"en-US": "play a lesson on asking for help", "ja-JP": "助けを求めるレッスンを再生して"}
HOT_USER = "amzn1.ask.account.bench-load-hot-user"
REQUESTS_PER_CYCLE = 12
_TAGS = re.compile(r"<[^>]+>")

Send = Callable[[], tuple[int, dict[str, Any]]]
Check = Callable[[dict[str, Any]], "str | None"]


@dataclass
class Sample:
    """One request: when it started (``perf_counter``), how long it took (ms), which step."""

    start: float
    ms: float
    step: str


class Transport:
    """One HTTP connection to ``127.0.0.1:port`` that signs and posts envelopes.

    Reconnects when the server closes (sync workers close after each response; gthread workers
    keep the connection alive). Each request appends a :class:`Sample` to ``samples``.

    :param one_per_connection: the server closes the connection after every response (gunicorn's
        sync workers). Each request then says ``Connection: close`` and, once sent, shuts the
        write side (TCP FIN: nothing more will come). gunicorn closes a connection gracefully,
        holding the worker until the client's FIN arrives; from a client thread that has to win
        the GIL back first, that FIN came about 0.7 ms after each response, time in which the
        worker could serve no one (measured: 16% of the skill's worker time, 29% of the
        baseline's; docs/benchmarks.md). A buffering proxy or Alexa's own front end closes at
        once; so does this client now.
    """

    def __init__(self, port: int, chain: TestChain, samples: list[Sample],
                 one_per_connection: bool = False) -> None:
        self.chain = chain
        self.samples = samples
        self.step = ""
        self.one_per_connection = one_per_connection
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def __call__(self, envelope: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = self.chain.sign(body)
        if self.one_per_connection:
            headers["Connection"] = "close"
        start = time.perf_counter()
        try:
            self.conn.request("POST", "/", body=body, headers=headers)
            if self.one_per_connection and self.conn.sock is not None:
                self.conn.sock.shutdown(socket.SHUT_WR)
            response = self.conn.getresponse()
            data = response.read()
            status = response.status
            if response.will_close:
                self.conn.close()
        except (OSError, http.client.HTTPException) as exc:
            self.conn.close()
            self.samples.append(Sample(start, (time.perf_counter() - start) * 1000, self.step))
            return 0, {"transport_error": type(exc).__name__}
        self.samples.append(Sample(start, (time.perf_counter() - start) * 1000, self.step))
        try:
            payload = json.loads(data) if data else {}
        except ValueError:
            payload = {}
        return status, payload if isinstance(payload, dict) else {}

    def close(self) -> None:
        self.conn.close()


# --------------------------------------------------------------------------- reading responses


def speech_text(payload: dict[str, Any]) -> str:
    """The plain text of a response's speech ("" when there is none)."""
    response = payload.get("response") or {}
    ssml = str((response.get("outputSpeech") or {}).get("ssml", ""))
    return html.unescape(_TAGS.sub(" ", ssml)).strip()


@cache
def apology_phrasings() -> tuple[str, ...]:
    """Every phrasing of the error messages the skill apologises with, in every locale."""
    catalog = load_catalog()
    phrasings: list[str] = []
    for locale in LOCALES:
        messages = catalog.for_locale(locale).messages
        for key in ("error.generic", "error.storage"):
            phrasings.extend(messages.get(key, ()))
    return tuple(p for p in phrasings if "{" not in p)


def is_apology(payload: dict[str, Any]) -> bool:
    """Whether the response is the skill's spoken apology (an error handler answered)."""
    text = speech_text(payload)
    return bool(text) and any(p in text for p in apology_phrasings())


def directives(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return list((payload.get("response") or {}).get("directives") or [])


def session_state(payload: dict[str, Any]) -> str | None:
    """The conversation state the skill left in the session attributes, if any."""
    attrs = payload.get("sessionAttributes")
    return str(attrs.get("state")) if isinstance(attrs, dict) and attrs.get("state") else None


def utc_today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


# --------------------------------------------------------------------------- expectations


@dataclass
class Expected:
    """What the client knows it did to one user: only requests that visibly succeeded."""

    locale: str | None = None
    prompts: list[str] = field(default_factory=list)
    reflections: list[dt.date] = field(default_factory=list)
    tags: list[CheckinTag] = field(default_factory=list)
    lesson: tuple[str, str, int] | None = None
    crisis: int = 0

    def record(self) -> UserRecord:
        """The record these actions must have produced (the lesson's ``updated_at`` aside)."""
        record = UserRecord()
        if self.locale is not None:
            record = record.with_locale(self.locale)
        for prompt in self.prompts:
            record = record.with_prompt_used(prompt)
        for day in self.reflections:
            record = record.with_reflection(day)
        for tag in self.tags:
            record = record.with_checkin_tag(tag)
        if self.lesson is not None:
            lesson_id, locale, offset = self.lesson
            record = record.with_lesson(
                LessonProgress(lesson_id, locale, offset, False, dt.datetime.now(dt.UTC)))
        return dataclasses.replace(record, crisis_count=self.crisis)


def compare(expected: UserRecord, stored: UserRecord, relax_dates: bool = False) -> list[str]:
    """The fields in which ``stored`` differs from ``expected`` (lesson ``updated_at`` ignored).

    :param relax_dates: the run crossed UTC midnight: tags are compared without their dates and
        the streak may be one more.
    """
    diffs = []
    if stored.preferences != expected.preferences:
        diffs.append("preferences")
    if relax_dates:
        if stored.streak.count not in (expected.streak.count, expected.streak.count + 1):
            diffs.append("streak")
        if [(t.polarity, t.emotions, t.topics) for t in stored.checkin_tags] != [
                (t.polarity, t.emotions, t.topics) for t in expected.checkin_tags]:
            diffs.append("checkin_tags")
    else:
        if stored.streak != expected.streak:
            diffs.append("streak")
        if stored.checkin_tags != expected.checkin_tags:
            diffs.append("checkin_tags")
    if stored.recent_prompts != expected.recent_prompts:
        diffs.append("recent_prompts")

    def lesson_key(record: UserRecord) -> tuple[str, str, int, bool] | None:
        lesson = record.lesson
        if lesson is None:
            return None
        return lesson.lesson_id, lesson.locale, lesson.offset_ms, lesson.finished

    if lesson_key(stored) != lesson_key(expected):
        diffs.append("lesson")
    if stored.crisis_count != expected.crisis_count:
        diffs.append("crisis_count")
    if stored.ask_about_lesson != expected.ask_about_lesson:
        diffs.append("ask_about_lesson")
    return diffs


# --------------------------------------------------------------------------- simulated people


def _no_transport(envelope: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    raise RuntimeError("no transport attached")


class SimUser:
    """One person on one device going through whole sessions, again and again.

    One cycle is 12 requests: launch; "start a reflection", "next" x4 (the reflection ends);
    "how was my day", the answer; "play a lesson on asking for help" (AudioPlayer.Play, session
    ends), ``PlaybackStarted``; "stop" (AudioPlayer.Stop); ``PlaybackStopped`` at a random offset.

    :param check: check every response and keep the :class:`Expected` account (off for the
        baseline, whose answers are fixed).
    """

    def __init__(self, user_id: str, locale: str, rng: random.Random, check: bool = True) -> None:
        self.user_id = user_id
        self.locale = locale
        self.rng = rng
        self.check = check
        self.conversation = Conversation(_no_transport, locale=locale, user_id=user_id,
                                         skill_id=DEFAULT_SKILL_ID)
        self.expected = Expected()
        self.cycles = 0
        self.topic: SlotValue = resolver_for(locale).resolve(LESSON_REQUEST[locale]).slots["topic"]
        lesson = next(item for item in load_lessons(locale) if item.id == self.topic.resolved_id)
        self.lesson_id = lesson.id
        self.max_offset = max(2_000, lesson.duration_ms - 5_000)
        reading = analyze(ANSWERS[locale], locale)
        self._reading = (reading.polarity, reading.emotions, reading.topics)

    def steps(self) -> list[tuple[str, Send, Check]]:
        """The requests of one cycle, each with the check its response must pass."""
        conv = self.conversation
        offset = self.rng.randrange(1_000, self.max_offset)
        steps: list[tuple[str, Send, Check]] = [
            ("launch", conv.launch, self._launched),
            ("reflection.start", lambda: conv.intent("StartReflectionIntent"), self._reflection_started),
        ]
        for index, name in enumerate(STAGE_NAMES):
            steps.append((f"reflection.next.{name}", lambda: conv.intent("NextStepIntent"),
                          self._stage_check(index)))
        answer = {"answer": SlotValue(ANSWERS[self.locale])}
        steps += [
            ("checkin.start", lambda: conv.intent("CheckInStartIntent"), self._checkin_started),
            ("checkin.answer", lambda: conv.intent("CheckInIntent", answer), self._checkin_answered),
            ("lesson.play", lambda: conv.intent("PlayLessonIntent", {"topic": self.topic}),
             self._lesson_played),
            ("audio.started", lambda: conv.event("AudioPlayer.PlaybackStarted", {}),
             self._playback_started),
            ("lesson.stop", lambda: conv.intent("AMAZON.StopIntent"), self._lesson_stopped),
            ("audio.stopped",
             lambda: conv.event("AudioPlayer.PlaybackStopped", {"offsetInMilliseconds": str(offset)}),
             lambda payload: self._playback_stopped(payload, offset)),
        ]
        return steps

    def cycle(self, transport: Transport, errors: Counter[str], stop: Callable[[], bool]) -> None:
        """Run one cycle; stop early, between two requests, once ``stop()`` is true.

        A failed or unexpected response is counted in ``errors`` and ends the cycle.
        """
        conv = self.conversation
        conv.transport = transport
        for name, send, check in self.steps():
            if stop():
                return
            transport.step = name
            status, payload = send()
            problem = f"HTTP {status}" if status != 200 else (check(payload) if self.check else None)
            if problem is not None:
                errors[f"{name}: {problem}"] += 1
                conv.session, conv.elicit = None, None
                return
        self.cycles += 1

    # -- checks: None when the response is what the step must produce --------------------------
    @staticmethod
    def _spoken(payload: dict[str, Any]) -> str | None:
        if is_apology(payload):
            return "apology"
        return None if speech_text(payload) else "no speech"

    def _launched(self, payload: dict[str, Any]) -> str | None:
        problem = self._spoken(payload)
        if problem is None and session_state(payload) not in ("menu", "lesson:offer"):
            problem = f"state {session_state(payload)}"
        if problem is None:
            self.expected.locale = self.locale
        return problem

    def _reflection_started(self, payload: dict[str, Any]) -> str | None:
        problem = self._spoken(payload)
        if problem is None and session_state(payload) != "reflection:facts":
            problem = f"state {session_state(payload)}"
        if problem is not None:
            return problem
        chosen = payload["sessionAttributes"]["reflection"]["chosen"]
        for name in STAGE_NAMES:
            key = f"reflection.{name}.prompt"
            self.expected.prompts.append(f"{key}:{chosen[key]}")
        return None

    def _stage_check(self, index: int) -> Check:
        def check(payload: dict[str, Any]) -> str | None:
            problem = self._spoken(payload)
            if problem is not None:
                return problem
            if index + 1 < len(STAGE_NAMES):
                want = f"reflection:{STAGE_NAMES[index + 1]}"
                return None if session_state(payload) == want else f"state {session_state(payload)}"
            if (payload.get("response") or {}).get("shouldEndSession") is not True:
                return "reflection did not end"
            self.expected.reflections.append(utc_today())
            return None

        return check

    def _checkin_started(self, payload: dict[str, Any]) -> str | None:
        problem = self._spoken(payload)
        if problem is None and self.conversation.elicit is None:
            problem = "no slot elicitation"
        return problem

    def _checkin_answered(self, payload: dict[str, Any]) -> str | None:
        problem = self._spoken(payload)
        if problem is None and session_state(payload) not in ("checkin", "menu"):
            problem = f"state {session_state(payload)}"
        if problem is None:
            polarity, emotions, topics = self._reading
            self.expected.tags.append(CheckinTag(utc_today(), polarity, emotions, topics))
        return problem

    def _lesson_played(self, payload: dict[str, Any]) -> str | None:
        problem = self._spoken(payload)
        if problem is not None:
            return problem
        for directive in directives(payload):
            if directive.get("type") == "AudioPlayer.Play":
                stream = directive["audioItem"]["stream"]
                if self.lesson_id not in str(stream.get("token")):
                    return "wrong lesson"
                self.expected.lesson = (self.lesson_id, self.locale,
                                        int(stream.get("offsetInMilliseconds") or 0))
                return None
        return "no AudioPlayer.Play"

    def _playback_started(self, payload: dict[str, Any]) -> str | None:
        if speech_text(payload):
            return "speech in an AudioPlayer event response"
        offset = int(self.conversation.player.get("offsetInMilliseconds") or 0)
        self.expected.lesson = (self.lesson_id, self.locale, offset)
        return None

    def _lesson_stopped(self, payload: dict[str, Any]) -> str | None:
        if not any(d.get("type") == "AudioPlayer.Stop" for d in directives(payload)):
            return "no AudioPlayer.Stop"
        return None

    def _playback_stopped(self, payload: dict[str, Any], offset: int) -> str | None:
        if speech_text(payload):
            return "speech in an AudioPlayer event response"
        self.expected.lesson = (self.lesson_id, self.locale, offset)
        return None


def make_users(prefix: str, count: int, seed: int, check: bool = True) -> list[SimUser]:
    """``count`` users with unique ids, alternating en-US and ja-JP."""
    rng = random.Random(seed)
    return [SimUser(f"amzn1.ask.account.bench-load-{prefix}-{i:05d}", LOCALES[i % len(LOCALES)],
                    random.Random(rng.random()), check) for i in range(count)]


# --------------------------------------------------------------------------- driving


@dataclass
class Driven:
    """What one :func:`drive` call produced."""

    samples: list[Sample]
    errors: Counter[str]
    elapsed_s: float


def drive(port: int, chain: TestChain, users: Sequence[SimUser], connections: int, seconds: float,
          max_cycles: int | None = None, one_per_connection: bool = False) -> Driven:
    """Drive ``users`` through cycles on ``connections`` threads for ``seconds`` at most (and
    until each user has done ``max_cycles``). A user is driven by one connection at a time.

    :param one_per_connection: see :class:`Transport`.
    """
    pool: queue.SimpleQueue[SimUser] = queue.SimpleQueue()
    for user in users:
        if max_cycles is None or user.cycles < max_cycles:
            pool.put(user)
    samples: list[list[Sample]] = [[] for _ in range(connections)]
    errors: Counter[str] = Counter()
    lock = threading.Lock()
    busy = [0]
    start = time.perf_counter()
    deadline = start + seconds

    def stop() -> bool:
        return time.perf_counter() >= deadline

    def worker(index: int) -> None:
        transport = Transport(port, chain, samples[index], one_per_connection)
        mine: Counter[str] = Counter()
        try:
            while not stop():
                try:
                    user = pool.get(timeout=0.02)
                except queue.Empty:
                    with lock:
                        if busy[0] == 0 and pool.empty():
                            return
                    continue
                with lock:
                    busy[0] += 1
                try:
                    user.cycle(transport, mine, stop)
                finally:
                    if max_cycles is None or user.cycles < max_cycles:
                        pool.put(user)
                    with lock:
                        busy[0] -= 1
        finally:
            transport.close()
            with lock:
                errors.update(mine)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return Driven([s for per in samples for s in per], errors, time.perf_counter() - start)


@dataclass
class HotResult:
    """The same-user phase: what the client heard and what was stored."""

    connections: int = 0
    requests: int = 0
    elapsed_s: float = 0.0
    crisis_ok: int = 0
    tags_ok: int = 0
    apologies: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    conflicts_logged: int = 0
    conflict_apologies_logged: int = 0
    stored_crisis: int = 0
    stored_tags: int = 0

    @property
    def lost(self) -> int:
        """Increments the person heard confirmed but the store does not hold (tags beyond the
        stored bound, :data:`~skill.storage.MAX_CHECKIN_TAGS`, are pruned by design)."""
        tags = min(self.tags_ok, MAX_CHECKIN_TAGS)
        return max(0, self.crisis_ok - self.stored_crisis) + max(0, tags - self.stored_tags)

    @property
    def resolved(self) -> int:
        """Write conflicts that ended in a stored write rather than an apology."""
        return max(0, self.conflicts_logged - self.conflict_apologies_logged)


def hot_phase(port: int, chain: TestChain, connections: int, requests: int, seconds: float,
              one_per_connection: bool = False) -> HotResult:
    """Hit one user from ``connections`` devices at once: one-shot crisis check-ins (each adds
    one to ``crisis_count``) alternating with one-shot check-ins (each adds one tag).

    :param one_per_connection: see :class:`Transport`.
    """
    result = HotResult(connections=connections)
    lock = threading.Lock()
    budget = [requests]
    deadline = time.perf_counter() + seconds

    def take() -> bool:
        with lock:
            if budget[0] <= 0 or time.perf_counter() >= deadline:
                return False
            budget[0] -= 1
            return True

    def worker(index: int) -> None:
        transport = Transport(port, chain, [], one_per_connection)
        conv = Conversation(transport, locale="en-US", user_id=HOT_USER, skill_id=DEFAULT_SKILL_ID)
        counts: Counter[str] = Counter()
        errors: Counter[str] = Counter()
        turn = index
        while take():
            crisis = turn % 2 == 0
            turn += 1
            conv.session, conv.elicit = None, None  # a one-shot request opens its own session
            transport.step = "hot.crisis" if crisis else "hot.checkin"
            answer = SlotValue(CRISIS_ANSWER if crisis else ANSWERS["en-US"])
            status, payload = conv.intent("CheckInIntent", {"answer": answer})
            counts["requests"] += 1
            state = session_state(payload)
            if status != 200:
                errors[f"{transport.step}: HTTP {status}"] += 1
            elif is_apology(payload):
                counts["apologies"] += 1
            elif crisis and state == "crisis":
                counts["crisis_ok"] += 1
            elif not crisis and state in ("checkin", "menu") and speech_text(payload):
                counts["tags_ok"] += 1
            else:
                errors[f"{transport.step}: unexpected state {state}"] += 1
        transport.close()
        with lock:
            result.requests += counts["requests"]
            result.apologies += counts["apologies"]
            result.crisis_ok += counts["crisis_ok"]
            result.tags_ok += counts["tags_ok"]
            result.errors.update(errors)

    start = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.elapsed_s = time.perf_counter() - start
    return result
