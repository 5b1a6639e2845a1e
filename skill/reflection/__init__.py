"""The timed reflection: stage plan, silence budget and speech timing (no ask_sdk, no Flask)."""

from __future__ import annotations

from skill.reflection.planner import (
    DEFAULT_MS,
    MAX_MS,
    MAX_RESPONSE_MS,
    MIN_MS,
    STAGES,
    PlannedStage,
    ReflectionPlan,
    StageText,
    parse_iso_duration,
    plan_reflection,
)
from skill.reflection.timing import SpeakingRate, estimate_ms, load_rate

__all__ = [
    "DEFAULT_MS", "MAX_MS", "MAX_RESPONSE_MS", "MIN_MS", "STAGES", "PlannedStage", "ReflectionPlan",
    "SpeakingRate", "StageText", "estimate_ms", "load_rate", "parse_iso_duration", "plan_reflection",
]
