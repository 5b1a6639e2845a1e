"""skill.checkin.classifier: the learned second crisis check, its data and its model files.

Sentences here were written for these tests; none comes from the development set
(tests/checkin/test_lexicon.py checks every test file for that).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from skill.checkin import analyze
from skill.checkin.classifier import (
    ClassifierError,
    FeatureSpec,
    content_units,
    crisis_model,
    features,
    model_path,
    parse_model,
    windows,
)
from skill.checkin.training import (
    CONFIGS,
    TrainConfig,
    data_digest,
    fit,
    guard,
    load_examples,
    rules_flag,
    training_path,
)

ROOT = Path(__file__).resolve().parents[2]
DEV_DIR = ROOT / "data" / "checkin"
LOCALES = ("en-US", "ja-JP")
MAX_MODEL_BYTES = 2 * 1024 * 1024


def _squash(text: str) -> str:
    return re.sub(r"[\s、。,.!?！？']+", "", text.lower())


def dev_sentences() -> set[str]:
    return {_squash(json.loads(line)["text"]) for path in DEV_DIR.glob("dev_*.jsonl")
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}


def written_lines(locale: str) -> dict[str, list[str]]:
    data = yaml.safe_load(training_path(locale).read_text(encoding="utf-8"))
    return {section: [str(t) for texts in data[section].values() for t in texts]
            for section in ("crisis", "not_crisis")}


class TestTrainingData:
    @pytest.mark.parametrize("locale", LOCALES)
    def test_enough_written_lines(self, locale: str) -> None:
        """If the classifier is trained, then each locale has >= 150 crisis and >= 200 other
        written lines, none listed twice."""
        lines = written_lines(locale)
        assert len(lines["crisis"]) >= 150
        assert len(lines["not_crisis"]) >= 200
        every = [_squash(t) for t in lines["crisis"] + lines["not_crisis"]]
        assert len(every) == len(set(every)), "a training line is listed twice"

    @pytest.mark.parametrize("locale", LOCALES)
    def test_no_training_line_is_a_dev_sentence(self, locale: str) -> None:
        """If the dev set is for measurement only, then no training line is a dev sentence."""
        dev = dev_sentences()
        copied = [e.text for e in load_examples(locale) if _squash(e.text) in dev]
        assert not copied, f"training line(s) copied from the dev set: {copied}"

    @pytest.mark.parametrize("locale", LOCALES)
    def test_written_lines_do_not_repeat_the_heldout_set(self, locale: str) -> None:
        """If the written file adds data, then none of its lines repeats a held-out line."""
        examples = load_examples(locale)
        heldout = {_squash(e.text) for e in examples if e.source == "heldout"}
        repeated = [e.text for e in examples if e.source == "training" and _squash(e.text) in heldout]
        assert not repeated, repeated

    @pytest.mark.parametrize("locale", LOCALES)
    def test_shipped_model_matches_its_data(self, locale: str) -> None:
        """If the training data change, then the shipped model must be retrained (digest)."""
        data = json.loads(model_path(locale).read_text(encoding="utf-8"))
        assert data["training"]["data_sha256"] == data_digest(locale), (
            "stale model: run `python -m skill.checkin.training`")


class TestModelFiles:
    @pytest.mark.parametrize("locale", LOCALES)
    def test_model_is_small_and_loads(self, locale: str) -> None:
        """If a model ships, then it is at most 2 MB and loads with the locale's script."""
        assert model_path(locale).stat().st_size <= MAX_MODEL_BYTES
        model = crisis_model(locale)
        assert model.locale == locale
        assert model.spec == CONFIGS[locale].spec
        assert len(model.weights) > 1000

    def test_unknown_locale_has_no_model(self) -> None:
        """If the locale is unsupported, then loading its model says so."""
        from skill.errors import UnsupportedLocaleError
        with pytest.raises(UnsupportedLocaleError, match="fr-FR"):
            crisis_model("fr-FR")

    @pytest.mark.parametrize(("data", "message"), [
        ([], "expected a JSON object"),
        ({"format": 99}, "format 99"),
        ({"format": 1, "locale": "en-US"}, "missing or malformed field"),
        ({"format": 1, "locale": "en-US", "bias": 0, "threshold": 0, "weights": {"a": "x"},
          "features": {"script": "en", "char_min": 3, "char_max": 4, "word_ngrams": 2,
                       "window": 30, "step": 15, "min_units": 3}}, "weights must map"),
        ({"format": 1, "locale": "en-US", "bias": 0, "threshold": 0, "weights": {},
          "features": {"script": "fr", "char_min": 3, "char_max": 4, "word_ngrams": 2,
                       "window": 30, "step": 15, "min_units": 3}}, "bad feature spec"),
        ({"format": 1, "locale": "en-US", "bias": 0, "threshold": 0, "weights": {},
          "features": {"script": "en", "char_min": 3, "char_max": 4, "word_ngrams": 2,
                       "window": 10, "step": 15, "min_units": 3}}, "bad window"),
    ])
    def test_malformed_model_fails_loudly(self, data: object, message: str) -> None:
        """If a model file is malformed, then a ClassifierError names the problem."""
        with pytest.raises(ClassifierError, match=message):
            parse_model(data, "test.json")


class TestFeatures:
    def test_english_features_have_words_bigrams_and_characters(self) -> None:
        """If English text is featurized, then word, bigram and character n-grams appear."""
        spec = FeatureSpec(script="en", char_min=3, char_max=4, word_ngrams=2)
        found = features(["i", "feel", "low"], spec)
        assert {"w:feel", "b:feel low", " lo", "low "} <= found

    def test_japanese_features_mark_the_ends(self) -> None:
        """If Japanese text is featurized, then character n-grams include the end markers."""
        spec = FeatureSpec(script="ja", char_min=2, char_max=3, word_ngrams=0)
        found = features(list("消えたい"), spec)
        assert {"^消", "たい", "たい$", "えた"} <= found
        assert not any(f.startswith("w:") for f in found)

    def test_long_text_is_read_in_overlapping_windows(self) -> None:
        """If a text is longer than a window, then overlapping windows cover all of it."""
        spec = FeatureSpec(script="en", char_min=3, char_max=4, window=4, step=2)
        parts = windows("a b c d e f g", spec)
        assert parts[0] == ["a", "b", "c", "d"]
        assert parts[-1] == ["d", "e", "f", "g"]

    def test_markers_are_not_content(self) -> None:
        """If guarded text holds engine markers, then they do not count as the person's words."""
        spec = FeatureSpec(script="en", char_min=3, char_max=4)
        assert content_units(" i am hyperbole eos ", spec) == 2


class TestTraining:
    def test_fit_is_reproducible(self) -> None:
        """If the same rows are fitted twice with the same seed, then the weights are identical."""
        rows = [(frozenset({"a", "b"}), True), (frozenset({"b", "c"}), False),
                (frozenset({"a", "d"}), True), (frozenset({"c", "d"}), False)]
        config = TrainConfig(spec=CONFIGS["en-US"].spec, epochs=5, average_from=2)
        assert fit(rows, config) == fit(rows, config)
        weights, _ = fit(rows, config)
        assert weights["a"] > 0 > weights["c"]


class TestCombinedDecision:
    @pytest.mark.parametrize(("text", "locale"), [
        ("lately i feel like the people around me would breathe easier once i'm gone", "en-US"),
        ("i keep wondering how long it would take anyone to notice if i vanished", "en-US"),
        ("i've been thinking i don't want to see another morning", "en-US"),
        ("i'm so worn down i just want my heart to stop", "en-US"),
        ("家族にとって私はもういない方がいい存在なんだと思う", "ja-JP"),
        ("もう何もかも疲れたから眠ったまま消えてしまいたい", "ja-JP"),
        ("最近、線路を見るとそっちに吸い込まれそうになる", "ja-JP"),
        ("私の代わりなんていくらでもいるし、いなくなっても平気でしょ", "ja-JP"),
    ])
    def test_rewordings_are_caught(self, text: str, locale: str) -> None:
        """If a crisis is said in words no rule was written for, then the answer is a crisis."""
        assert analyze(text, locale).crisis

    def test_gone_for_good_reaches_the_checks(self) -> None:
        """If someone says they will be gone for good, then it is a crisis."""
        assert analyze("i keep wondering how long it would take anyone to notice i was gone for good",
                       "en-US").crisis

    @pytest.mark.parametrize(("text", "locale"), [
        ("i'm not suicidal at all i'm just really tired of my commute", "en-US"),
        ("this project is going to be the death of me", "en-US"),
        ("my grandfather passed away and the funeral is on friday", "en-US"),
        ("i'm going to give my old sofa away before the move", "en-US"),
        ("no", "en-US"),
        ("goodbye", "en-US"),
        ("死にたいなんて全然思ってないよ、ただ眠いだけ", "ja-JP"),
        ("暑すぎて死ぬかと思った", "ja-JP"),
        ("祖母が入院していて心配", "ja-JP"),
        ("さよなら", "ja-JP"),
    ])
    def test_guards_and_ordinary_days_are_not_overridden(self, text: str, locale: str) -> None:
        """If a guard or an ordinary day explains the words, then the classifier adds no alarm."""
        assert not analyze(text, locale).crisis

    @pytest.mark.parametrize("locale", LOCALES)
    def test_engine_is_rules_or_classifier(self, locale: str) -> None:
        """If an answer is analysed, then its crisis flag is the rules OR the classifier."""
        model = crisis_model(locale)
        for example in load_examples(locale)[::7]:
            guarded = guard(example.text, locale)
            expected = rules_flag(guarded, locale) or model.flags(guarded)
            assert analyze(example.text, locale).crisis == expected, example.text

    def test_crisis_at_the_end_of_a_long_answer(self) -> None:
        """If a reworded crisis ends a long ordinary answer, then the windows still find it."""
        text = ("we had a slow morning and a long meeting and i cooked rice " * 40
                + "i keep wondering how long it would take anyone to notice if i vanished")
        guarded = guard(text, "en-US")
        assert crisis_model("en-US").flags(guarded)
