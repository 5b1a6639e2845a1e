"""The lesson player: AudioPlayer events, PlaybackController buttons, and the player built-ins.

Events and button presses arrive without a session; their responses carry AudioPlayer directives
or nothing, never speech, reprompt or card. A token that is not one of ours (malformed, foreign,
or naming a lesson that no longer exists) is ignored with an empty response.

Choices, documented:

* ``PlaybackNearlyFinished``: nothing is enqueued. A lesson is one listen, followed at the next
  launch by a question about it; chaining lessons would play on without the person asking.
* ``PlaybackFailed``: the offset the device reports is stored (so "continue my lesson" resumes
  there) and nothing is re-played: a re-Play of a broken stream fails again, and without a
  session there is nowhere safe to count retries. The error type is logged, nothing else.
* ``PreviousCommandIssued`` on the first lesson restarts it (as music players do); ``Next`` on
  the last one does nothing (a button press cannot be answered with speech).
* ``AMAZON.RepeatIntent`` with a lesson in the player starts it over.

The built-in intents are read as lesson controls only in the menu or a lesson state
(:func:`~skill.handlers.lessons.in_lesson_reach`), never inside a reflection or a check-in.
"""

from __future__ import annotations

from typing import ClassVar

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_request_type
from ask_sdk_model import Response
from ask_sdk_model.interfaces.audioplayer import StopDirective

from skill.handlers.base import IntentHandler, Turn, intent_name, log, session_state, settings_of
from skill.handlers.lessons import (
    HEARD_STATE,
    catalog_for,
    current_lesson,
    decline_lesson,
    in_lesson_reach,
    lesson_from_token,
    offer_list,
    offer_play,
    play_lesson,
    player_state,
    remember_progress,
    resume_lesson,
    resume_point,
)
from skill.lessons.catalog import Lesson, adjacent_lesson

# --------------------------------------------------------------------------- AudioPlayer events


class _PlaybackEventHandler(AbstractRequestHandler):
    """One ``AudioPlayer.*`` event; the lesson comes from the event's own token."""

    request_type: ClassVar[str]

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_request_type(self.request_type)(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        request = handler_input.request_envelope.request
        lesson = lesson_from_token(getattr(request, "token", None), settings_of(handler_input).audio_dir)
        if lesson is not None:
            self.on_lesson(turn, lesson, int(getattr(request, "offset_in_milliseconds", 0) or 0))
        return turn.silent()

    def on_lesson(self, turn: Turn, lesson: Lesson, offset_ms: int) -> None:
        """React to the event for ``lesson`` (default: nothing)."""


class PlaybackStartedHandler(_PlaybackEventHandler):
    """``AudioPlayer.PlaybackStarted``: remember the lesson and where it started."""

    request_type = "AudioPlayer.PlaybackStarted"

    def on_lesson(self, turn: Turn, lesson: Lesson, offset_ms: int) -> None:
        remember_progress(turn, lesson, offset_ms, event=True)


class PlaybackStoppedHandler(_PlaybackEventHandler):
    """``AudioPlayer.PlaybackStopped``: remember the offset it stopped at (for resume)."""

    request_type = "AudioPlayer.PlaybackStopped"

    def on_lesson(self, turn: Turn, lesson: Lesson, offset_ms: int) -> None:
        remember_progress(turn, lesson, offset_ms, event=True)


class PlaybackNearlyFinishedHandler(_PlaybackEventHandler):
    """``AudioPlayer.PlaybackNearlyFinished``: nothing is enqueued (see the module docstring)."""

    request_type = "AudioPlayer.PlaybackNearlyFinished"


class PlaybackFinishedHandler(_PlaybackEventHandler):
    """``AudioPlayer.PlaybackFinished``: the lesson is done; ask about it at the next launch."""

    request_type = "AudioPlayer.PlaybackFinished"

    def on_lesson(self, turn: Turn, lesson: Lesson, offset_ms: int) -> None:
        remember_progress(turn, lesson, offset_ms, finished=True, event=True)


class PlaybackFailedHandler(AbstractRequestHandler):
    """``AudioPlayer.PlaybackFailed``: log the error type, keep the offset; no re-Play."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_request_type("AudioPlayer.PlaybackFailed")(handler_input))

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        request = handler_input.request_envelope.request
        error_type = getattr(getattr(getattr(request, "error", None), "object_type", None),
                             "value", None)
        log.warning("lesson playback failed", extra={"fields": {"error_type": error_type}})
        lesson = lesson_from_token(getattr(request, "token", None), settings_of(handler_input).audio_dir)
        state = getattr(request, "current_playback_state", None)
        if lesson is not None and state is not None and state.token == request.token:
            remember_progress(turn, lesson, int(state.offset_in_milliseconds or 0), event=True)
        return turn.silent()


# --------------------------------------------------------------------------- PlaybackController


class _ControllerHandler(AbstractRequestHandler):
    """A ``PlaybackController.*`` button press: AudioPlayer directives only, from the context."""

    request_type: ClassVar[str]

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return bool(is_request_type(self.request_type)(handler_input))


class PlayCommandHandler(_ControllerHandler):
    """``PlaybackController.PlayCommandIssued``: the current lesson from its offset (a finished
    one from the start)."""

    request_type = "PlaybackController.PlayCommandIssued"

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        point = resume_point(turn, catalog_for(turn))
        if point is None:
            return turn.silent()
        return play_lesson(turn, point.lesson, 0 if point.finished else point.offset_ms, None)


class PauseCommandHandler(_ControllerHandler):
    """``PlaybackController.PauseCommandIssued``: stop (PlaybackStopped then stores the offset)."""

    request_type = "PlaybackController.PauseCommandIssued"

    def handle(self, handler_input: HandlerInput) -> Response:
        return stop_player(handler_input)


class _StepCommandHandler(_ControllerHandler):
    step: ClassVar[int]

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        lessons = catalog_for(turn)
        current = current_lesson(turn, lessons)
        if current is None:
            return turn.silent()
        target = adjacent_lesson(lessons, current.id, self.step)
        if target is None:
            if self.step > 0:
                return turn.silent()
            target = current
        return play_lesson(turn, target, 0, None)


class NextCommandHandler(_StepCommandHandler):
    """``PlaybackController.NextCommandIssued``: the next lesson (nothing after the last)."""

    request_type = "PlaybackController.NextCommandIssued"
    step = 1


class PreviousCommandHandler(_StepCommandHandler):
    """``PlaybackController.PreviousCommandIssued``: the lesson before (the first restarts)."""

    request_type = "PlaybackController.PreviousCommandIssued"
    step = -1


def stop_player(handler_input: HandlerInput) -> Response:
    """``AudioPlayer.Stop`` and nothing else; the session (if any) ends."""
    builder = handler_input.response_builder
    return builder.add_directive(StopDirective()).set_should_end_session(True).response


# --------------------------------------------------------------------------- built-in intents


class _PlayerIntentHandler(IntentHandler):
    """A built-in read as a lesson control: only in the menu or a lesson state."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return super().can_handle(handler_input) and in_lesson_reach(handler_input)


def _lesson_in_context(handler_input: HandlerInput) -> bool:
    """A lesson is in the device's player, or was just heard as SSML in this session."""
    return (player_state(handler_input) is not None
            or session_state(handler_input) == HEARD_STATE)


class PauseLessonHandler(_PlayerIntentHandler):
    """``AMAZON.PauseIntent`` with a lesson in the player: stop it quietly."""

    intents = ("AMAZON.PauseIntent",)

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return super().can_handle(handler_input) and player_state(handler_input) is not None

    def handle(self, handler_input: HandlerInput) -> Response:
        return stop_player(handler_input)


class StopLessonHandler(_PlayerIntentHandler):
    """``AMAZON.StopIntent`` / ``CancelIntent`` while a lesson plays: stop it quietly (the
    offset is kept, so it can be resumed)."""

    intents = ("AMAZON.StopIntent", "AMAZON.CancelIntent")

    def can_handle(self, handler_input: HandlerInput) -> bool:
        if not super().can_handle(handler_input):
            return False
        player = player_state(handler_input)
        return player is not None and player.active

    def handle(self, handler_input: HandlerInput) -> Response:
        return stop_player(handler_input)


class ResumeHandler(_PlayerIntentHandler):
    """``AMAZON.ResumeIntent``: the lesson from the stored (or the player's fresher) offset."""

    intents = ("AMAZON.ResumeIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        return resume_lesson(Turn(handler_input), quiet_in_player=True)


class _StepIntentHandler(_PlayerIntentHandler):
    step: ClassVar[int]

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        lessons = catalog_for(turn)
        current = current_lesson(turn, lessons)
        if current is None:
            return offer_list(turn, "lessons.none_current")
        target = adjacent_lesson(lessons, current.id, self.step)
        if target is not None:
            intro = "lessons.intro.next" if self.step > 0 else "lessons.intro.previous"
            return play_lesson(turn, target, 0, intro)
        player = player_state(handler_input)
        if player is not None and player.active:
            # Say so briefly and end the turn: the lesson that is playing carries on.
            return turn.say("lessons.last.playing" if self.step > 0 else "lessons.first.playing").tell()
        if self.step > 0:
            return offer_list(turn, "lessons.last")
        return offer_play(turn, "lessons.first", current, title=current.title)


class NextLessonHandler(_StepIntentHandler):
    """``AMAZON.NextIntent`` (and "next", ``NextStepIntent``, while a lesson is the context):
    the next lesson; after the last, a short word saying so."""

    intents = ("AMAZON.NextIntent", "NextStepIntent")
    step = 1

    def can_handle(self, handler_input: HandlerInput) -> bool:
        if not super().can_handle(handler_input):
            return False
        return intent_name(handler_input) != "NextStepIntent" or _lesson_in_context(handler_input)


class HeardYesHandler(_StepIntentHandler):
    """"Yes" to "the next one?" after a lesson heard as SSML (no AudioPlayer): the next lesson."""

    intents = ("AMAZON.YesIntent",)
    step = 1

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return super().can_handle(handler_input) and session_state(handler_input) == HEARD_STATE


class HeardNoHandler(IntentHandler):
    """"No" to "the next one?" after a lesson heard as SSML: the other things to do."""

    intents = ("AMAZON.NoIntent",)
    states = (HEARD_STATE,)

    def handle(self, handler_input: HandlerInput) -> Response:
        return decline_lesson(Turn(handler_input))


class PreviousLessonHandler(_StepIntentHandler):
    """``AMAZON.PreviousIntent``: the lesson before; on the first, offer to start it over."""

    intents = ("AMAZON.PreviousIntent",)
    step = -1


class StartOverHandler(_PlayerIntentHandler):
    """``AMAZON.StartOverIntent`` with a lesson as the context, or ``RepeatIntent`` while a
    lesson plays or was just heard: the same lesson from the beginning. "Repeat" after a
    question (a stopped lesson still sits in the player at the next launch) repeats the
    question instead, and the lesson's place is kept."""

    intents = ("AMAZON.StartOverIntent", "AMAZON.RepeatIntent")

    def can_handle(self, handler_input: HandlerInput) -> bool:
        if not (super().can_handle(handler_input) and _lesson_in_context(handler_input)):
            return False
        if intent_name(handler_input) != "AMAZON.RepeatIntent":
            return True
        player = player_state(handler_input)
        return session_state(handler_input) == HEARD_STATE or (player is not None and player.active)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        lessons = catalog_for(turn)
        current = current_lesson(turn, lessons)
        if current is None:
            return offer_list(turn, "lessons.none_current")
        return play_lesson(turn, current, 0, "lessons.intro.start_over")


class LoopShuffleHandler(_PlayerIntentHandler):
    """Loop and shuffle, on or off: politely not available for lessons."""

    intents = ("AMAZON.LoopOnIntent", "AMAZON.LoopOffIntent", "AMAZON.ShuffleOnIntent",
               "AMAZON.ShuffleOffIntent")

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input).say("lessons.not_available")
        player = player_state(handler_input)
        if player is not None and player.active:
            return turn.tell()  # the lesson that is playing carries on
        return turn.ask("lessons.after_audio.reprompt")


#: Events and buttons first (they never carry a session), then the player built-ins.
HANDLERS = (
    PlaybackStartedHandler(), PlaybackStoppedHandler(), PlaybackNearlyFinishedHandler(),
    PlaybackFinishedHandler(), PlaybackFailedHandler(),
    PlayCommandHandler(), PauseCommandHandler(), NextCommandHandler(), PreviousCommandHandler(),
    PauseLessonHandler(), StopLessonHandler(), ResumeHandler(), NextLessonHandler(),
    HeardYesHandler(), HeardNoHandler(),
    PreviousLessonHandler(), StartOverHandler(), LoopShuffleHandler(),
)
