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
from ask_sdk_core.utils import get_locale
from ask_sdk_model import Intent, IntentConfirmationStatus, Response, Slot, SlotConfirmationStatus
from ask_sdk_model.dialog import ElicitSlotDirective

from skill.config import Settings, load_settings
from skill.errors import StorageUnavailableError, UnsupportedLocaleError
from skill.logs import get_logger
from skill.speech import DEFAULT_LOCALE, Speech, load_catalog
from skill.storage.records import RecordAttributes, UserRecord

log = get_logger("handlers")

SAID = "said"
#: The intent and slot that carry free-form speech (AMAZON.SearchQuery).
FREE_INTENT = "CheckInIntent"
FREE_SLOT = "answer"
STATE = "state"
#: Session attribute: the last question asked (SSML, reprompt, free speech), for "repeat".
LAST_ASK_KEY = "last_ask"
#: Request attribute: a handler set the session state during this request.
STATE_SET_KEY = "state_set"


class Turn:
    """One request's view: locale, session attributes, and the speech being built."""

    def __init__(self, handler_input: HandlerInput) -> None:
        self.hi = handler_input
        self.locale: str = get_locale(handler_input) or DEFAULT_LOCALE
        try:
            self.catalog = load_catalog().for_locale(self.locale)
        except UnsupportedLocaleError:  # answered by UnsupportedLocaleHandler, in English
            self.locale = DEFAULT_LOCALE
            self.catalog = load_catalog().for_locale(DEFAULT_LOCALE)
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

    @property
    def settings(self) -> Settings:
        """The settings the skill was built with (set on every request by an interceptor)."""
        return settings_of(self.hi)

    # -- state ---------------------------------------------------------------------------------
    @property
    def state(self) -> str:
        return session_state(self.hi)

    @state.setter
    def state(self, value: str) -> None:
        self.session[STATE] = value
        self.hi.attributes_manager.request_attributes[STATE_SET_KEY] = True

    def _slot(self, name: str) -> Any:
        if intent_name(self.hi) is None:
            return None
        slots = self.hi.request_envelope.request.intent.slots or {}
        return slots.get(name)

    def slot(self, name: str) -> str | None:
        """A slot's spoken value, or ``None`` (never logged)."""
        slot = self._slot(name)
        value = getattr(slot, "value", None)
        return str(value) if value else None

    def slot_id(self, name: str) -> str | None:
        """The entity-resolution id of a custom slot (``ER_SUCCESS_MATCH`` only), else ``None``."""
        slot = self._slot(name)
        resolutions = getattr(slot, "resolutions", None)
        for authority in getattr(resolutions, "resolutions_per_authority", None) or []:
            code = getattr(getattr(authority.status, "code", None), "value", None)
            if code == "ER_SUCCESS_MATCH" and authority.values:
                return str(authority.values[0].value.id)
        return None

    # -- the person's stored record (loaded on first use, saved once after the handler) -------
    @property
    def user(self) -> UserRecord:
        """What is remembered about this person (a fresh record for a new one).

        Read and parsed once per request, however many handlers and helpers ask; a failed
        read is remembered too, so one request never waits on a down store twice.

        :raises StorageUnavailableError: if the store cannot be read.
        """
        cache = self.hi.attributes_manager.request_attributes
        if cache.get(USER_UNREACHABLE_KEY):
            raise StorageUnavailableError("storage already failed in this request")
        try:
            raw = self.hi.attributes_manager.persistent_attributes
        except StorageUnavailableError:
            cache[USER_UNREACHABLE_KEY] = True
            raise
        cached = cache.get(USER_KEY)
        if cached is not None and cached[0] is raw:
            record: UserRecord = cached[1]
            return record
        record = UserRecord.from_attributes(raw)
        cache[USER_KEY] = (raw, record)
        return record

    def user_if_reachable(self) -> UserRecord | None:
        """:attr:`user`, or ``None`` when storage is down (for features that can do without)."""
        try:
            return self.user
        except StorageUnavailableError:
            log.warning("storage unavailable; carrying on without memory",
                        extra={"fields": {"intent": intent_name(self.hi)}})
            return None

    def remember(self, record: UserRecord) -> None:
        """Replace what is remembered; written once, after the handler returns."""
        raw = RecordAttributes(record)
        self.hi.attributes_manager.persistent_attributes = raw
        self.hi.attributes_manager.request_attributes[USER_KEY] = (raw, record)

    def forget_everything(self) -> None:
        """Delete every stored attribute of this person, now."""
        self.hi.attributes_manager.delete_persistent_attributes()

    # -- speech --------------------------------------------------------------------------------
    def say(self, key: str, **params: object) -> Turn:
        self.speech.say(key, **params)
        return self

    def ask(self, reprompt_key: str, listen_freely: bool = False, **params: object) -> Response:
        """Speak what was said, then keep the microphone open with a reprompt.

        :param listen_freely: also elicit the check-in's free-form ``answer`` slot, so whatever
            the person says next (if it is not another intent) reaches the skill as text
            (``Dialog.ElicitSlot`` on ``CheckInIntent``; see README, "Free-form speech").
        """
        self.reprompt.say(reprompt_key, **params)
        return self._ask_ssml(self.speech.ssml(), self.reprompt.ssml(), listen_freely)

    def repeat_last_question(self) -> Response | None:
        """Say the last question of this session again, exactly, still listening the same way
        (``None`` when nothing was asked yet). What is kept is the skill's own speech."""
        last = self.session.get(LAST_ASK_KEY)
        if not isinstance(last, dict) or not all(isinstance(last.get(k), str)
                                                 for k in ("speech", "reprompt")):
            return None
        return self._ask_ssml(last["speech"], last["reprompt"], last.get("free") is True)

    def _ask_ssml(self, speech: str, reprompt: str, listen_freely: bool) -> Response:
        self.session[LAST_ASK_KEY] = {"speech": speech, "reprompt": reprompt, "free": listen_freely}
        builder = self.hi.response_builder.speak(speech).ask(reprompt)
        if listen_freely:
            slot = Slot(name=FREE_SLOT, confirmation_status=SlotConfirmationStatus.NONE)
            intent = Intent(name=FREE_INTENT, slots={FREE_SLOT: slot},
                            confirmation_status=IntentConfirmationStatus.NONE)
            builder.add_directive(ElicitSlotDirective(slot_to_elicit=FREE_SLOT, updated_intent=intent))
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


SETTINGS_KEY = "settings"
BEST_EFFORT_KEY = "save_best_effort"
#: Request attributes caching this request's parsed user record (and a failed read).
USER_KEY = "user_record"
USER_UNREACHABLE_KEY = "user_unreachable"


def save_best_effort(handler_input: HandlerInput) -> None:
    """Mark this request's answer as more important than saving the user afterwards."""
    handler_input.attributes_manager.request_attributes[BEST_EFFORT_KEY] = True


def settings_of(handler_input: HandlerInput) -> Settings:
    """The skill's settings for this request (``load_settings()`` outside an assembled skill)."""
    settings = handler_input.attributes_manager.request_attributes.get(SETTINGS_KEY)
    return settings if isinstance(settings, Settings) else load_settings()


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
