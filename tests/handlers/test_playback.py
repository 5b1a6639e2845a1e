"""The lesson player: AudioPlayer events, PlaybackController buttons, and the player built-ins."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from skill.handlers.lessons import returning_prompt
from skill.lessons.catalog import encode_token, load_lessons
from skill.simulator.conversation import Conversation
from skill.storage import SqliteStore, UserRecord
from tests.conftest import speech_of
from tests.handlers.test_lessons import (
    BASE_URL,
    LOCALES,
    PLAY,
    YES,
    directives,
    launch_turn,
    play_of,
    progress,
    store,
    stored,
    write_manifest,
)

Converse = Callable[..., Conversation]
PAUSE = {"en-US": "pause", "ja-JP": "一時停止"}
RESUME = {"en-US": "resume", "ja-JP": "再開"}
# (ja-JP "次のレッスン" resolves to PlayLessonIntent{topic: 次} in the model: see the report.)
NEXT_LESSON = {"en-US": "next lesson", "ja-JP": "次のを再生して"}
NEXT = {"en-US": "next", "ja-JP": "次へ"}
PREVIOUS = {"en-US": "previous lesson", "ja-JP": "前のを再生して"}
EVENTS = ["AudioPlayer.PlaybackStarted", "AudioPlayer.PlaybackStopped",
          "AudioPlayer.PlaybackNearlyFinished", "AudioPlayer.PlaybackFinished",
          "AudioPlayer.PlaybackFailed", "PlaybackController.PlayCommandIssued",
          "PlaybackController.PauseCommandIssued", "PlaybackController.NextCommandIssued",
          "PlaybackController.PreviousCommandIssued"]


@pytest.fixture(autouse=True)
def lesson_audio(_clean_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test plays from a synthetic manifest, with audio served from ``BASE_URL``."""
    folder = write_manifest(tmp_path / "audio")
    monkeypatch.setenv("REFLECT_AUDIO_DIR", str(folder))
    monkeypatch.setenv("REFLECT_AUDIO_BASE_URL", BASE_URL)
    return folder


def assert_no_speech(payload: dict[str, Any]) -> None:
    response = payload.get("response") or {}
    assert not {"outputSpeech", "reprompt", "card"} & set(response), response
    assert all(d["type"].startswith("AudioPlayer.") for d in directives(payload))


def playing(converse: Converse, locale: str, lesson_id: str = "why-hard",
            offset_ms: int = 0) -> Conversation:
    """A device whose player is playing ``lesson_id`` (the skill issued the Play)."""
    conversation = converse(locale)
    lesson = next(x for x in load_lessons(locale) if x.id == lesson_id)
    _, payload = conversation.intent_from_text("PlayLessonIntent", {"topic": lesson.title})
    assert play_of(payload)["token"] == encode_token(lesson_id, locale)
    conversation.event("AudioPlayer.PlaybackStarted", {"offsetInMilliseconds": str(offset_ms)})
    conversation.player["offsetInMilliseconds"] = offset_ms
    return conversation


@pytest.mark.parametrize("locale", LOCALES)
class TestWholeFlow:
    def test_play_pause_resume_next_finish_then_the_question(
            self, converse: Converse, db_path: str, locale: str) -> None:
        """If a lesson is played, paused at 42 s, resumed, skipped to the next, and that one
        finishes, then resume starts at 42 s, the next lesson plays from 0, every event reply is
        silent, and the next launch asks one question about the finished lesson."""
        lessons = load_lessons(locale)
        conversation = converse(locale)
        _, play = conversation.say(PLAY[locale])
        assert play_of(play)["offsetInMilliseconds"] == 0
        _, started = conversation.event("AudioPlayer.PlaybackStarted", {})
        assert_no_speech(started)

        _, paused = conversation.say(PAUSE[locale])
        assert [d["type"] for d in directives(paused)] == ["AudioPlayer.Stop"]
        assert "outputSpeech" not in paused["response"]
        _, stopped = conversation.event("AudioPlayer.PlaybackStopped",
                                        {"offsetInMilliseconds": "42000"})
        assert_no_speech(stopped)
        assert stopped["response"] == {}
        lesson = stored(db_path).lesson
        assert lesson is not None and lesson.offset_ms == 42_000

        _, resumed = conversation.say(RESUME[locale])
        stream = play_of(resumed)
        assert stream["token"] == encode_token(lessons[0].id, locale)
        assert stream["offsetInMilliseconds"] == 42_000
        conversation.event("AudioPlayer.PlaybackStarted", {"offsetInMilliseconds": "42000"})

        _, skipped = conversation.say(NEXT_LESSON[locale])
        stream = play_of(skipped)
        assert stream["token"] == encode_token(lessons[1].id, locale)
        assert stream["offsetInMilliseconds"] == 0
        assert lessons[1].title in speech_of(skipped)
        conversation.event("AudioPlayer.PlaybackStarted", {})
        _, nearly = conversation.event("AudioPlayer.PlaybackNearlyFinished", {})
        assert nearly["response"] == {}
        _, finished = conversation.event("AudioPlayer.PlaybackFinished",
                                         {"offsetInMilliseconds": str(lessons[1].duration_ms)})
        assert_no_speech(finished)
        record = stored(db_path)
        assert record.lesson is not None and record.lesson.finished
        assert record.ask_about_lesson == lessons[1].id

        turn, _ = launch_turn(db_path, locale)
        assert returning_prompt(turn) == "lessons.followup.reprompt"
        assert lessons[1].title in turn.speech.text()

    def test_resume_prefers_the_players_fresher_offset(self, converse: Converse,
                                                       locale: str) -> None:
        """If the device's player reports a later offset for the same lesson than the store,
        then resume starts there."""
        conversation = playing(converse, locale)
        conversation.say(PAUSE[locale])
        conversation.event("AudioPlayer.PlaybackStopped", {"offsetInMilliseconds": "42000"})
        conversation.player["offsetInMilliseconds"] = 50_000
        _, resumed = conversation.say(RESUME[locale])
        assert play_of(resumed)["offsetInMilliseconds"] == 50_000


    def test_repeat_at_the_next_launch_repeats_the_question(self, converse: Converse,
                                                           db_path: str, locale: str) -> None:
        """If a stopped lesson still sits in the player when the skill asks "shall we pick it
        up?", then "repeat" asks that again; it does not restart the lesson from 0."""
        conversation = playing(converse, locale)
        conversation.say(PAUSE[locale])
        conversation.event("AudioPlayer.PlaybackStopped", {"offsetInMilliseconds": "42000"})
        _, offer = conversation.launch()
        _, again = conversation.intent("AMAZON.RepeatIntent")
        assert speech_of(again) == speech_of(offer)
        assert not directives(again)
        lesson = stored(db_path, conversation.user_id).lesson
        assert lesson is not None and lesson.offset_ms == 42000


@pytest.mark.parametrize("locale", LOCALES)
class TestEvents:
    @pytest.mark.parametrize("event", EVENTS)
    def test_event_replies_carry_no_speech(self, converse: Converse, locale: str,
                                           event: str) -> None:
        """If any AudioPlayer or PlaybackController request arrives, then the reply has no
        speech, reprompt or card: AudioPlayer directives at most."""
        conversation = playing(converse, locale, "small-request", 10_000)
        status, payload = conversation.event(event, {})
        assert status == 200
        assert_no_speech(payload)

    @pytest.mark.parametrize("token", ["garbage", "", "lesson:v1:en-US:no-such-lesson",
                                       "lesson:v1:fr-FR:why-hard", "x" * 2000,
                                       "spotify:track:4uLU6hMCjMI75M1A2tKUQC"])
    def test_malformed_or_foreign_token_is_ignored(self, converse: Converse, db_path: str,
                                                   locale: str, token: str) -> None:
        """If an event carries a token that is not one of our lessons, then the reply is an
        empty 200 and nothing is stored."""
        conversation = converse(locale)
        for event in ("AudioPlayer.PlaybackStarted", "AudioPlayer.PlaybackStopped",
                      "AudioPlayer.PlaybackFinished", "AudioPlayer.PlaybackNearlyFinished",
                      "AudioPlayer.PlaybackFailed"):
            status, payload = conversation.event(event, {"token": token,
                                                         "offsetInMilliseconds": "1000"})
            assert status == 200
            assert payload["response"] == {}
        assert stored(db_path) == UserRecord()

    def test_playback_failed_keeps_the_offset_and_does_not_replay(
            self, converse: Converse, db_path: str, locale: str) -> None:
        """If playback fails, then the device's offset is kept for later and nothing re-plays."""
        conversation = playing(converse, locale)
        token = encode_token("why-hard", locale)
        request = {"type": "AudioPlayer.PlaybackFailed", "token": token,
                   "error": {"type": "MEDIA_ERROR_SERVICE_UNAVAILABLE", "message": "503"},
                   "currentPlaybackState": {"token": token, "offsetInMilliseconds": 33000,
                                            "playerActivity": "PLAYING"}}
        status, payload = conversation._post(conversation.envelope(request, with_session=False))
        assert status == 200
        assert payload["response"] == {}
        lesson = stored(db_path).lesson
        assert lesson is not None and lesson.offset_ms == 33_000 and not lesson.finished

    def test_events_arrive_without_a_session_and_still_store(
            self, converse: Converse, db_path: str, locale: str) -> None:
        """If a PlaybackStarted event (no session) arrives for a person the skill knows, then
        their progress is stored."""
        conversation = converse(locale)
        conversation.launch()
        conversation.end()
        conversation.player = {"playerActivity": "PLAYING", "offsetInMilliseconds": 0,
                               "token": encode_token("hearing-no", locale)}
        conversation.event("AudioPlayer.PlaybackStarted", {"offsetInMilliseconds": "5000"})
        lesson = stored(db_path).lesson
        assert lesson is not None and (lesson.lesson_id, lesson.offset_ms) == ("hearing-no", 5_000)

    def test_the_player_going_on_after_delete_my_data_stores_nothing(
            self, converse: Converse, db_path: str, locale: str) -> None:
        """If the person deletes their data while a lesson is in the player, then the events of
        the device playing on do not start a new record; asking for a lesson again does."""
        conversation = playing(converse, locale, offset_ms=4000)
        conversation.intent("DeleteMyDataIntent")
        conversation.intent("AMAZON.YesIntent")
        conversation.end()
        assert SqliteStore(db_path).keys() == []
        for event, offset in (("AudioPlayer.PlaybackStarted", "4000"),
                              ("AudioPlayer.PlaybackStopped", "9000"),
                              ("AudioPlayer.PlaybackFinished", "60000")):
            status, _ = conversation.event(event, {"offsetInMilliseconds": offset})
            assert status == 200
        assert SqliteStore(db_path).keys() == []
        conversation.intent_from_text("PlayLessonIntent", {"topic": "why-hard"})
        lesson = stored(db_path).lesson
        assert lesson is not None and lesson.lesson_id == "why-hard"


@pytest.mark.parametrize("locale", LOCALES)
class TestButtons:
    def test_pause_button_stops(self, converse: Converse, locale: str) -> None:
        """If the pause button is pressed, then the reply is AudioPlayer.Stop alone."""
        _, payload = playing(converse, locale).event("PlaybackController.PauseCommandIssued", {})
        assert [d["type"] for d in directives(payload)] == ["AudioPlayer.Stop"]

    def test_play_button_resumes_at_the_offset(self, converse: Converse, locale: str) -> None:
        """If the play button is pressed after a stop, then the lesson resumes at its offset."""
        conversation = playing(converse, locale)
        conversation.event("AudioPlayer.PlaybackStopped", {"offsetInMilliseconds": "12000"})
        _, payload = conversation.event("PlaybackController.PlayCommandIssued", {})
        assert play_of(payload)["offsetInMilliseconds"] == 12_000

    def test_next_and_previous_buttons(self, converse: Converse, locale: str) -> None:
        """If next or previous is pressed, then the adjacent lesson plays; previous on the first
        lesson restarts it; next on the last does nothing."""
        lessons = load_lessons(locale)
        _, forward = playing(converse, locale).event("PlaybackController.NextCommandIssued", {})
        assert play_of(forward)["token"] == encode_token(lessons[1].id, locale)
        _, back = playing(converse, locale).event("PlaybackController.PreviousCommandIssued", {})
        stream = play_of(back)
        assert (stream["token"], stream["offsetInMilliseconds"]) == (
            encode_token(lessons[0].id, locale), 0)
        _, end = playing(converse, locale, lessons[-1].id).event(
            "PlaybackController.NextCommandIssued", {})
        assert end["response"] == {}

    def test_play_button_with_nothing_known_is_silent(self, converse: Converse,
                                                       locale: str) -> None:
        """If the play button is pressed and no lesson is known, then the reply is empty."""
        _, payload = converse(locale).event("PlaybackController.PlayCommandIssued", {})
        assert payload["response"] == {}


@pytest.mark.parametrize("locale", LOCALES)
class TestBuiltIns:
    @pytest.mark.parametrize("intent", ["AMAZON.StopIntent", "AMAZON.CancelIntent"])
    def test_stop_while_playing_stops_quietly(self, converse: Converse, locale: str,
                                              intent: str) -> None:
        """If stop or cancel is said while a lesson plays, then the player stops, silently."""
        _, payload = playing(converse, locale).intent(intent)
        assert [d["type"] for d in directives(payload)] == ["AudioPlayer.Stop"]
        assert "outputSpeech" not in payload["response"]
        assert payload["response"]["shouldEndSession"] is True

    def test_stop_after_the_lesson_stopped_says_goodbye(self, converse: Converse,
                                                        locale: str) -> None:
        """If stop is said when the lesson is no longer playing, then the usual goodbye plays."""
        conversation = playing(converse, locale)
        conversation.event("AudioPlayer.PlaybackStopped", {"offsetInMilliseconds": "3000"})
        _, payload = conversation.intent("AMAZON.StopIntent")
        assert speech_of(payload) and not directives(payload)

    def test_next_step_while_a_lesson_is_the_context(self, converse: Converse,
                                                     locale: str) -> None:
        """If "next" (NextStepIntent) is said with a lesson in the player, then the next lesson
        plays."""
        _, payload = playing(converse, locale).say(NEXT[locale])
        assert play_of(payload)["token"] == encode_token(load_lessons(locale)[1].id, locale)

    def test_next_on_the_last_lesson_while_playing(self, converse: Converse,
                                                   locale: str) -> None:
        """If next is said during the last lesson, then a short word says so and it plays on."""
        last = load_lessons(locale)[-1]
        _, payload = playing(converse, locale, last.id).say(NEXT_LESSON[locale])
        assert speech_of(payload) and not directives(payload)
        assert payload["response"]["shouldEndSession"] is True

    def test_next_after_the_last_lesson_offers_the_list(self, converse: Converse,
                                                        locale: str) -> None:
        """If next is said after the last lesson finished, then the list is offered."""
        last = load_lessons(locale)[-1]
        conversation = playing(converse, locale, last.id)
        conversation.event("AudioPlayer.PlaybackFinished", {})
        _, payload = conversation.say(NEXT_LESSON[locale])
        assert speech_of(payload) and not directives(payload)
        assert payload["response"]["shouldEndSession"] is False
        _, listed = conversation.say(YES[locale])
        assert load_lessons(locale)[0].title in speech_of(listed)

    def test_previous_on_the_first_offers_a_restart(self, converse: Converse,
                                                    locale: str) -> None:
        """If previous is said on the first lesson (stopped), then a restart is offered."""
        conversation = playing(converse, locale)
        conversation.event("AudioPlayer.PlaybackStopped", {"offsetInMilliseconds": "20000"})
        _, offer = conversation.say(PREVIOUS[locale])
        assert load_lessons(locale)[0].title in speech_of(offer) and not directives(offer)
        _, payload = conversation.say(YES[locale])
        assert play_of(payload)["offsetInMilliseconds"] == 0

    def test_previous_plays_the_lesson_before(self, converse: Converse, locale: str) -> None:
        """If previous is said during the second lesson, then the first plays from 0."""
        _, payload = playing(converse, locale, "small-request", 9_000).say(PREVIOUS[locale])
        stream = play_of(payload)
        assert (stream["token"], stream["offsetInMilliseconds"]) == (
            encode_token("why-hard", locale), 0)

    @pytest.mark.parametrize("intent", ["AMAZON.StartOverIntent", "AMAZON.RepeatIntent"])
    def test_start_over_and_repeat_restart_the_lesson(self, converse: Converse, locale: str,
                                                      intent: str) -> None:
        """If start over or repeat is said, then the same lesson plays from the beginning."""
        _, payload = playing(converse, locale, "hearing-no", 30_000).intent(intent)
        stream = play_of(payload)
        assert (stream["token"], stream["offsetInMilliseconds"]) == (
            encode_token("hearing-no", locale), 0)

    @pytest.mark.parametrize("intent", ["AMAZON.LoopOnIntent", "AMAZON.LoopOffIntent",
                                        "AMAZON.ShuffleOnIntent", "AMAZON.ShuffleOffIntent"])
    def test_loop_and_shuffle_are_politely_unavailable(self, converse: Converse, locale: str,
                                                       intent: str) -> None:
        """If loop or shuffle is asked for, then a polite "not available" is spoken; a playing
        lesson carries on (no directive, the session ends)."""
        _, payload = playing(converse, locale).intent(intent)
        assert speech_of(payload) and not directives(payload)
        assert payload["response"]["shouldEndSession"] is True
        conversation = converse(locale)
        conversation.launch()
        _, in_menu = conversation.intent(intent)
        assert speech_of(in_menu) and in_menu["response"]["shouldEndSession"] is False

    def test_resume_with_nothing_stored_offers_the_list(self, converse: Converse,
                                                        locale: str) -> None:
        """If resume is said and no lesson was ever played, then the list is offered kindly."""
        _, payload = converse(locale).say(RESUME[locale])
        assert speech_of(payload) and not directives(payload)
        assert payload["sessionAttributes"]["state"] == "lesson:offer"

    def test_pause_without_a_lesson_is_not_taken(self, converse: Converse, locale: str) -> None:
        """If pause is said with no lesson in the player, then the lesson player does not act."""
        conversation = converse(locale)
        conversation.launch()
        _, payload = conversation.say(PAUSE[locale])
        assert not directives(payload)

    def test_pause_inside_a_reflection_belongs_to_the_reflection(
            self, converse: Converse, db_path: str, locale: str) -> None:
        """If pause is said during a reflection while a lesson token sits in the player, then
        the reflection handles it (no AudioPlayer.Stop)."""
        store(db_path, UserRecord().with_lesson(progress("why-hard", locale, 1_000)))
        conversation = converse(locale)
        conversation.player = {"playerActivity": "STOPPED", "offsetInMilliseconds": 1_000,
                               "token": encode_token("why-hard", locale)}
        conversation.say({"en-US": "start a two minute reflection",
                          "ja-JP": "2分のふりかえりをして"}[locale])
        _, payload = conversation.say(PAUSE[locale])
        assert not [d for d in directives(payload) if d["type"].startswith("AudioPlayer.")]
        assert speech_of(payload)

