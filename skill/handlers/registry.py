"""The handler order, in one place (see ``skill.assembly``)."""

from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractRequestHandler

from skill.handlers import builtins, checkin, lessons, playback, privacy, reflection, session
from skill.handlers.base import IntentHandler


def request_handlers() -> tuple[AbstractRequestHandler, ...]:
    """Every request handler, in dispatch order: guards and events, state-gated handlers,
    plain intents, built-ins, then the catch-alls."""
    return (
        *session.GUARDS,
        *checkin.GUARDS,
        *session.HANDLERS,
        *playback.HANDLERS,
        *lessons.HANDLERS,
        *reflection.HANDLERS,
        *checkin.HANDLERS,
        *privacy.HANDLERS,
        *builtins.HANDLERS,
        *builtins.CATCH_ALLS,
    )


def handled_intents() -> frozenset[str]:
    """Every intent some handler other than the catch-alls names."""
    return frozenset(
        name
        for handler in request_handlers()
        if isinstance(handler, IntentHandler)
        for name in handler.intents
    )
