"""The timed reflection: start, one handler per disclosure stage, and the controls between them.

Session state ``reflection:<stage>`` says which stage was spoken last; ``reflection`` in the
session holds the plan (silence per stage) and the chosen phrasings, so a reprompt, a repeat or
a help request never restarts the reflection.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response

from skill.handlers.base import FREE_SLOT, IntentHandler, Turn, intent_name
from skill.lessons.catalog import Intro, LessonCatalogError, lesson_url, load_intros
from skill.logs import get_logger
from skill.reflection import (
    DEFAULT_MS,
    MAX_MS,
    MIN_MS,
    STAGES,
    ReflectionPlan,
    StageText,
    load_rate,
    parse_iso_duration,
    plan_reflection,
)

log = get_logger("handlers.reflection")
STATE_PREFIX = "reflection:"
OFFER_STATE = "reflection_offer"
SESSION_KEY = "reflection"
STAGE_NAMES = tuple(name for name, _ in STAGES)
ADVANCE = ("NextStepIntent", "AMAZON.NextIntent", "SkipStageIntent")
REFLECTION_STATES = tuple(STATE_PREFIX + name for name in STAGE_NAMES)


def intros_or_none(turn: Turn) -> tuple[Intro, ...]:
    """The locale's intro clips; none when the manifest cannot be read (the recorded intro is
    optional: the reflection starts without it)."""
    try:
        return load_intros(turn.locale, turn.settings.audio_dir, strict=False)
    except LessonCatalogError:
        log.warning("reflection without intro: audio manifest unreadable")
        return ()


def _prompt_id(key: str, index: int) -> str:
    return f"{key}:{index}"


def start_reflection(turn: Turn, requested_ms: int) -> Response:
    """Plan a reflection of ``requested_ms`` and speak its intro and first stage.

    No stage prompt repeats the phrasing of the person's previous reflection (remembered as
    prompt ids in storage; without storage, within the session).
    """
    user = turn.user_if_reachable()
    memory = turn.speech
    if user is not None:
        for prompt_id in reversed(user.recent_prompts):
            key, _, index = prompt_id.rpartition(":")
            if key.startswith("reflection.") and index.isdigit():
                memory.memory[key] = int(index)
    texts = []
    chosen: dict[str, int] = {}
    for name in STAGE_NAMES:
        prompt_key, cue_key = f"reflection.{name}.prompt", f"reflection.{name}.cue"
        prompt, cue = memory.phrase(prompt_key), memory.phrase(cue_key)
        chosen[prompt_key], chosen[cue_key] = memory.memory[prompt_key], memory.memory[cue_key]
        texts.append(StageText(prompt, cue))
    if user is not None:
        for name in STAGE_NAMES:
            key = f"reflection.{name}.prompt"
            user = user.with_prompt_used(_prompt_id(key, chosen[key]))
        turn.remember(user)
    opening = memory.phrase("reflection.opening")
    chosen["reflection.opening"] = memory.memory["reflection.opening"]
    closing = memory.phrase("reflection.closing.words")
    chosen["reflection.closing.words"] = memory.memory["reflection.closing.words"]
    last_intro = turn.session.get("last_intro")
    intros = sorted(intros_or_none(turn),
                    key=lambda i: (i.id == last_intro, i.duration_ms))
    plan = plan_reflection(
        requested_ms, texts, opening, closing, load_rate(turn.locale),
        intros=[(i.id, i.duration_ms) for i in intros],
    )
    turn.session[SESSION_KEY] = {"plan": plan.to_dict(), "chosen": chosen, "stage": 0}
    if plan.intro_id:
        intro = next(i for i in intros if i.id == plan.intro_id)
        turn.speech.audio(lesson_url(turn.settings.audio_base_url, intro))
        turn.session["last_intro"] = intro.id
    if not plan.compact:
        turn.speech.say_text(opening)
    return speak_stage(turn, 0)


def _reflection(turn: Turn) -> dict[str, Any]:
    data = turn.session.get(SESSION_KEY)
    if not isinstance(data, dict) or "plan" not in data:
        raise LookupError("no reflection in this session")
    return data


def ask_on_stage(turn: Turn, index: int) -> Response:
    """Listen on stage ``index`` (free speech too) with its reprompt: the last stage's says how
    to finish."""
    last = index == len(STAGE_NAMES) - 1
    return turn.ask("reflection.last_reprompt" if last else "reflection.reprompt", listen_freely=True)


def speak_stage(turn: Turn, index: int, fresh_wording: bool = False) -> Response:
    """Speak stage ``index``: its prompt, its planned silence, its cue; then listen."""
    data = _reflection(turn)
    plan = ReflectionPlan.from_dict(data["plan"])
    name = STAGE_NAMES[index]
    prompt_key, cue_key = f"reflection.{name}.prompt", f"reflection.{name}.cue"
    if fresh_wording:
        turn.speech.say(prompt_key)
    else:
        turn.speech.say_text(turn.speech.variant(prompt_key, data["chosen"].get(prompt_key, 0)))
    turn.speech.pause(plan.stages[index].silence_ms)
    if not plan.compact:
        turn.speech.say_text(turn.speech.variant(cue_key, data["chosen"].get(cue_key, 0)))
    data["stage"] = index
    turn.state = STATE_PREFIX + name
    return ask_on_stage(turn, index)


def current_stage(turn: Turn) -> int:
    return int(_reflection(turn).get("stage", 0))


class StartReflectionHandler(IntentHandler):
    """``StartReflectionIntent`` (any state): check the duration, then plan and begin."""

    intents = ("StartReflectionIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        spoken = turn.slot("duration")
        requested = parse_iso_duration(spoken) if spoken else DEFAULT_MS
        if requested is None or not MIN_MS <= requested <= MAX_MS:
            suggestion = MIN_MS if requested is not None and requested < MIN_MS else (
                MAX_MS if requested is not None else DEFAULT_MS)
            turn.session["offer_ms"] = suggestion
            turn.state = OFFER_STATE
            minutes = suggestion // 60_000
            one = ".one" if minutes == 1 else ""  # "one minute", never "1 minutes"
            return turn.say(f"reflection.out_of_range{one}", minutes=minutes).ask(
                f"reflection.out_of_range.reprompt{one}", minutes=minutes)
        return start_reflection(turn, requested)


class OfferAcceptedHandler(IntentHandler):
    """``AMAZON.YesIntent`` after an out-of-range duration: start the suggested length."""

    intents = ("AMAZON.YesIntent",)
    states = (OFFER_STATE,)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        return start_reflection(turn, int(turn.session.pop("offer_ms", DEFAULT_MS)))


class OfferDeclinedHandler(IntentHandler):
    """``AMAZON.NoIntent`` after an out-of-range duration: back to the menu."""

    intents = ("AMAZON.NoIntent",)
    states = (OFFER_STATE,)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        turn.session.pop("offer_ms", None)
        turn.state = "menu"
        return turn.say("reflection.declined").ask("menu.reprompt")


class _StageHandler(IntentHandler):
    """Enter stage ``index`` from the stage before it ("next", or "skip" with a kind word)."""

    index: ClassVar[int]
    intents = ADVANCE

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        if intent_name(handler_input) == "SkipStageIntent":
            turn.say("reflection.skipped")
        return speak_stage(turn, self.index)


class FeelingsStageHandler(_StageHandler):
    """Stage 2, feelings: how it felt, one named feeling."""

    index = 1
    states = (STATE_PREFIX + "facts",)


class MeaningStageHandler(_StageHandler):
    """Stage 3, meaning: what it says about what matters; what one might share."""

    index = 2
    states = (STATE_PREFIX + "feelings",)


class ClosingStageHandler(_StageHandler):
    """Stage 4, closing: one small, safe next step toward someone."""

    index = 3
    states = (STATE_PREFIX + "meaning",)


class FinishReflectionHandler(IntentHandler):
    """After the closing stage: the closing words, on time, and the session ends."""

    intents = ADVANCE
    states = (STATE_PREFIX + "closing",)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        data = _reflection(turn)
        key = "reflection.closing.words"
        turn.speech.say_text(turn.speech.variant(key, data["chosen"].get(key, 0)))
        turn.session.pop(SESSION_KEY, None)
        turn.state = "menu"
        user = turn.user_if_reachable()
        if user is not None:
            turn.remember(user.with_reflection(dt.datetime.now(dt.UTC).date()))
        return turn.tell()


class RepeatStageHandler(IntentHandler):
    """``AMAZON.RepeatIntent`` in a stage: the same stage again, in other words."""

    intents = ("AMAZON.RepeatIntent",)
    states = REFLECTION_STATES

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        return speak_stage(turn, current_stage(turn), fresh_wording=True)


class PauseReflectionHandler(IntentHandler):
    """``AMAZON.PauseIntent`` in a stage: a pause, not the end; listen for "next" again (the
    session closes by itself after the reprompt if nothing more is said)."""

    intents = ("AMAZON.PauseIntent",)
    states = REFLECTION_STATES

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        turn.say("reflection.paused")
        return ask_on_stage(turn, current_stage(turn))


class StopReflectionHandler(IntentHandler):
    """Stop or cancel in a stage: end kindly; the session ends."""

    intents = ("AMAZON.StopIntent", "AMAZON.CancelIntent")
    states = REFLECTION_STATES

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        turn.session.pop(SESSION_KEY, None)
        turn.state = "menu"
        return turn.say("reflection.stopped").tell()


class StageHelpHandler(IntentHandler):
    """Help, or anything unexpected, in a stage: help for this stage, then carry on listening."""

    intents = ("AMAZON.HelpIntent", "AMAZON.FallbackIntent", "CheckInIntent", "AMAZON.YesIntent",
               "AMAZON.NoIntent", "AMAZON.ResumeIntent", "AMAZON.PreviousIntent",
               "AMAZON.StartOverIntent", "ListLessonsIntent", "CheckInStartIntent",
               "WhatDoYouRememberIntent", "ResumeLessonIntent")
    states = REFLECTION_STATES

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        index = current_stage(turn)
        # A stage's question answered aloud (the words are not kept) gets a short thanks, then
        # the way on, rather than instructions as if nothing had been said.
        turn.say("reflection.heard" if turn.slot(FREE_SLOT) else f"reflection.help.{STAGE_NAMES[index]}")
        return ask_on_stage(turn, index)


#: State-gated handlers first (they override built-ins inside a reflection), then the start.
HANDLERS = (
    FeelingsStageHandler(), MeaningStageHandler(), ClosingStageHandler(), FinishReflectionHandler(),
    RepeatStageHandler(), PauseReflectionHandler(), StopReflectionHandler(), StageHelpHandler(),
    OfferAcceptedHandler(), OfferDeclinedHandler(), StartReflectionHandler(),
)
