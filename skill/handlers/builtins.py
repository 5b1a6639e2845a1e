"""Alexa's built-in intents and the catch-alls: help, stop, home, fallback, anything unknown."""

from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_request_type
from ask_sdk_model import Response

from skill.handlers.base import IntentHandler, Turn


class HelpHandler(IntentHandler):
    """``AMAZON.HelpIntent`` outside any activity: what the skill does and how to ask."""

    intents = ("AMAZON.HelpIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        turn.state = "menu"
        return turn.say("help.main").ask("help.reprompt")


class RepeatHandler(IntentHandler):
    """``AMAZON.RepeatIntent`` where no activity has its own "repeat" (the menu, a check-in
    question, a lesson offer): the last question again, word for word, still listening."""

    intents = ("AMAZON.RepeatIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        again = turn.repeat_last_question()
        if again is not None:
            return again
        return turn.say("fallback.main").ask("fallback.reprompt")


class MenuYesHandler(IntentHandler):
    """A bare "yes" at the menu (after "which would you like: a reflection, a check-in or a
    lesson?", where "yes" is a natural answer): ask which one, kindly, instead of a dead end."""

    intents = ("AMAZON.YesIntent",)
    states = ("menu",)

    def handle(self, handler_input: HandlerInput) -> Response:
        return Turn(handler_input).say("menu.which").ask("menu.reprompt")


class StopHandler(IntentHandler):
    """``AMAZON.StopIntent`` / ``AMAZON.CancelIntent``: a short goodbye; the session ends."""

    intents = ("AMAZON.StopIntent", "AMAZON.CancelIntent")

    def handle(self, handler_input: HandlerInput) -> Response:
        return Turn(handler_input).say("goodbye").tell()


class NavigateHomeHandler(IntentHandler):
    """``AMAZON.NavigateHomeIntent``: leave whatever is going on and offer the menu again."""

    intents = ("AMAZON.NavigateHomeIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        turn.state = "menu"
        return turn.say("menu.home").ask("menu.reprompt")


class FallbackHandler(IntentHandler):
    """``AMAZON.FallbackIntent``: say what can be asked, and listen again (never a dead end)."""

    intents = ("AMAZON.FallbackIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        return Turn(handler_input).say("fallback.main").ask("fallback.reprompt")


class UnhandledIntentHandler(AbstractRequestHandler):
    """Any intent no other handler took (e.g. one that makes no sense right now)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_request_type("IntentRequest")(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        return Turn(handler_input).say("fallback.unhandled_intent").ask("fallback.reprompt")


class UnhandledRequestHandler(AbstractRequestHandler):
    """Any other request: a spoken reprompt inside a session; silence outside one, where the
    platform forbids speech (AudioPlayer and system events)."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return True

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        if not turn.has_session:
            return turn.silent()
        return turn.say("fallback.unknown_request").ask("fallback.reprompt")


#: Registered last, in this order: built-ins, then the catch-alls.
HANDLERS = (HelpHandler(), RepeatHandler(), MenuYesHandler(), StopHandler(), NavigateHomeHandler(),
            FallbackHandler())
CATCH_ALLS = (UnhandledIntentHandler(), UnhandledRequestHandler())
