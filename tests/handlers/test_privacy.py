"""What is remembered, delete my data, and the SkillDisabled purge."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from skill.simulator.conversation import Conversation
from tests.conftest import speech_of
from tests.fuzz.support import says_one_of

Converse = Callable[..., Conversation]
LOCALES = ["en-US", "ja-JP"]


def _store(app: Flask) -> Any:
    return app.extensions["reflection"]["persistence"].store


def _finish_reflection(conversation: Conversation) -> None:
    conversation.intent("StartReflectionIntent")
    for _ in range(4):
        conversation.intent("NextStepIntent")


def _asked_to_delete(converse: Converse, locale: str, user: str) -> Conversation:
    """A person with a one-day streak, in a new session, who has just said "delete my data"."""
    _finish_reflection(converse(locale, user_id=user))
    conversation = converse(locale, user_id=user)
    conversation.intent("DeleteMyDataIntent")
    return conversation


@pytest.mark.parametrize("locale", LOCALES)
class TestDeleteMyData:
    def test_delete_needs_confirmation(self, converse: Converse, app: Flask, locale: str) -> None:
        """If the person asks to delete, then nothing is deleted until they say yes."""
        user = f"amzn1.ask.account.delete-{locale}"
        _finish_reflection(converse(locale, user_id=user))
        conversation = converse(locale, user_id=user)
        conversation.launch()
        _, payload = conversation.intent("DeleteMyDataIntent")
        assert payload["sessionAttributes"]["state"] == "confirm_delete"
        assert _store(app).get(user).exists
        _, done = conversation.intent("AMAZON.YesIntent")
        assert speech_of(done)
        assert not _store(app).get(user).exists
        assert user not in _store(app).keys()

    def test_no_keeps_everything(self, converse: Converse, app: Flask, locale: str) -> None:
        """If the person says no at the confirmation, then the data stays."""
        user = f"amzn1.ask.account.keep-{locale}"
        conversation = _asked_to_delete(converse, locale, user)
        _, payload = conversation.intent("AMAZON.NoIntent")
        assert payload["sessionAttributes"]["state"] == "menu"
        assert _store(app).get(user).record.streak.count == 1


    @pytest.mark.parametrize("detour", ["AMAZON.RepeatIntent", "AMAZON.HelpIntent",
                                        "AMAZON.FallbackIntent"])
    def test_repeat_or_help_asks_the_confirmation_again(self, converse: Converse, app: Flask,
                                                        locale: str, detour: str) -> None:
        """If the person says "repeat", "help" or something unclear at the confirmation, then
        the question is asked again, and only a yes after it deletes."""
        user = f"amzn1.ask.account.detour-{locale}-{detour}"
        conversation = _asked_to_delete(converse, locale, user)
        _, again = conversation.intent(detour)
        assert again["sessionAttributes"]["state"] == "confirm_delete"
        assert again["response"]["reprompt"]
        assert _store(app).get(user).exists
        conversation.intent("AMAZON.YesIntent")
        assert not _store(app).get(user).exists

    @pytest.mark.parametrize("between", ["WhatDoYouRememberIntent", "AMAZON.PauseIntent",
                                         "ListLessonsIntent"])
    def test_yes_after_another_answer_deletes_nothing(self, converse: Converse, app: Flask,
                                                      locale: str, between: str) -> None:
        """If the skill answered something else between the confirmation and a "yes" (what
        it remembers, a player control, the lesson list), then that "yes" deletes nothing."""
        user = f"amzn1.ask.account.between-{locale}-{between}"
        conversation = _asked_to_delete(converse, locale, user)
        _, answered = conversation.intent(between)
        assert answered["sessionAttributes"]["state"] != "confirm_delete"
        conversation.intent("AMAZON.YesIntent")
        assert _store(app).get(user).exists

    def test_yes_after_the_menu_was_offered_deletes_nothing(self, converse: Converse, app: Flask,
                                                           locale: str) -> None:
        """If something the skill cannot do here comes between the confirmation and a "yes",
        then the answer offers the menu and the "yes" no longer deletes anything."""
        user = f"amzn1.ask.account.lapse-{locale}"
        conversation = _asked_to_delete(converse, locale, user)
        _, offered = conversation.intent("AMAZON.ShuffleOnIntent")
        assert offered["sessionAttributes"]["state"] == "menu"
        conversation.intent("AMAZON.YesIntent")
        assert _store(app).get(user).record.streak.count == 1


@pytest.mark.parametrize("locale", LOCALES)
class TestWhatDoYouRemember:
    def test_nothing_yet(self, converse: Converse, locale: str) -> None:
        """If nothing is stored, then the skill says so and that words are never kept."""
        _, payload = converse(locale, user_id="amzn1.ask.account.blank").intent("WhatDoYouRememberIntent")
        assert speech_of(payload)
        assert payload["response"]["shouldEndSession"] is False

    def test_mentions_the_streak(self, converse: Converse, locale: str) -> None:
        """If a streak is stored, then the summary says its length."""
        user = f"amzn1.ask.account.summary-{locale}"
        _finish_reflection(converse(locale, user_id=user))
        _, payload = converse(locale, user_id=user).intent("WhatDoYouRememberIntent")
        assert "1" in speech_of(payload)


    def test_a_crisis_count_is_not_hidden(self, converse: Converse, locale: str) -> None:
        """If only the crisis counter (and the language) is stored, then the summary says so
        instead of claiming that nothing is stored."""
        user = f"amzn1.ask.account.summary-crisis-{locale}"
        converse(locale, user_id=user).intent("CrisisIntent")
        _, payload = converse(locale, user_id=user).intent("WhatDoYouRememberIntent")
        assert says_one_of(payload, locale, "privacy.summary.support")
        assert not says_one_of(payload, locale, "privacy.nothing_stored")

    def test_the_language_is_mentioned(self, converse: Converse,
                                                       locale: str) -> None:
        """If a launch stored only the language, then the summary names it; nothing-stored is
        said only to someone with no record at all."""
        user = f"amzn1.ask.account.summary-launch-{locale}"
        converse(locale, user_id=user).launch()
        _, payload = converse(locale, user_id=user).intent("WhatDoYouRememberIntent")
        assert says_one_of(payload, locale, "privacy.summary.language")
        assert not says_one_of(payload, locale, "privacy.summary.settings")  # no prompt ids stored
        assert not says_one_of(payload, locale, "privacy.summary.support")
        _, blank = converse(locale, user_id=f"{user}-blank").intent("WhatDoYouRememberIntent")
        assert says_one_of(blank, locale, "privacy.nothing_stored")



def test_a_one_day_streak_is_said_in_the_singular(converse: Converse) -> None:
    """If the streak is one day, then the summary says "1 day", never "1 days"."""
    user = "amzn1.ask.account.summary-singular"
    _finish_reflection(converse("en-US", user_id=user))
    for _ in range(6):  # every phrasing of the summary
        _, payload = converse("en-US", user_id=user).intent("WhatDoYouRememberIntent")
        assert "1 day" in speech_of(payload) and "1 days" not in speech_of(payload)


class TestReturningUsers:
    @pytest.mark.parametrize("locale", LOCALES)
    def test_new_and_returning_people_hear_different_welcomes(self, converse: Converse,
                                                              locale: str) -> None:
        """If a person comes back, then the welcome is a welcome back, not a first hello."""
        user = f"amzn1.ask.account.returning-{locale}"
        _, first = converse(locale, user_id=user).launch()
        _, again = converse(locale, user_id=user).launch()
        from skill.speech import load_catalog

        catalog = load_catalog().for_locale(locale)
        first_keys = catalog.variants("launch.welcome")
        back_keys = catalog.variants("launch.welcome_back")
        assert any(v in speech_of(first) for v in first_keys)
        assert any(v in speech_of(again) for v in back_keys)


    @pytest.mark.parametrize("locale", LOCALES)
    def test_a_lapsed_streak_is_not_praised(self, converse: Converse, app: Flask,
                                            locale: str) -> None:
        """If the last reflection of a 3-day streak was 17 days ago, then the welcome back does
        not praise a 3-day streak; if it was yesterday, it does."""
        from skill.speech import load_catalog
        from skill.storage import Streak, UserRecord

        today = dt.datetime.now(dt.UTC).date()
        catalog = load_catalog().for_locale(locale)
        for days_ago, praised in ((17, False), (1, True)):
            user = f"amzn1.ask.account.lapsed-{locale}-{days_ago}"
            record = UserRecord(streak=Streak(3, today - dt.timedelta(days=days_ago)))
            _store(app).put(user, record.with_locale(locale), expected_version=0)
            _, payload = converse(locale, user_id=user).launch()
            spoken = speech_of(payload)
            streak_line = any(v.split("}")[1] in spoken
                              for v in catalog.variants("launch.welcome_back.streak"))
            assert streak_line is praised, (days_ago, spoken)


class TestSkillDisabled:
    def test_purges_the_user(self, converse: Converse, app: Flask) -> None:
        """If the person disables the skill, then everything stored about them is deleted."""
        user = "amzn1.ask.account.disabled"
        _finish_reflection(converse("en-US", user_id=user))
        assert _store(app).get(user).exists
        status, payload = converse("en-US", user_id=user).event(
            "AlexaSkillEvent.SkillDisabled", {"userInformationPersistenceStatus": "NOT_PERSISTED"})
        assert status == 200
        assert "outputSpeech" not in payload.get("response", {})
        assert not _store(app).get(user).exists
