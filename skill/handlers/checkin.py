"""The day check-in, and crisis safety wherever free speech arrives.

Free speech reaches the skill as ``CheckInIntent.answer`` (``AMAZON.SearchQuery``): with a
carrier phrase ("my day was ...", 「今日は…」), or as the whole utterance after the skill elicits
the slot (``Turn.ask(listen_freely=True)``). The words are analysed, never stored or logged; only
derived tags (polarity, emotions, topics, date) and a crisis counter are kept.

Where nothing is elicited (right after the welcome, at a menu, as a one-shot request), speech
without a carrier phrase would reach the skill as ``AMAZON.FallbackIntent``, without its words.
``CrisisIntent`` (no slots; its samples are plain statements of crisis such as "i want to die"
or 「消えてしまいたい」) lets Alexa's language model recognise crisis there too.
"""

from __future__ import annotations

import datetime as dt

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import get_locale
from ask_sdk_model import Response
from ask_sdk_model.ui import SimpleCard

from skill.checkin import FollowUp, Reading, analyze
from skill.checkin.followup import (
    crisis_listening,
    crisis_more_contacts,
    crisis_repeat,
    crisis_reply,
    follow_up,
    opening,
)
from skill.handlers.base import (
    FREE_SLOT,
    IntentHandler,
    Turn,
    intent_name,
    save_best_effort,
    session_state,
)
from skill.logs import get_logger
from skill.speech import DEFAULT_LOCALE
from skill.storage.records import CheckinTag

log = get_logger("handlers.checkin")
CHECKIN_STATE = "checkin"
CRISIS_STATE = "crisis"
#: The check-in has closed with "a reflection, or a lesson?": yes and no get real answers.
CLOSED_STATE = "checkin_closed"
SESSION_KEY = "checkin"
HISTORY_MAX = 12
READING_KEY = "checkin_reading"
#: Plain statements of crisis, recognised by Alexa's language model wherever they are said.
CRISIS_INTENT = "CrisisIntent"


def _reading(handler_input: HandlerInput, locale: str) -> Reading | None:
    """The reading of the free-form answer in this request, if there is one (analysed once per
    request: the crisis guard's ``can_handle`` and the answer handler share it)."""
    if intent_name(handler_input) != "CheckInIntent":
        return None
    cache = handler_input.attributes_manager.request_attributes
    cached = cache.get(READING_KEY)
    if isinstance(cached, Reading):
        return cached
    slots = handler_input.request_envelope.request.intent.slots or {}
    text = getattr(slots.get(FREE_SLOT), "value", None) or ""
    reading = analyze(str(text), locale)
    cache[READING_KEY] = reading
    return reading


def _history(turn: Turn) -> list[str]:
    data = turn.session.get(SESSION_KEY)
    if not isinstance(data, dict) or not isinstance(data.get("history"), list):
        data = {"history": []}
        turn.session[SESSION_KEY] = data
    history: list[str] = data["history"]
    return history


def _speak(turn: Turn, follow: FollowUp) -> None:
    """Say a follow-up and its continuation keys; remember them as history."""
    history = _history(turn)
    turn.say(follow.key, **follow.kwargs(turn.speech.phrase))
    for key in follow.then:
        turn.say(key)
    history.extend((follow.key, *follow.then))
    del history[:-HISTORY_MAX]


def crisis_response(turn: Turn, follow: FollowUp) -> Response:
    """Care, a real contact for the person's country, the offer to stay; the session stays open."""
    _speak(turn, follow)
    turn.state = CRISIS_STATE
    turn.hi.response_builder.set_card(SimpleCard(title=turn.speech.phrase("checkin.crisis.card_title"),
                                                 content=turn.speech.phrase("checkin.crisis.card")))
    return turn.ask("checkin.crisis.again", listen_freely=True)


class CrisisGuardHandler(IntentHandler):
    """Free speech that suggests crisis, or ``CrisisIntent``, in any state (a reflection
    included): the crisis reply replaces whatever was going on. Only a counter is stored; the
    words go nowhere."""

    intents = ("CheckInIntent", CRISIS_INTENT)

    def can_handle(self, handler_input: HandlerInput) -> bool:
        if not super().can_handle(handler_input):
            return False
        if intent_name(handler_input) == CRISIS_INTENT:
            return True
        reading = _reading(handler_input, get_locale(handler_input) or DEFAULT_LOCALE)
        return reading is not None and reading.crisis

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        save_best_effort(handler_input)  # the reply must be heard even if the counter is not saved
        log.info("crisis reply given", extra={"fields": {"from_state": turn.state}})
        turn.session.pop("reflection", None)
        user = turn.user_if_reachable()
        if user is not None:
            turn.remember(user.with_crisis())
        return crisis_response(turn, crisis_reply(_history(turn)))


class CrisisRepeatHandler(IntentHandler):
    """"Repeat" after the crisis reply: the main contact again, slowly."""

    intents = ("AMAZON.RepeatIntent",)
    states = (CRISIS_STATE,)

    def handle(self, handler_input: HandlerInput) -> Response:
        return crisis_response(Turn(handler_input), crisis_repeat())


class CrisisMoreContactsHandler(IntentHandler):
    """"Yes", "help" or "more" after the crisis reply: the other contacts for the country."""

    intents = ("AMAZON.YesIntent", "AMAZON.HelpIntent", "AMAZON.NextIntent", "NextStepIntent")
    states = (CRISIS_STATE,)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        return crisis_response(turn, crisis_more_contacts(_history(turn)))


class CrisisStayHandler(AbstractRequestHandler):
    """Anything else said after the crisis reply ("thank you", "no", "skip", "pause", words that
    fit nothing): stay, gently, without the numbers each time; never the menu, never the normal
    script. Asking for a reflection or a lesson by name still works (their handlers come first),
    and so do stop, "go home", "what do you remember" and "delete my data"."""

    #: What the person can still choose to do from here.
    LEAVING = frozenset({"AMAZON.StopIntent", "AMAZON.CancelIntent", "AMAZON.NavigateHomeIntent",
                         "DeleteMyDataIntent", "WhatDoYouRememberIntent"})

    def can_handle(self, handler_input: HandlerInput) -> bool:
        # Not an IntentHandler, so the mapper asks it on every request: cheapest test first.
        name = intent_name(handler_input)
        return (name is not None and name not in self.LEAVING
                and session_state(handler_input) == CRISIS_STATE)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        declined = intent_name(handler_input) == "AMAZON.NoIntent"
        _speak(turn, crisis_listening(_history(turn), declined))
        return turn.ask("checkin.crisis.again", listen_freely=True)


class CrisisGoodbyeHandler(IntentHandler):
    """The person chooses to stop after the crisis reply: the contact once more, then goodbye."""

    intents = ("AMAZON.StopIntent", "AMAZON.CancelIntent")
    states = (CRISIS_STATE,)

    def handle(self, handler_input: HandlerInput) -> Response:
        return Turn(handler_input).say("checkin.crisis.goodbye").tell()


class CheckInStartHandler(IntentHandler):
    """``CheckInStartIntent`` ("how was my day", "check in"): ask the opening question."""

    intents = ("CheckInStartIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        turn.session[SESSION_KEY] = {"history": []}
        turn.state = CHECKIN_STATE
        _speak(turn, opening())
        return turn.ask("checkin.reask.soft", listen_freely=True)


class CheckInAnswerHandler(IntentHandler):
    """An answer about the day (outside a reflection): one warm question one stage deeper,
    up to three turns, then a gentle close offering a reflection or a lesson."""

    intents = ("CheckInIntent", "AMAZON.YesIntent", "AMAZON.NoIntent")

    def can_handle(self, handler_input: HandlerInput) -> bool:
        if not super().can_handle(handler_input):
            return False
        state = session_state(handler_input)
        if intent_name(handler_input) == "CheckInIntent":
            return not state.startswith("reflection")
        # A bare "yes" or "no" to an open check-in question is a (thin) answer, not a dead end.
        return state == CHECKIN_STATE

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        if turn.state != CHECKIN_STATE:
            turn.session[SESSION_KEY] = {"history": []}
        reading = _reading(handler_input, turn.locale) or analyze("", turn.locale)
        history = _history(turn)
        if not reading.unclear and not any(k.startswith("checkin.ask.") or k.startswith("checkin.savour.")
                                           for k in history):
            self._remember_tags(turn, reading)
        follow = follow_up(reading, history)
        _speak(turn, follow)
        if follow.closing:
            turn.state = CLOSED_STATE
            turn.session.pop(SESSION_KEY, None)
            return turn.ask("menu.reprompt")
        turn.state = CHECKIN_STATE
        return turn.ask("checkin.reask.soft", listen_freely=True)

    @staticmethod
    def _remember_tags(turn: Turn, reading: Reading) -> None:
        user = turn.user_if_reachable()
        if user is None:
            return
        tag = CheckinTag(date=dt.datetime.now(dt.UTC).date(), polarity=reading.polarity,
                         emotions=reading.emotions, topics=reading.topics)
        turn.remember(user.pruned().with_checkin_tag(tag))


class CheckInSkipHandler(IntentHandler):
    """"Skip", "next" or "done" during a check-in: no more questions; a kind close and the
    offer of a reflection or a lesson (nothing is stored from the unanswered question)."""

    intents = ("SkipStageIntent", "NextStepIntent", "AMAZON.NextIntent")
    states = (CHECKIN_STATE,)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        turn.session.pop(SESSION_KEY, None)
        turn.state = CLOSED_STATE
        return turn.say("checkin.skipped").ask("menu.reprompt")


class ClosingOfferAcceptedHandler(IntentHandler):
    """"Yes" to "a reflection, or a lesson?": ask which, kindly."""

    intents = ("AMAZON.YesIntent",)
    states = (CLOSED_STATE,)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        turn.state = "menu"
        return turn.say("checkin.close.which").ask("menu.reprompt")


class ClosingOfferDeclinedHandler(IntentHandler):
    """"No" to "a reflection, or a lesson?": a warm goodbye; the session ends."""

    intents = ("AMAZON.NoIntent",)
    states = (CLOSED_STATE,)

    def handle(self, handler_input: HandlerInput) -> Response:
        return Turn(handler_input).say("checkin.close.declined").tell()


#: The crisis guard comes before everything that can take free speech.
GUARDS = (CrisisGuardHandler(),)
HANDLERS = (CrisisRepeatHandler(), CrisisMoreContactsHandler(), CrisisGoodbyeHandler(),
            CrisisStayHandler(), CheckInSkipHandler(), ClosingOfferAcceptedHandler(),
            ClosingOfferDeclinedHandler(),
            CheckInStartHandler(), CheckInAnswerHandler())
