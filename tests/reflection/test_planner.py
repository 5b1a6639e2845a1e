"""The reflection planner: words first, silence by stage weight, every limit respected."""

from __future__ import annotations

import pytest

from skill.reflection import (
    MAX_RESPONSE_MS,
    STAGES,
    SpeakingRate,
    StageText,
    estimate_ms,
    load_rate,
    parse_iso_duration,
    plan_reflection,
)
from skill.reflection.planner import MIN_STAGE_SILENCE_MS, PlanError, ReflectionPlan

RATE = SpeakingRate("en-US", chars_per_second=12.0, sentence_pause_ms=300)
TEXTS = [StageText("Think of one thing that happened today.", "Say next when ready.")] * 4
OPENING, CLOSING = "Let's begin.", "That's the end. Thank you."


class TestParseIsoDuration:
    @pytest.mark.parametrize(("iso", "ms"), [("PT2M", 120_000), ("PT90S", 90_000),
                                              ("PT1M30S", 90_000), ("PT1.5M", 90_000),
                                              ("PT1H", 3_600_000), ("pt10m", 600_000)])
    def test_parses(self, iso: str, ms: int) -> None:
        """If Alexa sends an ISO-8601 duration, then its milliseconds come back."""
        assert parse_iso_duration(iso) == ms

    @pytest.mark.parametrize("iso", [None, "", "P", "PT", "two minutes", "?"])
    def test_rejects(self, iso: str | None) -> None:
        """If the value is missing or not ISO-8601 (Alexa sends '?' when unsure), then None."""
        assert parse_iso_duration(iso) is None


class TestPlan:
    @pytest.mark.parametrize("minutes", [1, 2, 3, 5, 10])
    def test_planned_length_matches_request(self, minutes: int) -> None:
        """If a length is requested, then the plan adds up to it (within 1 ms of rounding)."""
        plan = plan_reflection(minutes * 60_000, TEXTS, OPENING, CLOSING, RATE, [("calm", 20_000)])
        assert abs(plan.planned_ms - minutes * 60_000) <= 1

    def test_silence_follows_stage_weights(self) -> None:
        """If the stages have equal words, then silence is shared by weight, not dumped at the end."""
        plan = plan_reflection(300_000, TEXTS, OPENING, CLOSING, RATE)
        silences = [s.silence_ms for s in plan.stages]
        total = sum(silences)
        for (name, weight), silence in zip(STAGES, silences, strict=True):
            assert abs(silence / total - weight) < 0.01, name

    def test_stage_names_in_order(self) -> None:
        """If a plan is made, then it walks facts, feelings, meaning, closing."""
        plan = plan_reflection(120_000, TEXTS, OPENING, CLOSING, RATE)
        assert [s.name for s in plan.stages] == ["facts", "feelings", "meaning", "closing"]

    def test_intro_used_only_when_it_fits(self) -> None:
        """If an intro would take over 30% of the time, then a shorter one (or none) is used."""
        intros = [("long", 25_000), ("short", 12_000)]
        assert plan_reflection(60_000, TEXTS, OPENING, CLOSING, RATE, intros).intro_id == "short"
        assert plan_reflection(120_000, TEXTS, OPENING, CLOSING, RATE, intros).intro_id == "long"
        assert plan_reflection(60_000, TEXTS, OPENING, CLOSING, RATE, [("long", 25_000)]).intro_id is None

    @pytest.mark.parametrize("minutes", [1, 2, 3, 5, 10])
    def test_every_response_within_platform_limit(self, minutes: int) -> None:
        """If a reflection is long, then no single response exceeds 240 s."""
        plan = plan_reflection(minutes * 60_000, TEXTS, OPENING, CLOSING, RATE, [("calm", 30_000)])
        assert all(plan.response_ms(i) <= MAX_RESPONSE_MS for i in range(len(plan.stages)))

    def test_tight_budget_goes_compact(self) -> None:
        """If words leave too little silence, then the plan drops the opening and cues."""
        wordy = [StageText("word " * 25 + ".", "Say next when you are ready to go on.")] * 4
        plan = plan_reflection(60_000, wordy, OPENING, CLOSING, RATE)
        assert plan.compact
        assert plan.opening_ms == 0
        assert min(s.silence_ms for s in plan.stages) >= MIN_STAGE_SILENCE_MS

    def test_too_many_words_is_an_error(self) -> None:
        """If even the compact plan has no room for silence, then PlanError is raised."""
        huge = [StageText("word " * 200 + ".", "next")] * 4
        with pytest.raises(PlanError, match="too short for the words"):
            plan_reflection(60_000, huge, OPENING, CLOSING, RATE)

    def test_wrong_stage_count_is_an_error(self) -> None:
        """If the texts do not match the stages, then PlanError is raised."""
        with pytest.raises(PlanError, match="expected 4 stages"):
            plan_reflection(120_000, TEXTS[:3], OPENING, CLOSING, RATE)

    def test_round_trips_through_session(self) -> None:
        """If a plan is stored in the session and read back, then it is unchanged."""
        plan = plan_reflection(180_000, TEXTS, OPENING, CLOSING, RATE, [("calm", 20_000)])
        assert ReflectionPlan.from_dict(plan.to_dict()) == plan


class TestTiming:
    def test_calibrated_rates_exist_for_both_locales(self) -> None:
        """If the skill plans in either locale, then a calibrated rate exists."""
        assert load_rate("en-US").chars_per_second > 5
        assert load_rate("ja-JP").chars_per_second > 3

    def test_japanese_counts_kana_and_kanji(self) -> None:
        """If Japanese text is longer, then it is estimated to take longer."""
        rate = load_rate("ja-JP")
        assert estimate_ms("今日あったことを思い出してみましょう。", rate) > estimate_ms("今日。", rate)

    def test_unknown_language(self) -> None:
        """If no rate is calibrated for the language, then KeyError names it."""
        with pytest.raises(KeyError, match="fr-FR"):
            load_rate("fr-FR")
