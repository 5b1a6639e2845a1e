"""Plan a timed reflection: which words, how much silence where, and one response per stage.

The stages follow staged self-disclosure (content brief, section 1): **facts** (what happened),
**feelings** (one named feeling), **meaning** (what it says about what matters; what you might
share with someone you trust) and **closing** (one small next step). Each stage is one response:
a short prompt, real silence, then a soft cue. The first response starts with a calming intro
clip when one fits; after the last stage, "next" (or silence, via the reprompt) brings the
closing words and the session ends.

The planned length (intro audio + estimated speech + silence) matches the requested duration:
silence is whatever the words leave, shared out by stage weight, never dumped at the end.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from skill.errors import ReflectionError
from skill.reflection.timing import SpeakingRate, estimate_ms

#: The disclosure stages, in order, with their share of the silence.
STAGES: tuple[tuple[str, float], ...] = (
    ("facts", 0.20),
    ("feelings", 0.30),
    ("meaning", 0.30),
    ("closing", 0.20),
)
MIN_MS = 60_000
MAX_MS = 600_000
DEFAULT_MS = 120_000
#: Any parsed duration is capped here (a year): beyond it, only "too long" matters.
MAX_PARSED_MS = 365 * 24 * 3_600_000
#: Longest single response we plan (the platform caps <audio> in one response at 240 s).
MAX_RESPONSE_MS = 240_000
#: An intro clip is used only when it takes at most this share of the whole reflection.
MAX_INTRO_SHARE = 0.30
#: Every stage keeps at least this much silence, or the plan is refused.
MIN_STAGE_SILENCE_MS = 3_000


class PlanError(ReflectionError):
    """Raised when the words alone would not fit the requested duration."""


_NUM = r"(\d+(?:\.\d+)?)"
_ISO = re.compile(rf"^P(?:{_NUM}D)?(?:T(?:{_NUM}H)?(?:{_NUM}M)?(?:{_NUM}S)?)?$")


def parse_iso_duration(value: str | None) -> int | None:
    """Milliseconds of an ISO-8601 duration (``PT2M``, ``PT90S``, ``PT1.5M``), else ``None``."""
    if not value:
        return None
    match = _ISO.match(value.strip().upper())
    if not match or not any(match.groups()):
        return None
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    total = ((days * 24 + hours) * 60 + minutes) * 60_000 + seconds * 1000
    # Absurd lengths (hundreds of digits overflow to inf) are simply "too long".
    return round(min(total, MAX_PARSED_MS)) if math.isfinite(total) else MAX_PARSED_MS


@dataclass(frozen=True)
class StageText:
    """The chosen words of one stage: its prompt and its soft cue."""

    prompt: str
    cue: str


@dataclass(frozen=True)
class PlannedStage:
    """One stage as it will be spoken: words, estimated speech time and silence."""

    name: str
    speech_ms: int
    silence_ms: int

    @property
    def total_ms(self) -> int:
        return self.speech_ms + self.silence_ms


@dataclass(frozen=True)
class ReflectionPlan:
    """A whole reflection: what plays in each response, and for how long."""

    requested_ms: int
    intro_id: str | None
    intro_ms: int
    opening_ms: int
    closing_ms: int
    stages: tuple[PlannedStage, ...]
    #: Short reflections leave out the opening line and the stage cues (the reprompt still says
    #: how to go on), so that every stage keeps real silence.
    compact: bool = False

    @property
    def planned_ms(self) -> int:
        """Intro + opening + every stage + closing words."""
        return self.intro_ms + self.opening_ms + sum(s.total_ms for s in self.stages) + self.closing_ms

    def response_ms(self, index: int) -> int:
        """Length of the response that carries stage ``index`` (the first adds the intro and
        opening). The closing words are a short response of their own."""
        total = self.stages[index].total_ms
        if index == 0:
            total += self.intro_ms + self.opening_ms
        return total

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReflectionPlan:
        stages = tuple(PlannedStage(**s) for s in data["stages"])
        return cls(
            requested_ms=int(data["requested_ms"]), intro_id=data.get("intro_id"),
            intro_ms=int(data["intro_ms"]), opening_ms=int(data["opening_ms"]),
            closing_ms=int(data["closing_ms"]), stages=stages, compact=bool(data.get("compact")),
        )


def plan_reflection(
    requested_ms: int,
    stage_texts: Sequence[StageText],
    opening: str,
    closing: str,
    rate: SpeakingRate,
    intros: Sequence[tuple[str, int]] = (),
) -> ReflectionPlan:
    """Share the requested time between words and silence.

    :param requested_ms: the reflection's length, already within ``MIN_MS``..``MAX_MS``.
    :param stage_texts: the chosen prompt and cue of each stage, in ``STAGES`` order.
    :param opening: the words after the intro, before the first stage.
    :param closing: the words after the last stage.
    :param rate: the locale's speaking rate.
    :param intros: candidate intro clips ``(id, duration_ms)``, preferred first; the first that
        fits ``MAX_INTRO_SHARE`` of the time is used.
    :raises PlanError: if even the compact plan leaves a stage less than
        ``MIN_STAGE_SILENCE_MS`` of silence, or a response would exceed ``MAX_RESPONSE_MS``.
    """
    try:
        return _plan(requested_ms, stage_texts, opening, closing, rate, intros, compact=False)
    except PlanError:
        return _plan(requested_ms, stage_texts, opening, closing, rate, intros, compact=True)


def _plan(
    requested_ms: int,
    stage_texts: Sequence[StageText],
    opening: str,
    closing: str,
    rate: SpeakingRate,
    intros: Sequence[tuple[str, int]],
    compact: bool,
) -> ReflectionPlan:
    if len(stage_texts) != len(STAGES):
        raise PlanError(f"expected {len(STAGES)} stages, got {len(stage_texts)}")
    intro_id, intro_ms = next(
        ((i, ms) for i, ms in intros if ms <= requested_ms * MAX_INTRO_SHARE), (None, 0)
    )
    speech = [estimate_ms(t.prompt, rate) + (0 if compact else estimate_ms(t.cue, rate))
              for t in stage_texts]
    opening_ms = 0 if compact else estimate_ms(opening, rate)
    closing_ms = estimate_ms(closing, rate)
    silence_total = requested_ms - intro_ms - opening_ms - closing_ms - sum(speech)
    silences = [round(silence_total * weight) for _, weight in STAGES]
    silences[-1] += silence_total - sum(silences)  # rounding remainder stays in the plan
    if min(silences) < MIN_STAGE_SILENCE_MS:
        raise PlanError(f"{requested_ms} ms is too short for the words ({sum(speech)} ms of speech)")
    plan = ReflectionPlan(
        requested_ms=requested_ms, intro_id=intro_id, intro_ms=intro_ms,
        opening_ms=opening_ms, closing_ms=closing_ms, compact=compact,
        stages=tuple(
            PlannedStage(name, speech_ms, silence_ms)
            for (name, _), speech_ms, silence_ms in zip(STAGES, speech, silences, strict=True)
        ),
    )
    for index in range(len(plan.stages)):
        if plan.response_ms(index) > MAX_RESPONSE_MS:
            raise PlanError(f"stage {plan.stages[index].name} would run {plan.response_ms(index)} ms")
    return plan
