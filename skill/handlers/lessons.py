"""Lessons: play one by name, list them, continue where the person left off, welcome them back.

A lesson streams with ``AudioPlayer.Play`` (token :func:`~skill.lessons.encode_token`, URL from the
``REFLECT_AUDIO_BASE_URL`` setting) and the session ends. A device without the AudioPlayer
interface hears the lesson as one SSML ``<audio>`` clip (at most :data:`MAX_SSML_AUDIO_MS`) and is
asked what next. The playback events and the built-in player intents live in
:mod:`skill.handlers.playback`; both modules share the helpers here.

Session state (every lesson state starts with ``lesson``):

* ``lesson:offer`` with :data:`OFFER_KEY` in the session: a yes/no question is open. The offer
  is ``{"kind": "play", "id", "offset"}``, ``{"kind": "list", "at"}`` (name more titles),
  ``{"kind": "choose"}`` (which lesson?) or ``{"kind": "followup", "id"}`` (did it stay with you?).
* ``lesson:heard`` with :data:`CURRENT_KEY`: a lesson was just heard as SSML; next, previous,
  repeat and start over work from it.

Progress (:class:`~skill.storage.records.LessonProgress`) is stored on every Play and every
playback event, so "continue my lesson" works in any later session. A finished lesson sets
``ask_about_lesson``; :func:`returning_prompt` asks about it once, at the next launch.

No handler here takes an intent while a reflection is in progress (states ``reflection*``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Any

from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_model import Response
from ask_sdk_model.interfaces.audioplayer import (
    AudioItem,
    AudioItemMetadata,
    PlayBehavior,
    PlayDirective,
    Stream,
)

from skill.errors import UnsupportedLocaleError
from skill.handlers.base import IntentHandler, Turn, log, session_state
from skill.lessons.catalog import (
    InvalidTokenError,
    Lesson,
    LessonCatalogError,
    LessonNotFoundError,
    adjacent_lesson,
    decode_token,
    encode_token,
    find_lesson,
    get_lesson,
    lesson_url,
    load_lessons,
)
from skill.storage.records import LessonProgress

STATE_PREFIX = "lesson"
OFFER_STATE = "lesson:offer"
HEARD_STATE = "lesson:heard"
#: Session key of the open yes/no offer (see the module docstring).
OFFER_KEY = "lesson_offer"
#: Session key of the lesson just heard as SSML (devices without AudioPlayer).
CURRENT_KEY = "lesson_current"
#: Most ``<audio>`` one outputSpeech may hold (platform limit, section 2 of the platform notes).
MAX_SSML_AUDIO_MS = 240_000
#: Titles spoken in one breath when listing lessons.
TITLES_PER_BREATH = 3
#: A stored offset this close to the end restarts the lesson: nothing is left worth resuming.
END_MARGIN_MS = 3_000
#: Player activities in which a lesson is audibly in progress (stop then means pause).
ACTIVE = frozenset({"PLAYING", "PAUSED", "BUFFER_UNDERRUN"})
_TITLE_SLOTS = ("first", "second", "third")


# --------------------------------------------------------------------------- shared helpers


def audio_base_url(turn: Turn) -> str:
    """The configured base URL of the audio files (``REFLECT_AUDIO_BASE_URL``)."""
    return turn.settings.audio_base_url


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def catalog_for(turn: Turn) -> tuple[Lesson, ...]:
    """The lessons of the turn's locale.

    :raises UnsupportedLocaleError: if no catalog matches the locale.
    :raises LessonCatalogError: if the catalog or manifest is broken.
    """
    return load_lessons(turn.locale, turn.settings.audio_dir, strict=False)


def lookup(lessons: tuple[Lesson, ...], lesson_id: str | None) -> Lesson | None:
    """The lesson with ``lesson_id``, or ``None`` (ids of removed lessons are simply unknown)."""
    if not lesson_id:
        return None
    try:
        return get_lesson(lessons, lesson_id)
    except LessonNotFoundError:
        return None


def lesson_from_token(token: object, audio_dir: str | None = None) -> Lesson | None:
    """The lesson an AudioPlayer token names, or ``None`` for a malformed or foreign token."""
    try:
        if not isinstance(token, str):
            raise InvalidTokenError("no token")
        lesson_id, locale = decode_token(token)
        return get_lesson(load_lessons(locale, audio_dir, strict=False), lesson_id)
    except (InvalidTokenError, LessonNotFoundError, LessonCatalogError, UnsupportedLocaleError):
        log.info("ignoring an AudioPlayer token that names no lesson")
        return None


def is_reflecting(handler_input: HandlerInput) -> bool:
    """Whether a reflection (or its offer) owns the session: lesson handlers then stand back."""
    return session_state(handler_input).startswith("reflection")


def in_lesson_reach(handler_input: HandlerInput) -> bool:
    """Whether player built-ins ("next", "pause", "yes") may be read as lesson controls.

    Only in the menu or a lesson state, never inside another feature's conversation.
    """
    state = session_state(handler_input)
    return state == "menu" or state.startswith(STATE_PREFIX)


def has_audio_player(handler_input: HandlerInput) -> bool:
    """Whether the device supports the AudioPlayer interface (a player's own button presses and
    events prove it, whatever the envelope lists: their answers may hold directives only)."""
    request_type = str(getattr(handler_input.request_envelope.request, "object_type", "") or "")
    if request_type.startswith(("PlaybackController.", "AudioPlayer.")):
        return True
    system = getattr(handler_input.request_envelope.context, "system", None)
    interfaces = getattr(getattr(system, "device", None), "supported_interfaces", None)
    return getattr(interfaces, "audio_player", None) is not None


@dataclass(frozen=True)
class PlayerState:
    """What ``context.AudioPlayer`` says, when its token is one of our lessons."""

    lesson_id: str
    locale: str
    offset_ms: int
    #: ``PLAYING``, ``PAUSED``, ``STOPPED``, ``FINISHED`` or ``BUFFER_UNDERRUN``.
    activity: str

    @property
    def active(self) -> bool:
        return self.activity in ACTIVE


def player_state(handler_input: HandlerInput) -> PlayerState | None:
    """The device player's lesson, or ``None`` when idle, absent, or holding a foreign token."""
    player = getattr(handler_input.request_envelope.context, "audio_player", None)
    token = getattr(player, "token", None)
    activity = getattr(getattr(player, "player_activity", None), "value", None)
    if not token or activity in (None, "IDLE"):
        return None
    try:
        lesson_id, locale = decode_token(token)
    except InvalidTokenError:
        return None
    offset = getattr(player, "offset_in_milliseconds", None)
    return PlayerState(lesson_id, locale, int(offset or 0), str(activity))


def remember_progress(turn: Turn, lesson: Lesson, offset_ms: int, *, finished: bool = False,
                      new_play: bool = False, event: bool = False) -> None:
    """Store where the person is in ``lesson`` (skipped when storage is down).

    :param finished: the lesson played to its end: ask about it at the next launch.
    :param new_play: a Play was just issued: a question about an older lesson is dropped.
    :param event: the device's player reported it, not the person: only a person the skill
        already remembers is updated. After "delete my data" the device may go on playing the
        lesson it holds; its events must not start a new record behind the person's back (a
        lesson they ask for again is stored again).
    """
    user = turn.user_if_reachable()
    if user is None or (event and user.is_new):
        return
    progress = LessonProgress(lesson.id, lesson.locale, max(0, int(offset_ms)), finished, now())
    user = user.with_lesson(progress)
    if finished:
        user = dataclasses.replace(user, ask_about_lesson=lesson.id)
    elif new_play:
        user = dataclasses.replace(user, ask_about_lesson=None)
    turn.remember(user)


def play_directive(lesson: Lesson, offset_ms: int, base_url: str) -> PlayDirective:
    """``AudioPlayer.Play`` (REPLACE_ALL) of ``lesson`` from ``offset_ms``."""
    stream = Stream(token=encode_token(lesson.id, lesson.locale),
                    url=lesson_url(base_url, lesson),
                    offset_in_milliseconds=offset_ms)
    return PlayDirective(play_behavior=PlayBehavior.REPLACE_ALL,
                         audio_item=AudioItem(stream=stream,
                                              metadata=AudioItemMetadata(title=lesson.title)))


def play_lesson(turn: Turn, lesson: Lesson, offset_ms: int = 0,
                intro_key: str | None = "lessons.intro.play") -> Response:
    """Play ``lesson`` from ``offset_ms`` after a one-breath intro naming it; remember it.

    With AudioPlayer: intro (only inside a session: events carry no speech), ``Play``, and the
    session ends. Without: the intro, the whole lesson as one ``<audio>``, then "what next?".
    """
    if not 0 <= offset_ms < lesson.duration_ms - END_MARGIN_MS:
        offset_ms = 0
    if not has_audio_player(turn.hi):
        if intro_key is not None and offset_ms > 0:
            intro_key = "lessons.intro.from_start"  # SSML audio cannot start mid-clip
        return _play_as_ssml(turn, lesson, intro_key)
    remember_progress(turn, lesson, offset_ms, new_play=True)
    if intro_key is not None and turn.has_session:
        turn.say(intro_key, title=lesson.title)
    turn.hi.response_builder.add_directive(play_directive(lesson, offset_ms, audio_base_url(turn)))
    return turn.tell()


def _play_as_ssml(turn: Turn, lesson: Lesson, intro_key: str | None) -> Response:
    if lesson.duration_ms > MAX_SSML_AUDIO_MS:
        return offer_list(turn, "lessons.too_long")
    if intro_key is not None:
        turn.say(intro_key, title=lesson.title)
    turn.speech.audio(lesson_url(audio_base_url(turn), lesson))
    turn.say("lessons.after_audio")
    # The clip plays whole within this response: it counts as heard to the end.
    remember_progress(turn, lesson, 0, finished=True)
    turn.session.pop(OFFER_KEY, None)
    turn.session[CURRENT_KEY] = lesson.id
    turn.state = HEARD_STATE
    return turn.ask("lessons.after_audio.reprompt")


def offer(turn: Turn, kind: str, **data: object) -> None:
    """Open a yes/no offer of ``kind`` (see the module docstring)."""
    turn.session[OFFER_KEY] = {"kind": kind, **data}
    turn.state = OFFER_STATE


def offer_list(turn: Turn, key: str) -> Response:
    """Say ``key`` (a question ending "shall I tell you the lessons?") and wait for yes or no."""
    turn.say(key)
    offer(turn, "list", at=0)
    return turn.ask("lessons.offer.list.reprompt")


def offer_play(turn: Turn, key: str, lesson: Lesson, offset_ms: int = 0, **params: object) -> Response:
    """Say ``key`` (a question ending "shall I play it?") and wait for yes or no."""
    turn.say(key, **params)
    offer(turn, "play", id=lesson.id, offset=offset_ms)
    return turn.ask("lessons.offer.play.reprompt")


def speak_list(turn: Turn, lessons: tuple[Lesson, ...], start: int = 0) -> Response:
    """Name up to three titles from ``start`` in one breath, then offer more or ask which."""
    start = start if 0 <= start < len(lessons) else 0
    page = lessons[start:start + TITLES_PER_BREATH]
    titles = {slot: lesson.title for slot, lesson in zip(_TITLE_SLOTS, page, strict=False)}
    if start == 0 and len(page) == TITLES_PER_BREATH:
        turn.say("lessons.list.first", count=len(lessons), **titles)
    else:
        turn.say(f"lessons.list.page{len(page)}", **titles)
    rest = len(lessons) - start - len(page)
    if rest > 0:
        turn.say("lessons.list.more", count=rest)
        offer(turn, "list", at=start + len(page))
        return turn.ask("lessons.list.more.reprompt")
    return ask_which(turn, lessons)


def ask_which(turn: Turn, lessons: tuple[Lesson, ...]) -> Response:
    """Ask which lesson to play, with a reprompt that teaches how to ask for one."""
    turn.say("lessons.list.choose")
    offer(turn, "choose")
    return turn.ask("lessons.list.choose.reprompt", title=lessons[0].title)


@dataclass(frozen=True)
class ResumePoint:
    """Where "continue" picks up: a lesson, an offset, and whether it was already finished."""

    lesson: Lesson
    offset_ms: int
    finished: bool
    #: The device's own player holds this lesson (so a quiet resume fits).
    in_player: bool


def resume_point(turn: Turn, lessons: tuple[Lesson, ...]) -> ResumePoint | None:
    """The stored lesson and offset; the device's offset wins when it holds the same lesson.

    The store knows which lesson was played last on any device; the device's player knows the
    freshest offset of what it played. Progress stored in another locale restarts at 0.
    """
    user = turn.user_if_reachable()
    stored = user.lesson if user is not None else None
    player = player_state(turn.hi)
    if stored is not None:
        lesson = lookup(lessons, stored.lesson_id)
        if lesson is None:
            return None
        offset = stored.offset_ms if stored.locale == lesson.locale else 0
        same = (player is not None and player.lesson_id == lesson.id
                and player.locale == lesson.locale)
        if same and player is not None and not stored.finished and player.activity != "FINISHED":
            offset = player.offset_ms
        return ResumePoint(lesson, offset, stored.finished, same)
    if player is not None:
        lesson = lookup(lessons, player.lesson_id)
        if lesson is None:
            return None
        offset = player.offset_ms if player.locale == lesson.locale else 0
        return ResumePoint(lesson, offset, player.activity == "FINISHED", True)
    return None


def resume_lesson(turn: Turn, quiet_in_player: bool = False) -> Response:
    """Continue the stored lesson at its offset; after a finished one, offer the next.

    :param quiet_in_player: no intro when the device's player holds the lesson ("resume").
    """
    lessons = catalog_for(turn)
    point = resume_point(turn, lessons)
    if point is None:
        return offer_list(turn, "lessons.resume.nothing")
    if point.finished:
        following = adjacent_lesson(lessons, point.lesson.id, 1)
        if following is None:
            return offer_list(turn, "lessons.resume.all_done")
        return offer_play(turn, "lessons.resume.finished", following,
                          title=point.lesson.title, next=following.title)
    quiet = quiet_in_player and point.in_player and turn.has_session
    intro = None if quiet else ("lessons.intro.resume" if point.offset_ms else "lessons.intro.play")
    return play_lesson(turn, point.lesson, point.offset_ms, intro)


def current_lesson(turn: Turn, lessons: tuple[Lesson, ...]) -> Lesson | None:
    """The lesson "next", "previous" and "start over" refer to: the player's, the one just heard
    as SSML, else the stored one."""
    player = player_state(turn.hi)
    if player is not None:
        lesson = lookup(lessons, player.lesson_id)
        if lesson is not None:
            return lesson
    heard = turn.session.get(CURRENT_KEY)
    if isinstance(heard, str) and (lesson := lookup(lessons, heard)) is not None:
        return lesson
    user = turn.user_if_reachable()
    if user is not None and user.lesson is not None:
        return lookup(lessons, user.lesson.lesson_id)
    return None


def _answer_followup(turn: Turn, lesson_id: object, stayed: bool | None) -> Response:
    """Answer "did anything stay with you?": yes (``True``), no (``False``), or something said
    in the person's own words (``None``: thanked for, never stored); then offer the next one."""
    lessons = catalog_for(turn)
    lesson = lookup(lessons, lesson_id if isinstance(lesson_id, str) else None)
    following = adjacent_lesson(lessons, lesson.id, 1) if lesson is not None else None
    key = {True: "lessons.followup.glad", False: "lessons.followup.thanks",
           None: "lessons.followup.heard"}[stayed]
    if following is not None:
        return offer_play(turn, key, following, title=following.title)
    turn.state = "menu"
    return turn.say(f"{key}.menu").ask("menu.reprompt")


# --------------------------------------------------------------------------- the launch hook


def returning_prompt(turn: Turn) -> str | None:
    """At launch, offer a returning person their lesson; ``None`` when there is nothing to offer.

    After a finished lesson: one short question about it (asked once; the marker is cleared).
    Partway through a lesson: an offer to continue it. Either way the welcome-back is spoken
    into ``turn``, an offer is opened (yes/no answered here), and the returned **reprompt key**
    (no placeholders) is for ``turn.ask(key)``. Nothing is spoken when ``None`` is returned.
    """
    user = turn.user_if_reachable()
    if user is None:
        return None
    try:
        lessons = catalog_for(turn)
    except (UnsupportedLocaleError, LessonCatalogError):
        return None
    if user.ask_about_lesson is not None:
        turn.remember(dataclasses.replace(user, ask_about_lesson=None))
        finished = lookup(lessons, user.ask_about_lesson)
        if finished is not None:
            turn.say("lessons.followup.question", title=finished.title)
            offer(turn, "followup", id=finished.id)
            return "lessons.followup.reprompt"
    progress = user.lesson
    if progress is not None and not progress.finished and progress.offset_ms > 0:
        lesson = lookup(lessons, progress.lesson_id)
        if lesson is not None:
            offset = progress.offset_ms if progress.locale == lesson.locale else 0
            turn.say("lessons.welcome_back.continue", title=lesson.title)
            offer(turn, "play", id=lesson.id, offset=offset)
            return "lessons.offer.resume.reprompt"
    return None


# --------------------------------------------------------------------------- handlers


class _LessonIntentHandler(IntentHandler):
    """An explicit lesson request: taken in any state but a reflection's."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return super().can_handle(handler_input) and not is_reflecting(handler_input)


class PlayLessonHandler(_LessonIntentHandler):
    """``PlayLessonIntent``: the named lesson; none named, the one to continue or the next one;
    an unknown name, three titles and a question."""

    intents = ("PlayLessonIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        lessons = catalog_for(turn)
        resolved, spoken = turn.slot_id("topic"), turn.slot("topic")
        lesson = lookup(lessons, resolved) or (find_lesson(lessons, spoken) if spoken else None)
        if lesson is not None:
            return play_lesson(turn, lesson)
        if resolved or spoken:
            return self._unknown(turn, lessons)
        return self._suggested(turn, lessons)

    @staticmethod
    def _unknown(turn: Turn, lessons: tuple[Lesson, ...]) -> Response:
        if len(lessons) < TITLES_PER_BREATH:
            return speak_list(turn, lessons)
        titles = {slot: lesson.title for slot, lesson in zip(_TITLE_SLOTS, lessons, strict=False)}
        turn.say("lessons.unknown", **titles)
        offer(turn, "choose")
        return turn.ask("lessons.unknown.reprompt")

    @staticmethod
    def _suggested(turn: Turn, lessons: tuple[Lesson, ...]) -> Response:
        """The first lesson not yet finished, as far as the one stored lesson tells."""
        user = turn.user_if_reachable()
        progress = user.lesson if user is not None else None
        stored = lookup(lessons, progress.lesson_id) if progress is not None else None
        if progress is None or stored is None:
            return play_lesson(turn, lessons[0])
        if not progress.finished:
            offset = progress.offset_ms if progress.locale == stored.locale else 0
            return play_lesson(turn, stored, offset,
                               "lessons.intro.resume" if offset else "lessons.intro.play")
        following = adjacent_lesson(lessons, stored.id, 1)
        if following is None:
            return speak_list(turn, lessons)
        return play_lesson(turn, following, 0, "lessons.intro.next")


class ListLessonsHandler(_LessonIntentHandler):
    """``ListLessonsIntent``: three titles per breath, "and N more", then which one?"""

    intents = ("ListLessonsIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        return speak_list(turn, catalog_for(turn))


class ResumeLessonHandler(_LessonIntentHandler):
    """``ResumeLessonIntent`` ("continue my lesson"): the stored lesson at its offset, from any
    later session; nothing stored, a kind word and the list on offer."""

    intents = ("ResumeLessonIntent",)

    def handle(self, handler_input: HandlerInput) -> Response:
        return resume_lesson(Turn(handler_input))


def decline_lesson(turn: Turn) -> Response:
    """No lesson now: say so kindly and offer the other things to do."""
    turn.state = "menu"
    return turn.say("lessons.offer.declined").ask("menu.reprompt")


def _open_offer(turn: Turn) -> dict[str, Any]:
    data = turn.session.pop(OFFER_KEY, None)
    turn.state = "menu"
    return data if isinstance(data, dict) else {}


class OfferYesHandler(IntentHandler):
    """``AMAZON.YesIntent`` to a lesson offer: play it, name more titles, or answer the question."""

    intents = ("AMAZON.YesIntent",)
    states = (OFFER_STATE,)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        data = _open_offer(turn)
        kind = data.get("kind")
        lessons = catalog_for(turn)
        if kind == "followup":
            return _answer_followup(turn, data.get("id"), stayed=True)
        if kind == "play":
            lesson = lookup(lessons, data.get("id") if isinstance(data.get("id"), str) else None)
            if lesson is not None:
                offset = data.get("offset")
                offset = offset if isinstance(offset, int) else 0
                return play_lesson(turn, lesson, offset,
                                   "lessons.intro.resume" if offset else "lessons.intro.play")
        if kind == "list":
            at = data.get("at")
            return speak_list(turn, lessons, at if isinstance(at, int) else 0)
        return ask_which(turn, lessons)


class OfferNoHandler(IntentHandler):
    """``AMAZON.NoIntent`` to a lesson offer: back to the menu kindly (or answer the question)."""

    intents = ("AMAZON.NoIntent",)
    states = (OFFER_STATE,)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        data = _open_offer(turn)
        if data.get("kind") == "followup":
            return _answer_followup(turn, data.get("id"), stayed=False)
        return decline_lesson(turn)


class FollowupWordsHandler(IntentHandler):
    """Words instead of yes or no to "did anything from that lesson stay with you?" (speech
    that fits nothing, or a sentence with a carrier phrase): thanked for, and the next lesson
    offered; not read as a day check-in. Crisis words were caught before this."""

    intents = ("AMAZON.FallbackIntent", "CheckInIntent")
    states = (OFFER_STATE,)

    def can_handle(self, handler_input: HandlerInput) -> bool:
        if not super().can_handle(handler_input):
            return False
        data = handler_input.attributes_manager.session_attributes.get(OFFER_KEY)
        return isinstance(data, dict) and data.get("kind") == "followup"

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        return _answer_followup(turn, _open_offer(turn).get("id"), stayed=None)


class OfferFallbackHandler(IntentHandler):
    """``AMAZON.FallbackIntent`` while a lesson offer is open: ask the yes/no question again."""

    intents = ("AMAZON.FallbackIntent",)
    states = (OFFER_STATE,)

    def handle(self, handler_input: HandlerInput) -> Response:
        turn = Turn(handler_input)
        data = turn.session.get(OFFER_KEY)
        kind = data.get("kind") if isinstance(data, dict) else None
        reprompt = {
            "play": "lessons.offer.play.reprompt",
            "list": "lessons.list.more.reprompt",
            "followup": "lessons.followup.reprompt",
        }.get(str(kind), "lessons.unknown.reprompt")
        return turn.say("lessons.offer.unclear").ask(reprompt)


#: Offers (state-gated) first, then the explicit lesson intents.
HANDLERS = (
    OfferYesHandler(), OfferNoHandler(), FollowupWordsHandler(), OfferFallbackHandler(),
    PlayLessonHandler(), ListLessonsHandler(), ResumeLessonHandler(),
)
