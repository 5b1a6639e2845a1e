"""The day check-in conversation, and crisis safety wherever free speech arrives."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask

from skill.simulator.conversation import Conversation
from tests.conftest import raw_bytes, speech_of
from tests.fuzz.support import says_one_of

Converse = Callable[..., Conversation]
# Sentences written for these tests (not from the development set).
DAYS = {
    "en-US": {
        "bad": "my day was awful my manager criticised my report in front of the whole team",
        "good": "today was lovely i had lunch with an old friend and we laughed a lot",
        "mixed": "the morning was great but the evening was a total mess",
        "crisis": "honestly i just want to end my life",
    },
    "ja-JP": {
        "bad": "今日は最悪だった上司にみんなの前で報告書をけなされた",
        "good": "今日は楽しかった久しぶりに友達とランチしていっぱい笑った",
        "mixed": "今日は午前中はよかったけど夜はさんざんだった",
        "crisis": "もう死にたいってずっと思ってる",
    },
}
#: Plain statements of crisis with no carrier phrase: Alexa resolves them to ``CrisisIntent``.
PLAIN_CRISIS = {"en-US": "i want to die", "ja-JP": "消えてしまいたい"}
HOTLINE = {"en-US": "nine eight eight", "ja-JP": "よりそいホットライン"}
NUMBER = {"en-US": "nine eight eight", "ja-JP": "サンサンハチ"}
LOCALES = ["en-US", "ja-JP"]


def _start(conversation: Conversation) -> None:
    conversation.launch()
    conversation.intent("CheckInStartIntent")


@pytest.mark.parametrize("locale", LOCALES)
class TestCheckIn:
    def test_opening_elicits_free_speech(self, converse: Converse, locale: str) -> None:
        """If the person asks to check in, then one question, and the answer slot is elicited."""
        conversation = converse(locale)
        conversation.launch()
        _, payload = conversation.intent("CheckInStartIntent")
        directives = payload["response"]["directives"]
        assert directives[0]["type"] == "Dialog.ElicitSlot"
        assert directives[0]["slotToElicit"] == "answer"
        assert payload["response"]["shouldEndSession"] is False

    @pytest.mark.parametrize("day", ["bad", "good", "mixed"])
    def test_answer_gets_one_warm_question(self, converse: Converse, locale: str, day: str) -> None:
        """If the person says how the day went, then one short question follows, mic open."""
        conversation = converse(locale)
        _start(conversation)
        _, payload = conversation.say(DAYS[locale][day])
        speech = speech_of(payload)
        assert speech.count("?") + speech.count("？") >= 1 or "か。" in speech
        assert payload["sessionAttributes"]["state"] == "checkin"
        assert HOTLINE[locale] not in speech

    def test_never_asks_the_same_question_twice(self, converse: Converse, locale: str) -> None:
        """If the person answers three times, then no follow-up repeats, and it closes gently."""
        conversation = converse(locale)
        _start(conversation)
        seen = []
        for _ in range(3):
            _, payload = conversation.say(DAYS[locale]["bad"])
            seen.append(speech_of(payload))
        assert len(set(seen)) == 3
        assert payload["sessionAttributes"]["state"] == "checkin_closed"

    def test_unclear_answer_gets_a_gentle_reask(self, converse: Converse, locale: str) -> None:
        """If the answer is empty or unclear, then a gentle re-ask, never a crash."""
        conversation = converse(locale)
        _start(conversation)
        _, payload = conversation.intent_from_text("CheckInIntent", {"answer": "hmm"})
        assert payload["response"]["shouldEndSession"] is False
        assert speech_of(payload)
        _, empty = conversation.intent("CheckInIntent")
        assert empty["response"]["shouldEndSession"] is False

    @pytest.mark.parametrize("intent", ["AMAZON.YesIntent", "AMAZON.NoIntent"])
    def test_bare_yes_or_no_mid_check_in_is_an_answer(self, converse: Converse, locale: str,
                                                      intent: str) -> None:
        """If the person answers an open check-in question with just yes or no, then the
        check-in goes on gently (a re-ask), not 'that isn't something I can do'."""
        from skill.speech import load_catalog

        conversation = converse(locale)
        _start(conversation)
        conversation.say(DAYS[locale]["good"])
        _, payload = conversation.intent(intent)
        catalog = load_catalog().for_locale(locale)
        assert not any(v in speech_of(payload) for v in catalog.variants("fallback.unhandled_intent"))
        assert payload["sessionAttributes"]["state"] in ("checkin", "checkin_closed")
        assert payload["response"]["shouldEndSession"] is False

    @pytest.mark.parametrize("intent", ["SkipStageIntent", "NextStepIntent", "AMAZON.NextIntent"])
    def test_skip_closes_kindly_with_an_offer(self, converse: Converse, locale: str,
                                              intent: str) -> None:
        """If the person says skip, next or done instead of answering, then the check-in ends
        kindly with the offer of a reflection or a lesson, never "I can't do that"."""
        conversation = converse(locale)
        _start(conversation)
        _, payload = conversation.intent(intent)
        assert says_one_of(payload, locale, "checkin.skipped")
        assert payload["sessionAttributes"]["state"] == "checkin_closed"
        _, which = conversation.intent("AMAZON.YesIntent")
        assert which["sessionAttributes"]["state"] == "menu"

    def test_one_shot_answer_from_the_menu(self, converse: Converse, locale: str) -> None:
        """If the person opens with 'my day was ...', then the check-in starts right there."""
        carrier = {"en-US": "my day was rough", "ja-JP": "今日は疲れた一日だった"}
        _, payload = converse(locale).say(carrier[locale])
        assert payload["sessionAttributes"]["state"] == "checkin"


@pytest.mark.parametrize("locale", LOCALES)
class TestCrisis:
    def test_crisis_answer_gets_care_and_real_contacts(self, converse: Converse, locale: str) -> None:
        """If the words suggest crisis, then care, the country's hotline, and the session stays open."""
        conversation = converse(locale)
        _start(conversation)
        _, payload = conversation.say(DAYS[locale]["crisis"])
        speech = speech_of(payload)
        assert HOTLINE[locale] in speech
        assert payload["response"]["shouldEndSession"] is False
        assert payload["sessionAttributes"]["state"] == "crisis"
        card = payload["response"]["card"]
        assert {"en-US": "988", "ja-JP": "0120-279-338"}[locale] in card["content"]
        assert card["title"]

    def test_crisis_said_right_after_the_welcome(self, converse: Converse, app: Flask,
                                                 locale: str) -> None:
        """If crisis words come at the menu, where no free speech is elicited, then they are
        still recognised (``CrisisIntent``), answered with care and counted."""
        user = f"amzn1.ask.account.menu-crisis-{locale}"
        conversation = converse(locale, user_id=user)
        conversation.launch()
        _, payload = conversation.say(PLAIN_CRISIS[locale])
        assert HOTLINE[locale] in speech_of(payload)
        assert payload["sessionAttributes"]["state"] == "crisis"
        assert payload["response"]["shouldEndSession"] is False
        store = app.extensions["reflection"]["persistence"].store
        assert store.get(user).record.crisis_count == 1

    def test_crisis_said_as_a_one_shot_request(self, converse: Converse, locale: str) -> None:
        """If the first thing said to the skill is a crisis statement ("tell Reflection Guide
        I want to die"), then the crisis reply comes and the session stays open."""
        _, payload = converse(locale).say(PLAIN_CRISIS[locale])
        assert HOTLINE[locale] in speech_of(payload)
        assert payload["response"]["shouldEndSession"] is False
        assert payload["response"]["card"]["content"]

    def test_crisis_intent_mid_reflection_stops_the_reflection(self, converse: Converse,
                                                               locale: str) -> None:
        """If Alexa hears a plain crisis statement during a reflection, then the reflection
        stops and the crisis reply comes (as it does for crisis words in free speech)."""
        conversation = converse(locale)
        conversation.intent("StartReflectionIntent")
        _, payload = conversation.intent("CrisisIntent")
        assert HOTLINE[locale] in speech_of(payload)
        assert "reflection" not in payload["sessionAttributes"]
        assert payload["sessionAttributes"]["state"] == "crisis"

    def test_crisis_in_the_middle_of_a_reflection(self, converse: Converse, locale: str) -> None:
        """If crisis words come mid-reflection, then the reflection stops and the crisis reply comes."""
        conversation = converse(locale)
        conversation.intent("StartReflectionIntent")
        conversation.intent("NextStepIntent")
        _, payload = conversation.say(DAYS[locale]["crisis"])
        assert HOTLINE[locale] in speech_of(payload)
        assert "reflection" not in payload["sessionAttributes"]
        assert payload["response"]["shouldEndSession"] is False

    def test_after_crisis_the_normal_flow_does_not_resume(self, converse: Converse,
                                                          locale: str) -> None:
        """If the person says something ordinary after the crisis reply, then the skill stays
        with them rather than carrying on the check-in script."""
        conversation = converse(locale)
        _start(conversation)
        conversation.say(DAYS[locale]["crisis"])
        _, payload = conversation.say(DAYS[locale]["bad"])
        assert payload["sessionAttributes"]["state"] == "crisis"
        _, again = conversation.intent("AMAZON.RepeatIntent")
        assert NUMBER[locale] in speech_of(again)

    def test_more_contacts_on_request(self, converse: Converse, locale: str) -> None:
        """If the person asks for more, then the other contacts from the brief are given, two
        at a time with an offer of more, then the main number again."""
        conversation = converse(locale)
        _start(conversation)
        conversation.say(DAYS[locale]["crisis"])
        _, first = conversation.intent("AMAZON.YesIntent")
        _, second = conversation.intent("AMAZON.YesIntent")
        _, third = conversation.intent("AMAZON.YesIntent")
        assert says_one_of(first, locale, "checkin.crisis.more_offer")
        assert says_one_of(second, locale, "checkin.crisis.more_contacts.end")
        assert not says_one_of(second, locale, "checkin.crisis.more_contacts")
        assert says_one_of(third, locale, "checkin.crisis.repeat")
        for payload in (first, second, third):
            assert payload["response"]["shouldEndSession"] is False
            assert payload["sessionAttributes"]["state"] == "crisis"

    @pytest.mark.parametrize(("intent", "slots"), [
        ("AMAZON.FallbackIntent", None), ("SkipStageIntent", None),
        ("AMAZON.PauseIntent", None), ("AMAZON.ShuffleOnIntent", None), ("CheckInStartIntent", None),
    ])
    def test_anything_else_after_the_crisis_reply_stays_with_the_person(
            self, converse: Converse, locale: str, intent: str, slots: None) -> None:
        """If the person says something else after the crisis reply ("thank you", "no",
        "skip", "pause"), then the skill stays with them: no menu, no normal script, and a
        different line each time rather than the emergency number again and again."""
        conversation = converse(locale)
        conversation.launch()
        conversation.intent("CrisisIntent")
        heard = []
        for _ in range(3):
            _, payload = conversation.intent(intent)
            assert payload["sessionAttributes"]["state"] == "crisis"
            assert payload["response"]["shouldEndSession"] is False
            assert says_one_of(payload, locale, "checkin.crisis.listening")
            assert not says_one_of(payload, locale, "fallback.unhandled_intent")
            heard.append(speech_of(payload))
        assert heard[0] != heard[1] and heard[1] != heard[2]

    def test_no_is_respected_and_no_contact_is_offered_twice(self, converse: Converse,
                                                           locale: str) -> None:
        """If the person says no to another contact, then the skill just stays, without asking
        again; once every contact was given, it no longer offers "another place"."""
        conversation = converse(locale)
        conversation.launch()
        conversation.intent("CrisisIntent")
        _, no = conversation.intent("AMAZON.NoIntent")
        assert says_one_of(no, locale, "checkin.crisis.quiet")
        assert not says_one_of(no, locale, "checkin.crisis.listening")
        for _ in range(2):
            conversation.intent("AMAZON.YesIntent")  # every other contact, two at a time
        _, later = conversation.intent("AMAZON.FallbackIntent")
        assert says_one_of(later, locale, "checkin.crisis.quiet")

    def test_the_person_can_still_leave_or_ask_what_is_kept(self, converse: Converse,
                                                             locale: str) -> None:
        """If the person asks what is remembered after the crisis reply, then they hear it; if
        they say stop, the session ends with the number once more."""
        conversation = converse(locale)
        conversation.launch()
        conversation.intent("CrisisIntent")
        _, kept = conversation.intent("WhatDoYouRememberIntent")
        assert says_one_of(kept, locale, "privacy.summary.support")
        conversation.intent("CrisisIntent")
        _, bye = conversation.intent("AMAZON.StopIntent")
        assert says_one_of(bye, locale, "checkin.crisis.goodbye")
        assert bye["response"]["shouldEndSession"] is True

    def test_everyday_hyperbole_is_answered_normally(self, converse: Converse, locale: str) -> None:
        """If someone exaggerates ('killing me'), then it is an ordinary check-in answer."""
        hyperbole = {"en-US": "this commute is killing me", "ja-JP": "死ぬほど眠い"}[locale]
        conversation = converse(locale)
        _start(conversation)
        _, payload = conversation.say(hyperbole)
        assert payload["sessionAttributes"]["state"] == "checkin"


class TestPrivacy:
    def test_words_are_never_stored_only_tags(self, converse: Converse, app: Flask,
                                              db_path: str) -> None:
        """If a check-in happens, then the database holds derived tags, never the words."""
        user = "amzn1.ask.account.private"
        conversation = converse("en-US", user_id=user)
        _start(conversation)
        conversation.say("my day was awful my manager criticised my quarterly zebra report")
        store = app.extensions["reflection"]["persistence"].store
        record = store.get(user).record
        assert record.checkin_tags and record.checkin_tags[0].polarity == "negative"
        raw = raw_bytes(Path(db_path).parent.glob("*.sqlite3*"))
        for word in (b"zebra", b"quarterly", b"criticised"):
            assert word not in raw

    def test_crisis_is_counted_not_recorded(self, converse: Converse, app: Flask) -> None:
        """If a crisis reply is given, then only a counter goes up."""
        user = "amzn1.ask.account.crisis-count"
        conversation = converse("en-US", user_id=user)
        _start(conversation)
        conversation.say(DAYS["en-US"]["crisis"])
        store = app.extensions["reflection"]["persistence"].store
        record = store.get(user).record
        assert record.crisis_count == 1
        assert record.checkin_tags == ()


@pytest.mark.parametrize("locale", LOCALES)
class TestClosingOffer:
    def _closed(self, conversation: Conversation, locale: str) -> None:
        _start(conversation)
        for _ in range(3):
            conversation.say(DAYS[locale]["bad"])

    def test_yes_asks_which(self, converse: Converse, locale: str) -> None:
        """If the person says yes to 'a reflection, or a lesson?', then the skill asks which."""
        conversation = converse(locale)
        self._closed(conversation, locale)
        _, payload = conversation.intent("AMAZON.YesIntent")
        assert payload["sessionAttributes"]["state"] == "menu"
        assert payload["response"]["shouldEndSession"] is False

    def test_no_says_a_warm_goodbye(self, converse: Converse, locale: str) -> None:
        """If the person says no to the offer, then a warm goodbye ends the session."""
        conversation = converse(locale)
        self._closed(conversation, locale)
        _, payload = conversation.intent("AMAZON.NoIntent")
        assert payload["response"]["shouldEndSession"] is True
        assert speech_of(payload)

