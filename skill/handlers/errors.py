"""Exception handlers: a short spoken apology; the error is logged without the user's words."""

from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractExceptionHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response

from skill.errors import ReflectionError
from skill.handlers.base import Turn
from skill.logs import get_logger

log = get_logger("handlers")


class KnownErrorHandler(AbstractExceptionHandler):
    """A :class:`~skill.errors.ReflectionError`: speak its ``speech_key``; keep the session."""

    def can_handle(self, handler_input: HandlerInput, exception: Exception) -> bool:
        return isinstance(exception, ReflectionError)

    def handle(self, handler_input: HandlerInput, exception: Exception) -> Response:
        log.warning("handled error", extra={"fields": {"error": type(exception).__name__}})
        turn = Turn(handler_input)
        key = getattr(exception, "speech_key", "error.generic")
        if not turn.has_session:
            return turn.silent()
        return turn.say(key).ask("error.reprompt")


class CatchAllErrorHandler(AbstractExceptionHandler):
    """Anything else: log type and location (never the message, which may quote input)."""

    def can_handle(self, handler_input: HandlerInput, exception: Exception) -> bool:
        return True

    def handle(self, handler_input: HandlerInput, exception: Exception) -> Response:
        log.error("unhandled error", exc_info=exception)
        turn = Turn(handler_input)
        if not turn.has_session:
            return turn.silent()
        return turn.say("error.generic").ask("error.reprompt")


HANDLERS = (KnownErrorHandler(), CatchAllErrorHandler())
