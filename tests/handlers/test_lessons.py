"""Lessons: play by name, list, continue in a later session, SSML devices, the launch hook."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from ask_sdk_core.attributes_manager import AttributesManager
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.serialize import DefaultSerializer
from ask_sdk_model import RequestEnvelope

from skill.assembly import open_persistence
from skill.config import load_settings
from skill.handlers.base import Turn
from skill.handlers.lessons import MAX_SSML_AUDIO_MS, returning_prompt
from skill.lessons.catalog import CATALOG_DIR, encode_token, load_lessons
from skill.simulator.conversation import Conversation
from skill.simulator.nlu import SlotValue
from skill.storage import LessonProgress, UserRecord, open_store
from tests.conftest import speech_of
from tests.fuzz.support import says_one_of

Converse = Callable[..., Conversation]
LOCALES = ["en-US", "ja-JP"]
BASE_URL = "https://cdn.example.com/reflect-audio"
USER = "amzn1.ask.account.test-user"
PLAY = {"en-US": "play a lesson on asking for help", "ja-JP": "助けを求めるレッスンを聞かせて"}
LIST = {"en-US": "what lessons are there", "ja-JP": "どんなレッスンがある"}
CONTINUE = {"en-US": "continue my lesson", "ja-JP": "レッスンの続きを聞かせて"}
YES = {"en-US": "yes", "ja-JP": "はい"}
NO = {"en-US": "no", "ja-JP": "いいえ"}
#: The last lesson of the synthetic manifest is longer than one response may hold as SSML audio.
LONG_MS = MAX_SSML_AUDIO_MS + 10_000


def write_manifest(folder: Path) -> Path:
    """A manifest naming every catalog clip with known durations (lesson ``i``: 90 s + ``i`` s;
    the last lesson: longer than SSML allows), so tests never depend on the audio build."""
    clips: list[dict[str, Any]] = []
    for path in sorted(CATALOG_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        locale, lessons = data["locale"], data["lessons"]
        for index, item in enumerate(lessons):
            duration = LONG_MS if index == len(lessons) - 1 else 90_000 + 1_000 * index
            clips.append({"id": item["audio"], "locale": locale, "kind": "lesson",
                          "file": f"{locale}/{item['audio']}.mp3", "duration_ms": duration})
        for item in data["intros"]:
            clips.append({"id": item["audio"], "locale": locale, "kind": "intro",
                          "file": f"{locale}/{item['audio']}.mp3", "duration_ms": 20_000})
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps({"schema": 1, "clips": clips}), encoding="utf-8")
    return folder


@pytest.fixture(autouse=True)
def lesson_audio(_clean_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test plays from a synthetic manifest, with audio served from :data:`BASE_URL`."""
    folder = write_manifest(tmp_path / "audio")
    monkeypatch.setenv("REFLECT_AUDIO_DIR", str(folder))
    monkeypatch.setenv("REFLECT_AUDIO_BASE_URL", BASE_URL)
    return folder


def directives(payload: dict[str, Any]) -> list[dict[str, Any]]:
    return list((payload.get("response") or {}).get("directives") or [])


def play_of(payload: dict[str, Any]) -> dict[str, Any]:
    """The one ``AudioPlayer.Play`` directive's stream."""
    plays = [d for d in directives(payload) if d["type"] == "AudioPlayer.Play"]
    assert len(plays) == 1, directives(payload)
    assert plays[0]["playBehavior"] == "REPLACE_ALL"
    return dict(plays[0]["audioItem"]["stream"])


def stored(db_path: str, user_id: str = USER) -> UserRecord:
    return open_store(load_settings({"db_path": db_path})).get(user_id).record


def store(db_path: str, record: UserRecord, user_id: str = USER) -> None:
    open_store(load_settings({"db_path": db_path})).update(user_id, lambda _old: record, retries=1)


def progress(lesson_id: str, locale: str, offset_ms: int, finished: bool = False) -> LessonProgress:
    return LessonProgress(lesson_id, locale, offset_ms, finished, dt.datetime.now(dt.UTC))


def launch_turn(db_path: str, locale: str, user_id: str = USER) -> tuple[Turn, HandlerInput]:
    """A real ``Turn`` over a LaunchRequest, reading the same database as the app."""
    conversation = Conversation(lambda env: (200, {}), locale=locale, user_id=user_id)
    raw = conversation.envelope({"type": "LaunchRequest"})
    envelope = DefaultSerializer().deserialize(json.dumps(raw), RequestEnvelope)
    persistence = open_persistence(load_settings({"db_path": db_path}))
    manager = AttributesManager(request_envelope=envelope, persistence_adapter=persistence)
    handler_input = HandlerInput(request_envelope=envelope, attributes_manager=manager)
    return Turn(handler_input), handler_input


@pytest.mark.parametrize("locale", LOCALES)
class TestPlayLesson:
    def test_named_lesson_plays_with_a_spoken_intro(self, converse: Converse, db_path: str,
                                                    locale: str) -> None:
        """If a lesson is asked for by name, then its title is spoken and Play starts it at 0."""
        _, payload = converse(locale).say(PLAY[locale])
        lesson = load_lessons(locale)[0]
        stream = play_of(payload)
        assert stream["token"] == encode_token(lesson.id, locale)
        assert stream["url"] == f"{BASE_URL}/{locale}/lesson-why-hard.mp3"
        assert stream["offsetInMilliseconds"] == 0
        assert lesson.title in speech_of(payload)
        assert payload["response"]["shouldEndSession"] is True
        saved = stored(db_path).lesson
        assert saved is not None and (saved.lesson_id, saved.offset_ms, saved.finished) == (
            lesson.id, 0, False)

    def test_url_follows_the_configured_base(self, locale: str, db_path: str) -> None:
        """If the app is built with another audio base URL, then the stream URL uses it."""
        from skill.service import create_app
        from skill.simulator.chat import make_transport

        app = create_app({"dev_skip_verification": True, "db_path": db_path,
                          "audio_base_url": "https://media.example.org/a/"})
        _, payload = Conversation(make_transport(app), locale=locale).say(PLAY[locale])
        assert play_of(payload)["url"].startswith("https://media.example.org/a/" + locale + "/")

    def test_spoken_value_without_resolution_is_matched(self, converse: Converse,
                                                       locale: str) -> None:
        """If the slot has no resolved id, then the spoken value is matched against the catalog."""
        lesson = load_lessons(locale)[1]
        _, payload = converse(locale).intent("PlayLessonIntent",
                                             {"topic": SlotValue(lesson.title)})
        assert play_of(payload)["token"] == encode_token(lesson.id, locale)

    def test_unknown_topic_names_lessons_and_asks(self, converse: Converse, locale: str) -> None:
        """If the topic matches no lesson, then three titles are named and the skill asks."""
        _, payload = converse(locale).intent("PlayLessonIntent",
                                             {"topic": SlotValue("zanzibar teapots")})
        text = speech_of(payload)
        assert all(lesson.title in text for lesson in load_lessons(locale)[:3])
        assert not directives(payload)
        assert payload["response"]["shouldEndSession"] is False
        assert payload["response"]["reprompt"]["outputSpeech"]["ssml"]

    def test_no_topic_plays_the_first_lesson(self, converse: Converse, locale: str) -> None:
        """If no lesson is named and nothing is stored, then the first lesson plays."""
        _, payload = converse(locale).intent("PlayLessonIntent")
        assert play_of(payload)["token"] == encode_token(load_lessons(locale)[0].id, locale)

    def test_no_topic_continues_an_unfinished_lesson(self, converse: Converse, db_path: str,
                                                     locale: str) -> None:
        """If no lesson is named and one is half heard, then it continues at its offset."""
        store(db_path, UserRecord().with_lesson(progress("whom-to-ask", locale, 30_000)))
        _, payload = converse(locale).intent("PlayLessonIntent")
        stream = play_of(payload)
        assert stream["token"] == encode_token("whom-to-ask", locale)
        assert stream["offsetInMilliseconds"] == 30_000

    def test_no_topic_after_a_finished_lesson_plays_the_next(self, converse: Converse,
                                                            db_path: str, locale: str) -> None:
        """If no lesson is named and the stored one is finished, then the one after it plays."""
        store(db_path, UserRecord().with_lesson(progress("why-hard", locale, 0, finished=True)))
        _, payload = converse(locale).intent("PlayLessonIntent")
        assert play_of(payload)["token"] == encode_token("small-request", locale)


@pytest.mark.parametrize("locale", LOCALES)
class TestListLessons:
    def test_three_titles_a_breath_then_more_on_yes(self, converse: Converse, locale: str) -> None:
        """If the person asks what lessons there are, then three titles and "N more" are spoken,
        and each yes names the next three until the skill asks which one."""
        lessons = load_lessons(locale)
        conversation = converse(locale)
        _, first = conversation.say(LIST[locale])
        text = speech_of(first)
        assert all(lesson.title in text for lesson in lessons[:3])
        assert lessons[3].title not in text
        assert str(len(lessons) - 3) in text
        assert first["response"]["reprompt"]["outputSpeech"]["ssml"]
        heard = 3
        while heard < len(lessons):
            _, page = conversation.say(YES[locale])
            assert all(lesson.title in speech_of(page) for lesson in lessons[heard:heard + 3])
            assert page["response"]["shouldEndSession"] is False
            heard += 3
        assert lessons[0].title in page["response"]["reprompt"]["outputSpeech"]["ssml"]

    def test_no_to_more_goes_back_to_the_menu(self, converse: Converse, locale: str) -> None:
        """If the person says no to hearing more, then the skill lets it go kindly and listens."""
        conversation = converse(locale)
        conversation.say(LIST[locale])
        _, payload = conversation.say(NO[locale])
        assert payload["sessionAttributes"]["state"] == "menu"
        assert speech_of(payload) and payload["response"]["shouldEndSession"] is False

    def test_reflection_is_not_interrupted(self, converse: Converse, locale: str) -> None:
        """If a reflection is in progress, then lesson handlers leave "next" and lists to it."""
        conversation = converse(locale)
        conversation.say({"en-US": "start a two minute reflection",
                          "ja-JP": "2分のふりかえりをして"}[locale])
        _, listed = conversation.say(LIST[locale])
        assert listed["sessionAttributes"]["state"] == "reflection:facts"
        _, advanced = conversation.say({"en-US": "next", "ja-JP": "次へ"}[locale])
        assert advanced["sessionAttributes"]["state"] == "reflection:feelings"
        assert not [d for d in directives(advanced) if d["type"].startswith("AudioPlayer.")]


@pytest.mark.parametrize("locale", LOCALES)
class TestContinue:
    def test_nothing_stored_is_said_kindly_and_the_list_offered(self, converse: Converse,
                                                               locale: str) -> None:
        """If there is no lesson to continue, then the skill says so and offers the list."""
        conversation = converse(locale)
        _, payload = conversation.say(CONTINUE[locale])
        assert speech_of(payload) and not directives(payload)
        assert payload["response"]["shouldEndSession"] is False
        _, listed = conversation.say(YES[locale])
        assert load_lessons(locale)[0].title in speech_of(listed)

    def test_continues_in_a_later_session_at_the_stored_offset(self, converse: Converse,
                                                               locale: str) -> None:
        """If a lesson was stopped in one session, then "continue my lesson" in a later session
        on another device plays it from the stored offset."""
        first = converse(locale)
        first.say(PLAY[locale])
        first.event("AudioPlayer.PlaybackStopped", {"offsetInMilliseconds": "61000"})
        later = converse(locale)  # a new device: its player knows nothing
        _, payload = later.say(CONTINUE[locale])
        stream = play_of(payload)
        assert stream["token"] == encode_token("why-hard", locale)
        assert stream["offsetInMilliseconds"] == 61_000
        assert load_lessons(locale)[0].title in speech_of(payload)

    def test_finished_lesson_offers_the_next(self, converse: Converse, db_path: str,
                                             locale: str) -> None:
        """If the stored lesson is finished, then continuing offers the next one; yes plays it."""
        store(db_path, UserRecord().with_lesson(progress("why-hard", locale, 90_000, True)))
        conversation = converse(locale)
        _, offer = conversation.say(CONTINUE[locale])
        assert load_lessons(locale)[1].title in speech_of(offer) and not directives(offer)
        _, payload = conversation.say(YES[locale])
        assert play_of(payload)["token"] == encode_token("small-request", locale)

    def test_progress_in_another_language_restarts(self, converse: Converse, db_path: str,
                                                   locale: str) -> None:
        """If the stored offset belongs to the other language's recording, then it restarts."""
        other = "ja-JP" if locale == "en-US" else "en-US"
        store(db_path, UserRecord().with_lesson(progress("hearing-no", other, 50_000)))
        _, payload = converse(locale).say(CONTINUE[locale])
        stream = play_of(payload)
        assert stream["token"] == encode_token("hearing-no", locale)
        assert stream["offsetInMilliseconds"] == 0


@pytest.mark.parametrize("locale", LOCALES)
class TestWithoutAudioPlayer:
    def test_lesson_is_one_audio_clip_then_what_next(self, converse: Converse, db_path: str,
                                                     locale: str) -> None:
        """If the device has no AudioPlayer, then the lesson is one SSML <audio> with speech and a
        reprompt, and no AudioPlayer directive."""
        _, payload = converse(locale, audio_player=False).say(PLAY[locale])
        ssml = speech_of(payload)
        assert ssml.count("<audio ") == 1
        assert f'src="{BASE_URL}/{locale}/lesson-why-hard.mp3"' in ssml
        assert not directives(payload)
        assert payload["response"]["shouldEndSession"] is False
        assert payload["response"]["reprompt"]["outputSpeech"]["ssml"]
        assert stored(db_path).ask_about_lesson == "why-hard"

    def test_next_plays_the_next_clip(self, converse: Converse, locale: str) -> None:
        """If the person says next after an SSML lesson, then the next lesson plays as SSML."""
        conversation = converse(locale, audio_player=False)
        conversation.say(PLAY[locale])
        _, payload = conversation.say({"en-US": "next", "ja-JP": "次へ"}[locale])
        assert "lesson-small-request.mp3" in speech_of(payload)

    def test_yes_plays_the_next_clip_and_no_offers_the_rest(self, converse: Converse,
                                                             locale: str) -> None:
        """If the person answers "the next one?" after an SSML lesson, then yes plays the next
        lesson and no offers the other things to do; neither is a dead end."""
        conversation = converse(locale, audio_player=False)
        conversation.say(PLAY[locale])
        _, yes = conversation.intent("AMAZON.YesIntent")
        assert "lesson-small-request.mp3" in speech_of(yes)
        _, no = conversation.intent("AMAZON.NoIntent")
        assert no["sessionAttributes"]["state"] == "menu"
        assert no["response"]["shouldEndSession"] is False
        assert no["response"]["reprompt"]

    def test_continue_plays_from_the_start_and_says_so(self, converse: Converse, db_path: str,
                                                       locale: str) -> None:
        """If a half-heard lesson is continued on such a device, then it plays whole (SSML
        cannot start mid-clip) after saying so."""
        store(db_path, UserRecord().with_lesson(progress("whom-to-ask", locale, 40_000)))
        _, payload = converse(locale, audio_player=False).say(CONTINUE[locale])
        assert "lesson-whom-to-ask.mp3" in speech_of(payload)

    def test_too_long_for_one_response_is_not_sent(self, converse: Converse, locale: str) -> None:
        """If a lesson is longer than one response's 240 s of audio, then no <audio> is sent."""
        last = load_lessons(locale)[-1]
        assert last.duration_ms > MAX_SSML_AUDIO_MS
        _, payload = converse(locale, audio_player=False).intent(
            "PlayLessonIntent", {"topic": SlotValue(last.title)})
        assert "<audio" not in speech_of(payload)
        assert payload["response"]["shouldEndSession"] is False


@pytest.mark.parametrize("locale", LOCALES)
class TestReturningPrompt:
    def test_nothing_to_offer(self, db_path: str, locale: str) -> None:
        """If nothing about lessons is stored, then there is no prompt and nothing is spoken."""
        turn, _ = launch_turn(db_path, locale)
        assert returning_prompt(turn) is None
        assert turn.speech.empty

    def test_finished_lesson_is_asked_about_once(self, db_path: str, locale: str) -> None:
        """If a lesson was finished, then the next launch asks one question about it, once."""
        store(db_path, UserRecord(ask_about_lesson="hearing-no").with_lesson(
            progress("hearing-no", locale, 90_000, True)))
        turn, handler_input = launch_turn(db_path, locale)
        key = returning_prompt(turn)
        assert key == "lessons.followup.reprompt"
        title = next(x.title for x in load_lessons(locale) if x.id == "hearing-no")
        assert title in turn.speech.text()
        assert turn.state == "lesson:offer"
        handler_input.attributes_manager.save_persistent_attributes()
        assert stored(db_path).ask_about_lesson is None
        again, _ = launch_turn(db_path, locale)
        assert returning_prompt(again) is None

    @pytest.mark.parametrize(("intent", "slots"), [
        ("AMAZON.FallbackIntent", None),
        ("CheckInIntent", {"answer": SlotValue("asking is not weak")}),
    ])
    def test_words_instead_of_yes_or_no_are_thanked_for(
            self, converse: Converse, db_path: str, locale: str, intent: str,
            slots: dict[str, SlotValue] | None) -> None:
        """If the person answers "did anything stay with you?" in their own words, then they
        are thanked and offered the next lesson; the words are not taken as a day check-in."""
        store(db_path, UserRecord(ask_about_lesson="why-hard").with_lesson(
            progress("why-hard", locale, 90_000, True)))
        conversation = converse(locale, user_id=USER)
        conversation.launch()
        _, payload = conversation.intent(intent, slots)
        assert says_one_of(payload, locale, "lessons.followup.heard")
        assert payload["sessionAttributes"]["state"] == "lesson:offer"
        assert stored(db_path).checkin_tags == ()

    def test_partway_lesson_is_offered(self, db_path: str, locale: str) -> None:
        """If a lesson was left partway, then the launch offers to continue it."""
        store(db_path, UserRecord().with_lesson(progress("small-request", locale, 20_000)))
        turn, _ = launch_turn(db_path, locale)
        assert returning_prompt(turn) == "lessons.offer.resume.reprompt"
        assert load_lessons(locale)[1].title in turn.speech.text()

    def test_storage_down_means_no_prompt(self, db_path: str, locale: str) -> None:
        """If storage cannot be read, then there is no prompt (the welcome carries on)."""
        turn, _ = launch_turn(db_path, locale)
        turn.user_if_reachable = lambda: None  # type: ignore[method-assign]
        assert returning_prompt(turn) is None


@pytest.mark.parametrize("locale", LOCALES)
class TestOffersAfterLaunch:
    """The yes/no answers to :func:`returning_prompt`'s offers (the session carries the offer)."""

    def _offered(self, converse: Converse, db_path: str, locale: str) -> Conversation:
        turn, _ = launch_turn(db_path, locale)
        key = returning_prompt(turn)
        assert key is not None
        conversation = converse(locale)
        conversation.session = {"sessionId": "amzn1.echo-api.session.t", "new": False,
                                "attributes": dict(turn.session)}
        return conversation

    def test_yes_to_continue_plays_at_the_offset(self, converse: Converse, db_path: str,
                                                 locale: str) -> None:
        """If the person says yes to continuing, then the lesson plays from its offset."""
        store(db_path, UserRecord().with_lesson(progress("small-request", locale, 20_000)))
        _, payload = self._offered(converse, db_path, locale).say(YES[locale])
        assert play_of(payload)["offsetInMilliseconds"] == 20_000

    def test_answer_to_the_question_offers_the_next_lesson(self, converse: Converse,
                                                           db_path: str, locale: str) -> None:
        """If the person answers the question about a finished lesson, then the next is offered
        (yes or no alike), and a yes to that plays it."""
        record = UserRecord(ask_about_lesson="why-hard").with_lesson(
            progress("why-hard", locale, 0, True))
        for answer in (YES[locale], NO[locale]):
            store(db_path, record)
            conversation = self._offered(converse, db_path, locale)
            _, offer = conversation.say(answer)
            assert load_lessons(locale)[1].title in speech_of(offer)
            _, payload = conversation.say(YES[locale])
            assert play_of(payload)["token"] == encode_token("small-request", locale)

    def test_unclear_answer_asks_again(self, converse: Converse, db_path: str,
                                       locale: str) -> None:
        """If the answer is not understood, then the question stays open."""
        store(db_path, UserRecord().with_lesson(progress("small-request", locale, 20_000)))
        conversation = self._offered(converse, db_path, locale)
        _, payload = conversation.intent("AMAZON.FallbackIntent")
        assert payload["sessionAttributes"]["state"] == "lesson:offer"
        assert payload["response"]["shouldEndSession"] is False


@pytest.mark.parametrize("locale", LOCALES)
def test_launch_after_a_finished_lesson_asks_about_it(converse: Converse, locale: str) -> None:
    """If a lesson played to its end, then the next launch asks one short question about it."""
    conversation = converse(locale)
    conversation.say(PLAY[locale])
    conversation.event("AudioPlayer.PlaybackStarted", {})
    conversation.event("AudioPlayer.PlaybackFinished", {})
    _, payload = conversation.launch()
    assert load_lessons(locale)[0].title in speech_of(payload)
    assert payload["sessionAttributes"]["state"] == "lesson:offer"


@pytest.mark.parametrize("locale", LOCALES)
def test_launch_with_a_lesson_offer_greets_once(converse: Converse, db_path: str, locale: str) -> None:
    """If a returning person is offered their lesson at launch, then there is one greeting and
    one question (no plain welcome-back before the offer)."""
    from skill.speech import load_catalog

    store(db_path, UserRecord().with_locale(locale).with_lesson(progress("small-request", locale, 20_000)))
    _, payload = converse(locale).launch()
    catalog = load_catalog().for_locale(locale)
    speech = payload["response"]["outputSpeech"]["ssml"]
    assert not any(v in speech for v in catalog.variants("launch.welcome_back"))
    assert payload["sessionAttributes"]["state"] == "lesson:offer"
