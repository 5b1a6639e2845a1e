"""The assembled skill: the indexed request mapper picks exactly the handler the SDK's would."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ask_sdk_core.attributes_manager import AttributesManager
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import RequestEnvelope
from ask_sdk_runtime.dispatch_components import GenericRequestMapper

from skill.assembly import IntentIndexedMapper, build_skill
from skill.config import load_settings
from skill.handlers import checkin, lessons, privacy, reflection, registry
from skill.handlers.base import STATE, IntentHandler
from skill.serialization import ModelSerializer
from skill.service import create_app
from skill.simulator.conversation import Conversation
from skill.simulator.nlu import SlotValue, load_model

EVENTS = ("LaunchRequest", "SessionEndedRequest", "AudioPlayer.PlaybackStarted",
          "AudioPlayer.PlaybackStopped", "AudioPlayer.PlaybackFinished",
          "AudioPlayer.PlaybackNearlyFinished", "AudioPlayer.PlaybackFailed",
          "PlaybackController.PlayCommandIssued", "PlaybackController.PauseCommandIssued",
          "PlaybackController.NextCommandIssued", "PlaybackController.PreviousCommandIssued",
          "System.ExceptionEncountered", "AlexaSkillEvent.SkillDisabled")
PLAYERS = ({"playerActivity": "IDLE"},
           {"playerActivity": "PLAYING", "token": "lesson:v1:en-US:asking-for-help",
            "offsetInMilliseconds": 5000},
           {"playerActivity": "STOPPED", "token": "lesson:v1:ja-JP:asking-for-help",
            "offsetInMilliseconds": 5000})


def _states() -> set[str]:
    """Every session state some handler is gated on, and the states handlers set themselves."""
    named = {state for handler in registry.request_handlers() if isinstance(handler, IntentHandler)
             for state in handler.states or ()}
    return named | {"menu", checkin.CHECKIN_STATE, checkin.CRISIS_STATE, checkin.CLOSED_STATE,
                    lessons.OFFER_STATE, lessons.HEARD_STATE, privacy.CONFIRM_STATE,
                    reflection.OFFER_STATE, *reflection.REFLECTION_STATES}


def _envelopes() -> Iterator[dict[str, Any]]:
    """Every intent of both models (with and without its slots filled, plus unknown ones) and
    every request type, in every state, with an idle, playing and stopped player."""
    for locale in ("en-US", "ja-JP"):
        conversation = Conversation(lambda _e: (200, {}), locale=locale)
        requests: list[dict[str, Any]] = [{"type": kind} for kind in EVENTS]
        for intent in load_model(locale)["interactionModel"]["languageModel"]["intents"]:
            requests.append(conversation.intent_request(intent["name"], {}))
            filled = {slot["name"]: SlotValue("i want to end my life" if slot["name"] == "answer"
                                              else "asking for help")
                      for slot in intent.get("slots", [])}
            if filled:
                requests.append(conversation.intent_request(intent["name"], filled))
        requests.append(conversation.intent_request("NoSuchIntent", {}))
        for request in requests:
            for state in sorted(_states()):
                for player in PLAYERS:
                    conversation.player = dict(player)
                    conversation.session = {"sessionId": "s", "new": False,
                                            "attributes": {STATE: state}}
                    yield conversation.envelope(request)
            conversation.session = None
            yield conversation.envelope(request, with_session=False)


def _input(envelope: RequestEnvelope, adapter: Any) -> HandlerInput:
    return HandlerInput(envelope, AttributesManager(envelope, persistence_adapter=adapter))


@pytest.fixture(scope="module")
def adapter(tmp_path_factory: pytest.TempPathFactory) -> Any:
    db = Path(tmp_path_factory.mktemp("assembly")) / "skill.sqlite3"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("REFLECT_DEV_SKIP_VERIFICATION", "1")
        app = create_app({"db_path": str(db)})
    return app.extensions["reflection"]["persistence"]


def test_indexed_mapper_picks_the_handler_the_sdk_mapper_picks(adapter: Any) -> None:
    """If any request is dispatched in any state, then the indexed mapper chooses the same
    handler as the SDK's mapper, which asks every handler in registration order."""
    skill = build_skill(load_settings({"dev_skip_verification": True}), adapter)
    indexed = skill.request_dispatcher.request_mappers[0]
    assert isinstance(indexed, IntentIndexedMapper)
    reference = GenericRequestMapper(indexed.request_handler_chains)
    serializer = ModelSerializer()
    checked = 0
    for raw in _envelopes():
        envelope: RequestEnvelope = serializer.from_data(raw, RequestEnvelope)
        expected = reference.get_request_handler_chain(_input(envelope, adapter))
        chosen = indexed.get_request_handler_chain(_input(envelope, adapter))
        assert chosen is expected, (raw["request"], raw.get("session"))
        checked += 1
    assert checked > 3000  # the corpus above: ~3,300 requests


def test_every_intent_handler_takes_only_its_own_intents() -> None:
    """If a handler is an IntentHandler, then its intents are named (the index relies on it)."""
    for handler in registry.request_handlers():
        if isinstance(handler, IntentHandler):
            assert handler.intents, type(handler).__name__
