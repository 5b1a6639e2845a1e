"""The deployable interaction models: valid, parallel across locales, unambiguous, resolvable."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from skill.simulator.nlu import normalize, resolver_for

MODELS = Path(__file__).resolve().parent.parent / "interaction_models"
LOCALES = ["en-US", "ja-JP"]
INVOCATIONS = {"en-US": "reflection guide", "ja-JP": "ふりかえりガイド"}
CUSTOM = {"StartReflectionIntent", "CheckInIntent", "CrisisIntent", "CheckInStartIntent", "PlayLessonIntent",
          "ListLessonsIntent", "ResumeLessonIntent", "NextStepIntent", "SkipStageIntent",
          "DeleteMyDataIntent", "WhatDoYouRememberIntent"}
REQUIRED_BUILTINS = {"AMAZON.HelpIntent", "AMAZON.StopIntent", "AMAZON.CancelIntent",
                     "AMAZON.NavigateHomeIntent", "AMAZON.FallbackIntent", "AMAZON.PauseIntent",
                     "AMAZON.ResumeIntent", "AMAZON.NextIntent", "AMAZON.PreviousIntent",
                     "AMAZON.StartOverIntent", "AMAZON.RepeatIntent", "AMAZON.LoopOnIntent",
                     "AMAZON.LoopOffIntent", "AMAZON.ShuffleOnIntent", "AMAZON.ShuffleOffIntent",
                     "AMAZON.YesIntent", "AMAZON.NoIntent"}
BUILTIN_SLOT_TYPES = {"AMAZON.DURATION", "AMAZON.SearchQuery"}


def _model(locale: str) -> dict[str, Any]:
    return json.loads((MODELS / f"{locale}.json").read_text(encoding="utf-8"))


def _intents(locale: str) -> dict[str, dict[str, Any]]:
    return {i["name"]: i for i in _model(locale)["interactionModel"]["languageModel"]["intents"]}


@pytest.mark.parametrize("locale", LOCALES)
class TestStructure:
    def test_invocation_name(self, locale: str) -> None:
        """If the model is deployed, then its invocation name is the agreed one."""
        assert _model(locale)["interactionModel"]["languageModel"]["invocationName"] == INVOCATIONS[locale]

    def test_has_every_intent(self, locale: str) -> None:
        """If the model is deployed, then it declares every custom and required built-in intent."""
        assert set(_intents(locale)) == CUSTOM | REQUIRED_BUILTINS

    def test_custom_intents_have_fifteen_samples(self, locale: str) -> None:
        """If an intent is ours, then it has at least 15 distinct natural samples."""
        for name in CUSTOM:
            samples = _intents(locale)[name]["samples"]
            assert len(set(samples)) >= 15, f"{name}: {len(samples)} samples"

    def test_slot_types_declared(self, locale: str) -> None:
        """If a slot uses a custom type, then the type is declared; every {slot} is a slot."""
        language_model = _model(locale)["interactionModel"]["languageModel"]
        declared = {t["name"] for t in language_model.get("types", [])}
        for intent in language_model["intents"]:
            slots = {s["name"]: s["type"] for s in intent.get("slots", [])}
            for slot_type in slots.values():
                assert slot_type in declared | BUILTIN_SLOT_TYPES
            for sample in intent.get("samples", []):
                for name in __import__("re").findall(r"\{(\w+)\}", sample):
                    assert name in slots, f"{intent['name']}: {sample!r} uses undeclared {name}"

    def test_no_sample_claimed_twice(self, locale: str) -> None:
        """If a sample is normalised as Alexa hears it, then only one intent claims it."""
        owners: Counter[str] = Counter()
        for intent in _intents(locale).values():
            for sample in set(intent.get("samples", [])):
                owners[normalize(sample, locale)] += 1
        assert [s for s, n in owners.items() if n > 1] == []

    def test_search_query_has_carrier_phrases(self, locale: str) -> None:
        """If a slot is a SearchQuery, then no intent sample is the bare slot."""
        for sample in _intents(locale)["CheckInIntent"]["samples"]:
            assert sample.strip() != "{answer}"

    def test_dialog_prompts_exist(self, locale: str) -> None:
        """If the dialog model names a prompt, then the prompt is defined."""
        model = _model(locale)["interactionModel"]
        prompt_ids = {p["id"] for p in model.get("prompts", [])}
        for intent in model.get("dialog", {}).get("intents", []):
            for slot in intent["slots"]:
                for prompt in slot.get("prompts", {}).values():
                    assert prompt in prompt_ids


def test_locales_declare_the_same_intents_and_slots() -> None:
    """If a locale adds an intent or slot, then every locale has it."""
    shapes = {
        loc: {n: sorted((s["name"], s["type"]) for s in i.get("slots", [])) for n, i in _intents(loc).items()}
        for loc in LOCALES
    }
    assert shapes["en-US"] == shapes["ja-JP"]


def test_lesson_topic_ids_match_across_locales() -> None:
    """If a lesson topic exists, then both locales resolve it to the same id."""
    ids = {}
    for loc in LOCALES:
        types = _model(loc)["interactionModel"]["languageModel"]["types"]
        ids[loc] = sorted(v["id"] for t in types if t["name"] == "LESSON_TOPIC" for v in t["values"])
    assert ids["en-US"] == ids["ja-JP"]


@pytest.mark.parametrize(("locale", "utterance", "intent", "slots"), [
    ("en-US", "start a two minute reflection", "StartReflectionIntent", {"duration": "PT2M"}),
    ("en-US", "give me a two minute reflection", "StartReflectionIntent", {"duration": "PT2M"}),
    ("en-US", "my day was rough", "CheckInIntent", {"answer": "rough"}),
    ("en-US", "play a lesson on asking for help", "PlayLessonIntent", {"topic": "asking for help"}),
    ("ja-JP", "2分のふりかえりをして", "StartReflectionIntent", {"duration": "PT2M"}),
    ("ja-JP", "今日は疲れた一日だった", "CheckInIntent", {"answer": "疲れた一日だった"}),
    ("ja-JP", "助けを求めるレッスンを聞かせて", "PlayLessonIntent", {"topic": "助けを求める"}),
    ("ja-JP", "次へ", "NextStepIntent", {}),
    ("en-US", "i want to die", "CrisisIntent", {}),
    # The words the menu prompts themselves offer ("a short reflection, or a lesson?").
    ("en-US", "a short reflection", "StartReflectionIntent", {}),
    ("en-US", "a check in", "CheckInStartIntent", {}),
    ("en-US", "a lesson", "PlayLessonIntent", {}),
    ("en-US", "what do you remember", "WhatDoYouRememberIntent", {}),
    ("ja-JP", "短いふりかえり", "StartReflectionIntent", {}),
    ("ja-JP", "今日の話", "CheckInStartIntent", {}),
    ("ja-JP", "レッスン", "PlayLessonIntent", {}),
    ("ja-JP", "消えてしまいたい", "CrisisIntent", {}),
    ("en-US", "next", "NextStepIntent", {}),
])
def test_required_phrases_resolve(locale: str, utterance: str, intent: str, slots: dict[str, str]) -> None:
    """If a person says one of the agreed phrases, then it resolves to the agreed intent and slots."""
    resolution = resolver_for(locale).resolve(utterance)
    assert resolution.intent == intent
    assert {k: v.value for k, v in resolution.slots.items()} == slots


@pytest.mark.parametrize("locale", LOCALES)
def test_every_crisis_sample_is_crisis_to_the_analyser(locale: str) -> None:
    """If Alexa resolves a phrase to ``CrisisIntent``, then the analyser reading the same words
    as free speech also calls them crisis: the two ways in agree, and no sample is the kind of
    everyday hyperbole the analyser answers normally."""
    from skill.checkin import analyze

    samples = _intents(locale)["CrisisIntent"]["samples"]
    assert samples
    assert [s for s in samples if not analyze(s, locale).crisis] == []


def test_handlers_cover_every_intent() -> None:
    """If the model declares an intent, then some handler (not just the catch-all) handles it."""
    from skill.handlers import registry

    handled = registry.handled_intents()
    missing = (CUSTOM | REQUIRED_BUILTINS) - handled
    assert not missing, f"no handler for {sorted(missing)}"


@pytest.mark.parametrize("locale", LOCALES)
def test_lesson_topics_are_the_catalog_lessons(locale: str) -> None:
    """If a lesson topic resolves, then its id is a lesson in the catalog, and every lesson
    can be asked for by name."""
    from skill.lessons.catalog import load_lessons

    types = _model(locale)["interactionModel"]["languageModel"]["types"]
    ids = {v["id"] for t in types if t["name"] == "LESSON_TOPIC" for v in t["values"]}
    assert ids == {lesson.id for lesson in load_lessons(locale)}
