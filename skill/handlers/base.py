"""What every handler shares: a :class:`Turn` over one request, with speech in its locale.

Handlers parse the request, call the domain, and speak keys through a ``Turn``; they never hold
text. Session state lives under a few documented session-attribute keys:

* ``said``: message key -> index of the phrasing used last (so no prompt repeats back to back).
* ``state``: which conversation the session is in (``menu``, ``reflection``, ``checkin``, ...).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any, ClassVar

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import get_locale, get_slot_value
from ask_sdk_model import Response

from skill.speech import Speech, load_catalog

SAID = "said"
STATE = "state"


class Turn:
    """One request's view: locale, session attributes, and the speech being built."""

    def __init__(self, handler_input: HandlerInput) -> None:
        self.hi = handler_input
        self.locale: str = get_locale(handler_input) or "en-US"
        self.catalog = load_catalog().for_locale(self.locale)
        envelope = handler_input.request_envelope
        self.has_session = envelope.session is not None
        self.session: MutableMapping[str, Any] = (
            handler_input.attributes_manager.session_attributes if self.has_session else {}
        )
        memory = self.session.get(SAID)
        if not isinstance(memory, dict):
            memory = {}
            self.session[SAID] = memory
        self.speech = Speech(self.catalog, memory)
        self.reprompt = Speech(self.catalog, memory)

    # -- state ---------------------------------------------------------------------------------
    @property
    def state(self) -> str:
        return str(self.session.get(STATE) or "menu")

    @state.setter
    def state(self, value: str) -> None:
        self.session[STATE] = value

    def slot(self, name: str) -> str | None:
        """A slot's spoken value, or ``None`` (never logged)."""
        if intent_name(self.hi) is None:
            return None
        value = get_slot_value(self.hi, name)
        return str(value) if value else None

    # -- speech --------------------------------------------------------------------------------
    def say(self, key: str, **params: object) -> Turn:
        self.speech.say(key, **params)
        return self

    def ask(self, reprompt_key: str, **params: object) -> Response:
        """Speak what was said, then keep the microphone open with a reprompt."""
        self.reprompt.say(reprompt_key, **params)
        builder = self.hi.response_builder.speak(self.speech.ssml()).ask(self.reprompt.ssml())
        return builder.response

    def tell(self) -> Response:
        """Speak what was said and end the session."""
        builder = self.hi.response_builder
        if not self.speech.empty:
            builder.speak(self.speech.ssml())
        return builder.set_should_end_session(True).response

    def silent(self) -> Response:
        """No speech at all (SessionEnded, AudioPlayer events)."""
        return self.hi.response_builder.response


def session_state(handler_input: HandlerInput) -> str:
    """The session's conversation state (``menu`` when there is none)."""
    if handler_input.request_envelope.session is None:
        return "menu"
    return str(handler_input.attributes_manager.session_attributes.get(STATE) or "menu")


def intent_name(handler_input: HandlerInput) -> str | None:
    """The intent name of an IntentRequest, else ``None``."""
    request = handler_input.request_envelope.request
    if request.object_type != "IntentRequest":
        return None
    return str(request.intent.name)


class IntentHandler(AbstractRequestHandler):
    """A handler for some intents, optionally only in some session states.

    ``can_handle`` is pure: it reads the request and the session state, nothing else.
    """

    #: The intents this handler takes.
    intents: ClassVar[tuple[str, ...]] = ()
    #: The session states it takes them in; ``None`` for any state.
    states: ClassVar[tuple[str, ...] | None] = None

    def can_handle(self, handler_input: HandlerInput) -> bool:
        if intent_name(handler_input) not in self.intents:
            return False
        return self.states is None or session_state(handler_input) in self.states
