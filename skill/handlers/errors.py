"""Exception handlers: a short spoken apology; the error is logged without the user's words."""

from __future__ import annotations

import copy

from ask_sdk_core.dispatch_components import AbstractExceptionHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response

from skill.errors import ReflectionError
from skill.handlers.base import Turn
from skill.logs import get_logger

log = get_logger("handlers")


def restore_session(handler_input: HandlerInput) -> None:
    """Undo what the failed handler changed in the session: the apology leaves the person where
    they were (e.g. a reflection does not move on to a stage they never heard)."""
    session = handler_input.request_envelope.session
    if session is not None:
        handler_input.attributes_manager.session_attributes = copy.deepcopy(session.attributes or {})


class KnownErrorHandler(AbstractExceptionHandler):
    """A :class:`~skill.errors.ReflectionError`: speak its ``speech_key``; keep the session."""

    def can_handle(self, handler_input: HandlerInput, exception: Exception) -> bool:
        return isinstance(exception, ReflectionError)

    def handle(self, handler_input: HandlerInput, exception: Exception) -> Response:
        log.warning("handled error", extra={"fields": {"error": type(exception).__name__}})
        restore_session(handler_input)
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
        restore_session(handler_input)
        turn = Turn(handler_input)
        if not turn.has_session:
            return turn.silent()
        return turn.say("error.generic").ask("error.reprompt")


HANDLERS = (KnownErrorHandler(), CatchAllErrorHandler())
