"""Launch and session end."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from skill.simulator.conversation import Conversation
from tests.conftest import speech_of

Converse = Callable[..., Conversation]


@pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
class TestLaunch:
    def test_welcome_asks_with_reprompt(self, converse: Converse, locale: str) -> None:
        """If the skill is opened, then it offers the three activities and keeps listening."""
        status, payload = converse(locale).launch()
        assert status == 200
        response = payload["response"]
        assert response["shouldEndSession"] is False
        assert response["reprompt"]["outputSpeech"]["ssml"]
        text = speech_of(payload)
        assert ("reflect" in text and "lesson" in text) or ("ふりかえり" in text and "レッスン" in text)

    def test_welcome_varies(self, converse: Converse, locale: str) -> None:
        """If the person opens the skill twice in one session, then the welcome differs."""
        conversation = converse(locale)
        _, first = conversation.launch()
        conversation.session = {"sessionId": "s", "attributes": first["sessionAttributes"], "new": False}
        _, second = conversation.send({"type": "LaunchRequest"})
        assert speech_of(first) != speech_of(second)


def test_session_ended_is_silent(converse: Converse) -> None:
    """If the session ends, then the response carries no speech."""
    conversation = converse("en-US")
    conversation.launch()
    status, payload = conversation.end("EXCEEDED_MAX_REPROMPTS")
    assert status == 200
    assert "outputSpeech" not in payload["response"]


@pytest.mark.parametrize("locale", ["fr-FR", None])
def test_session_ended_in_an_unsupported_locale_is_silent(converse: Converse,
                                                          locale: str | None) -> None:
    """If a session in a locale the skill does not speak ends, then the answer is still silent
    (found by the endpoint fuzzer: a session end without a locale was told "I only speak...")."""
    conversation = converse("en-US")
    conversation.launch()
    request: dict[str, object] = {"type": "SessionEndedRequest", "reason": "USER_INITIATED"}
    envelope = conversation.envelope(request)
    if locale is None:
        del envelope["request"]["locale"]
    else:
        envelope["request"]["locale"] = locale
    status, payload = conversation.transport(envelope)
    assert status == 200
    assert "outputSpeech" not in payload["response"]
