"""The reflection conversation: stages, transitions, and the controls between them."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from skill.simulator.conversation import Conversation
from skill.simulator.nlu import SlotValue
from tests.conftest import speech_of
from tests.fuzz.support import says_one_of

Converse = Callable[..., Conversation]
LOCALES = ["en-US", "ja-JP"]
START = {"en-US": "start a two minute reflection", "ja-JP": "2分のふりかえりをして"}
NEXT = {"en-US": "next", "ja-JP": "次へ"}


def _silence_ms(payload: dict) -> int:
    return sum(int(ms) for ms in re.findall(r'<break time="(\d+)ms"/>', speech_of(payload)))


def _state(payload: dict) -> str:
    return str(payload["sessionAttributes"].get("state"))


@pytest.mark.parametrize("locale", LOCALES)
class TestWholeReflection:
    def test_runs_through_every_stage_to_the_closing(self, converse: Converse, locale: str) -> None:
        """If the person says next after each stage, then all four stages play and it closes."""
        conversation = converse(locale)
        conversation.launch()
        _, first = conversation.say(START[locale])
        assert "<audio src=" in speech_of(first)
        states = [_state(first)]
        for _ in range(3):
            _, payload = conversation.say(NEXT[locale])
            assert _silence_ms(payload) > 0
            assert payload["response"]["reprompt"]
            states.append(_state(payload))
        assert states == ["reflection:facts", "reflection:feelings", "reflection:meaning",
                          "reflection:closing"]
        _, last = conversation.say(NEXT[locale])
        assert last["response"]["shouldEndSession"] is True
        assert speech_of(last)

    def test_every_break_is_at_most_ten_seconds(self, converse: Converse, locale: str) -> None:
        """If a stage has long silence, then it is chained breaks of at most 10 s."""
        conversation = converse(locale)
        conversation.launch()
        _, payload = conversation.intent("StartReflectionIntent", {"duration": SlotValue("PT10M")})
        breaks = [int(ms) for ms in re.findall(r'<break time="(\d+)ms"/>', speech_of(payload))]
        assert breaks and max(breaks) <= 10_000
        assert sum(breaks) > 60_000

    def test_skip_moves_on_kindly(self, converse: Converse, locale: str) -> None:
        """If the person skips a stage, then it is acknowledged and the next stage plays."""
        conversation = converse(locale)
        conversation.say(START[locale])
        _, payload = conversation.intent("SkipStageIntent")
        assert _state(payload) == "reflection:feelings"
        assert _silence_ms(payload) > 0

    def test_repeat_stays_on_the_stage_in_other_words(self, converse: Converse, locale: str) -> None:
        """If the person says repeat, then the same stage plays again, differently worded."""
        conversation = converse(locale)
        conversation.say(START[locale])
        _, feelings = conversation.say(NEXT[locale])
        _, again = conversation.intent("AMAZON.RepeatIntent")
        assert _state(again) == "reflection:feelings"
        assert speech_of(again) != speech_of(feelings)

    def test_pause_waits_instead_of_ending(self, converse: Converse, locale: str) -> None:
        """If the person says pause mid-reflection, then the reflection waits on the same stage
        and "next" carries on from there."""
        conversation = converse(locale)
        conversation.say(START[locale])
        _, paused = conversation.intent("AMAZON.PauseIntent")
        assert _state(paused) == "reflection:facts"
        assert paused["response"]["shouldEndSession"] is False
        assert says_one_of(paused, locale, "reflection.paused")
        _, feelings = conversation.say(NEXT[locale])
        assert _state(feelings) == "reflection:feelings"

    def test_answering_the_stage_aloud_is_thanked(self, converse: Converse, locale: str) -> None:
        """If the person answers a stage's question aloud, then a short thanks comes and the
        stage stays, rather than instructions as if nothing had been said."""
        conversation = converse(locale)
        conversation.say(START[locale])
        _, payload = conversation.say(
            {"en-US": "i was at work and my boss yelled", "ja-JP": "職場で上司に怒鳴られた"}[locale])
        assert says_one_of(payload, locale, "reflection.heard")
        assert not says_one_of(payload, locale, "reflection.help.facts")
        assert _state(payload) == "reflection:facts"

    def test_stop_ends_kindly(self, converse: Converse, locale: str) -> None:
        """If the person says stop mid-reflection, then it ends with kind words."""
        conversation = converse(locale)
        conversation.say(START[locale])
        _, payload = conversation.intent("AMAZON.StopIntent")
        assert payload["response"]["shouldEndSession"] is True
        assert speech_of(payload)

    def test_unknown_utterance_gets_stage_help_then_continues(self, converse: Converse,
                                                              locale: str) -> None:
        """If something unexpected is said mid-stage, then help for the stage, then it goes on."""
        conversation = converse(locale)
        conversation.say(START[locale])
        _, help_payload = conversation.say("purple elephants dancing")
        assert _state(help_payload) == "reflection:facts"
        assert help_payload["response"]["shouldEndSession"] is False
        _, payload = conversation.say(NEXT[locale])
        assert _state(payload) == "reflection:feelings"

    def test_help_mid_stage_keeps_the_reflection(self, converse: Converse, locale: str) -> None:
        """If the person asks for help mid-stage, then the stage is kept."""
        conversation = converse(locale)
        conversation.say(START[locale])
        conversation.say(NEXT[locale])
        _, payload = conversation.intent("AMAZON.HelpIntent")
        assert _state(payload) == "reflection:feelings"

    def test_reprompt_then_next_resumes_not_restarts(self, converse: Converse, locale: str) -> None:
        """If the reprompt played (silence) and then next is said, then the next stage follows."""
        conversation = converse(locale)
        conversation.say(START[locale])
        _, first = conversation.say(NEXT[locale])
        assert first["response"]["reprompt"]["outputSpeech"]["ssml"]
        _, payload = conversation.say(NEXT[locale])
        assert _state(payload) == "reflection:meaning"


@pytest.mark.parametrize("locale", LOCALES)
class TestDuration:
    def test_default_is_two_minutes(self, converse: Converse, locale: str) -> None:
        """If no duration is said, then the plan is two minutes."""
        _, payload = converse(locale).intent("StartReflectionIntent")
        assert payload["sessionAttributes"]["reflection"]["plan"]["requested_ms"] == 120_000

    @pytest.mark.parametrize(("iso", "offer"), [("PT30S", 60_000), ("PT20M", 600_000)])
    def test_out_of_range_gets_a_correction_and_choice(self, converse: Converse, locale: str,
                                                       iso: str, offer: int) -> None:
        """If the length is outside 1..10 minutes, then one correction offers the nearest."""
        conversation = converse(locale)
        _, payload = conversation.intent("StartReflectionIntent", {"duration": SlotValue(iso)})
        assert _state(payload) == "reflection_offer"
        minutes = offer // 60_000
        spoken = speech_of(payload) + str(payload["response"]["reprompt"])
        if minutes == 1:  # said in the singular, in the answer and in the reprompt
            assert ("one minute" if locale == "en-US" else "1分") in spoken
            assert "1 minutes" not in spoken
        else:
            assert str(minutes) in speech_of(payload)
        _, started = conversation.intent("AMAZON.YesIntent")
        assert started["sessionAttributes"]["reflection"]["plan"]["requested_ms"] == offer

    def test_declining_the_offer_returns_to_menu(self, converse: Converse, locale: str) -> None:
        """If the person declines the suggested length, then the menu is offered."""
        conversation = converse(locale)
        conversation.intent("StartReflectionIntent", {"duration": SlotValue("PT45M")})
        _, payload = conversation.intent("AMAZON.NoIntent")
        assert _state(payload) == "menu"
        assert payload["response"]["shouldEndSession"] is False

    def test_unparseable_duration_is_an_offer_not_an_error(self, converse: Converse,
                                                           locale: str) -> None:
        """If Alexa could not resolve the duration ('?'), then two minutes are offered."""
        _, payload = converse(locale).intent("StartReflectionIntent", {"duration": SlotValue("?")})
        assert _state(payload) == "reflection_offer"


class TestMemoryAcrossReflections:
    def test_prompts_differ_from_the_previous_reflection(self, converse: Converse) -> None:
        """If the person starts a new reflection in a new session, then no stage prompt repeats
        the phrasing of their previous one."""
        first = converse("en-US", user_id="amzn1.ask.account.memory")
        _, one = first.intent("StartReflectionIntent")
        chosen_one = one["sessionAttributes"]["reflection"]["chosen"]
        first.intent("AMAZON.StopIntent")
        second = converse("en-US", user_id="amzn1.ask.account.memory")
        _, two = second.intent("StartReflectionIntent")
        chosen_two = two["sessionAttributes"]["reflection"]["chosen"]
        for stage in ("facts", "feelings", "meaning", "closing"):
            key = f"reflection.{stage}.prompt"
            assert chosen_one[key] != chosen_two[key], key

    def test_finishing_counts_toward_the_streak(self, converse: Converse, app) -> None:  # type: ignore[no-untyped-def]
        """If a reflection is finished, then the streak is stored (and nothing the person said)."""
        conversation = converse("en-US", user_id="amzn1.ask.account.streak")
        conversation.intent("StartReflectionIntent")
        for _ in range(4):
            conversation.intent("NextStepIntent")
        store = app.extensions["reflection"]["persistence"].store
        assert store.get("amzn1.ask.account.streak").record.streak.count == 1
