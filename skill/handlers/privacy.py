"""The person's control over what is stored: what is remembered, delete my data, skill disabled."""

from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractRequestHandler, AbstractResponseInterceptor
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_request_type
from ask_sdk_model import Response

from skill.handlers.base import STATE, STATE_SET_KEY, IntentHandler, Turn
from skill.lessons.catalog import LessonCatalogError, LessonNotFoundError, get_lesson, load_lessons
from skill.logs import get_logger
from skill.storage.adapter import user_id_of
from skill.storage.base import user_hash

log = get_logger("handlers.privacy")
CONFIRM_STATE = "confirm_delete"


class DeleteMyDataHandler(IntentHandler):
    """``DeleteMyDataIntent``: ask for confirmation first (nothing is deleted yet)."""

    intents = ("DeleteMyDataIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        turn.state = CONFIRM_STATE
        return turn.say("privacy.confirm_delete").ask("privacy.confirm_delete.reprompt")


class ConfirmDeleteHandler(IntentHandler):
    """"Yes" to the confirmation: everything stored for this person is deleted, now."""

    intents = ("AMAZON.YesIntent",)
    states = (CONFIRM_STATE,)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        turn.forget_everything()
        turn.state = "menu"
        user = user_hash(user_id_of(handler_input.request_envelope))
        log.info("user data deleted", extra={"fields": {"user": user}})
        return turn.say("privacy.deleted").ask("privacy.reprompt")


class KeepDataHandler(IntentHandler):
    """"No" (or cancel) to the confirmation: nothing changes."""

    intents = ("AMAZON.NoIntent", "AMAZON.CancelIntent")
    states = (CONFIRM_STATE,)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        turn.state = "menu"
        return turn.say("privacy.kept").ask("privacy.reprompt")


class ConfirmDeleteAgainHandler(IntentHandler):
    """"Repeat", "help" or words that fit nothing while the confirmation is open: ask it again,
    so that the next "yes" still answers the question it seems to answer."""

    intents = ("AMAZON.RepeatIntent", "AMAZON.HelpIntent", "AMAZON.FallbackIntent")
    states = (CONFIRM_STATE,)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        turn.state = CONFIRM_STATE  # asked again: open for one more answer
        return turn.say("privacy.confirm_delete").ask("privacy.confirm_delete.reprompt")


class ConfirmationLapse(AbstractResponseInterceptor):
    """The delete confirmation is open for the one answer right after it. Whatever else
    answered the person in between ("what do you remember", a catch-all, a lesson control)
    left the state as it was; the confirmation lapses then, so a later "yes", which answers
    something else, never deletes anything."""

    def process(self, handler_input: HandlerInput, response: Response) -> None:
        if handler_input.request_envelope.session is None:
            return  # AudioPlayer events and the like: no session, no confirmation
        session = handler_input.attributes_manager.session_attributes
        if (isinstance(session, dict) and session.get(STATE) == CONFIRM_STATE
                and not handler_input.attributes_manager.request_attributes.get(STATE_SET_KEY)):
            session[STATE] = "menu"


class WhatDoYouRememberHandler(IntentHandler):
    """``WhatDoYouRememberIntent``: a short spoken summary of what is stored (never words)."""

    intents = ("WhatDoYouRememberIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        user = turn.user.pruned()
        if user.is_new:
            return turn.say("privacy.nothing_stored").ask("privacy.reprompt")
        turn.say("privacy.summary.intro")
        streak = user.streak.current()
        if streak == 1:
            turn.say("privacy.summary.streak.one")
        elif streak:
            turn.say("privacy.summary.streak", count=streak)
        if len(user.checkin_tags) == 1:
            turn.say("privacy.summary.checkins.one")
        elif user.checkin_tags:
            turn.say("privacy.summary.checkins", count=len(user.checkin_tags))
        if user.lesson is not None:
            try:
                lesson = get_lesson(load_lessons(turn.locale, turn.settings.audio_dir, strict=False),
                                    user.lesson.lesson_id)
                turn.say("privacy.summary.lesson", title=lesson.title)
            except (LessonNotFoundError, LessonCatalogError):
                pass  # the lesson's place is still stored; it just cannot be named now
        if user.crisis_count:
            turn.say("privacy.summary.support")
        if user.recent_prompts:
            turn.say("privacy.summary.settings")
        elif user.preferences.locale:
            turn.say("privacy.summary.language")
        return turn.say("privacy.summary.outro").ask("privacy.reprompt")


class SkillDisabledHandler(AbstractRequestHandler):
    """``AlexaSkillEvent.SkillDisabled``: the person removed the skill; purge what is stored."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("AlexaSkillEvent.SkillDisabled")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        handler_input.attributes_manager.delete_persistent_attributes()
        log.info("skill disabled: user purged",
                 extra={"fields": {"user": user_hash(user_id_of(handler_input.request_envelope))}})
        return handler_input.response_builder.response


HANDLERS = (ConfirmDeleteHandler(), KeepDataHandler(), ConfirmDeleteAgainHandler(),
            DeleteMyDataHandler(), WhatDoYouRememberHandler(), SkillDisabledHandler())
