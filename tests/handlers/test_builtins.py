"""Built-in intents and the catch-alls, in both locales."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from skill.simulator.conversation import Conversation
from tests.conftest import speech_of
from tests.fuzz.support import says_one_of

Converse = Callable[..., Conversation]
LOCALES = ["en-US", "ja-JP"]


@pytest.mark.parametrize("locale", LOCALES)
class TestBuiltins:
    def test_help_keeps_listening(self, converse: Converse, locale: str) -> None:
        """If the person asks for help, then the skill explains and reprompts."""
        conversation = converse(locale)
        conversation.launch()
        _, payload = conversation.intent("AMAZON.HelpIntent")
        assert speech_of(payload)
        assert payload["response"]["shouldEndSession"] is False
        assert payload["response"]["reprompt"]

    @pytest.mark.parametrize("intent", ["AMAZON.StopIntent", "AMAZON.CancelIntent"])
    def test_stop_and_cancel_end_the_session(self, converse: Converse, locale: str, intent: str) -> None:
        """If the person says stop or cancel, then a short goodbye ends the session."""
        conversation = converse(locale)
        conversation.launch()
        _, payload = conversation.intent(intent)
        assert speech_of(payload)
        assert payload["response"]["shouldEndSession"] is True
        assert conversation.session is None

    def test_repeat_says_the_last_question_again(self, converse: Converse, locale: str) -> None:
        """If the person says "repeat" at the menu or at the check-in question, then the same
        question comes again, word for word, still listening for a free answer where it was."""
        conversation = converse(locale)
        _, welcome = conversation.launch()
        _, again = conversation.intent("AMAZON.RepeatIntent")
        assert speech_of(again) == speech_of(welcome)
        assert again["response"]["reprompt"] == welcome["response"]["reprompt"]
        _, question = conversation.intent("CheckInStartIntent")
        _, repeated = conversation.intent("AMAZON.RepeatIntent")
        assert speech_of(repeated) == speech_of(question)
        assert conversation.elicit == ("CheckInIntent", "answer")
        assert repeated["sessionAttributes"]["state"] == "checkin"
        _, answered = conversation.say(
            {"en-US": "my day was awful", "ja-JP": "今日は最悪だった"}[locale])
        assert answered["sessionAttributes"]["state"] == "checkin"

    def test_repeat_before_any_question_says_what_can_be_asked(self, converse: Converse,
                                                             locale: str) -> None:
        """If "repeat" is the first thing said, then the skill says what it can do and listens."""
        _, payload = converse(locale).intent("AMAZON.RepeatIntent")
        assert speech_of(payload)
        assert payload["response"]["shouldEndSession"] is False

    def test_a_bare_yes_at_the_menu_asks_which(self, converse: Converse, locale: str) -> None:
        """If the person answers "which would you like?" with just "yes", then the skill asks
        which one, instead of saying it cannot do that."""
        conversation = converse(locale)
        conversation.launch()
        _, payload = conversation.intent("AMAZON.YesIntent")
        assert says_one_of(payload, locale, "menu.which")
        assert not says_one_of(payload, locale, "fallback.unhandled_intent")
        assert payload["sessionAttributes"]["state"] == "menu"

    def test_navigate_home_offers_menu(self, converse: Converse, locale: str) -> None:
        """If the person goes home, then the menu is offered and the mic stays open."""
        conversation = converse(locale)
        conversation.launch()
        _, payload = conversation.intent("AMAZON.NavigateHomeIntent")
        assert payload["sessionAttributes"]["state"] == "menu"
        assert payload["response"]["shouldEndSession"] is False

    def test_fallback_is_never_a_dead_end(self, converse: Converse, locale: str) -> None:
        """If nothing matches what was said, then the skill says what works and listens again."""
        conversation = converse(locale)
        conversation.launch()
        _, payload = conversation.say("purple elephants dancing quietly")
        assert speech_of(payload)
        assert payload["response"]["shouldEndSession"] is False

    def test_unknown_intent_gets_reprompt(self, converse: Converse, locale: str) -> None:
        """If an intent arrives that no handler knows, then a friendly reprompt comes back."""
        conversation = converse(locale)
        conversation.launch()
        status, payload = conversation.intent("SomeRetiredIntent")
        assert status == 200
        assert speech_of(payload)
        assert payload["response"]["reprompt"]

    def test_unknown_event_outside_session_is_silent(self, converse: Converse, locale: str) -> None:
        """If a system event without a session arrives, then the answer has no speech."""
        status, payload = converse(locale).event("System.ExceptionEncountered",
                                                 {})
        assert status == 200
        assert "outputSpeech" not in payload["response"]
