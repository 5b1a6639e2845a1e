"""Session lifecycle: the welcome, and the session's end."""

from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import get_locale, is_request_type
from ask_sdk_model import Response

from skill.errors import UnsupportedLocaleError
from skill.handlers import lessons
from skill.handlers.base import Turn
from skill.speech import load_catalog


class LaunchHandler(AbstractRequestHandler):
    """``LaunchRequest``: a one-breath welcome offering the three things the skill does;
    returning people are welcomed back (with their streak when they have one)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("LaunchRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        turn.state = "menu"
        user = turn.user_if_reachable()
        if user is not None and user.preferences.locale != turn.locale:
            turn.remember(user.with_locale(turn.locale))
        if user is not None and not user.is_new:
            # One greeting and one question: a short question about a lesson finished last
            # time, or an offer to continue one, replaces the plain welcome back.
            reprompt = lessons.returning_prompt(turn)
            if reprompt is not None:
                return turn.ask(reprompt)
        streak = 0 if user is None else user.streak.current()
        if user is None or user.is_new:
            turn.say("launch.welcome")
        elif streak > 1:
            turn.say("launch.welcome_back.streak", count=streak)
        else:
            turn.say("launch.welcome_back")
        return turn.ask("launch.reprompt")


class UnsupportedLocaleHandler(AbstractRequestHandler):
    """A capability guard: a locale with no locale file (e.g. fr-FR) hears, in English, that
    only English and Japanese are spoken; events there, and the end of a session, stay silent."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        try:
            load_catalog().for_locale(get_locale(handler_input))
        except UnsupportedLocaleError:
            return True
        return False

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        if not turn.has_session or is_request_type("SessionEndedRequest")(handler_input):
            return turn.silent()
        return turn.say("error.unsupported_locale").tell()


class SessionEndedHandler(AbstractRequestHandler):
    """``SessionEndedRequest``: no speech is allowed; nothing to clean up in the session."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("SessionEndedRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        return handler_input.response_builder.response


GUARDS = (UnsupportedLocaleHandler(),)
HANDLERS = (LaunchHandler(), SessionEndedHandler())
