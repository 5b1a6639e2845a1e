"""The second crisis check: a small logistic regression over n-grams, scored in pure Python.

The lexicon's crisis rules catch the phrasings someone wrote a rule for; rewordings slip through
(docs/checkin.md, held-out section). This layer is learned from many written examples and
generalises over word and character n-grams, so ``crisis = rules OR classifier``.

It reads exactly what the rules read: the *guarded* text, in which the lexicon's guards have
already rewritten everyday hyperbole, clear denials, other people's losses, fiction and accidents
to a neutral token (``hyperbole`` / ``〇``). So the classifier can never override a guard: a clear
denial ("i'm not suicidal") never reaches it, while a crisis cue elsewhere in the same answer still
does. The model was trained on guarded text too (``python -m skill.checkin.training``).

Features (binary, scaled by 1/sqrt(count) so short and long answers weigh alike):

- English (lemma text from the engine): word unigrams (``w:``) and bigrams (``b:``), plus
  character n-grams of the space-joined words with a space at each edge.
- Japanese (no spaces): character n-grams with ``^`` / ``$`` marking the ends.

Answers shorter than ``min_units`` (3 English words, 5 Japanese characters) are left to the
rules: one or two words ("no", "goodbye", 「さよなら」) are too little evidence for a learned guess.

Long answers are read in overlapping windows (as long as a typical training line) and the
highest-scoring window counts, so one crisis sentence is not diluted by a page of ordinary day.

Weights are data (``skill/checkin/models/<locale>.json``), loaded on first use per locale; no
numpy or scikit-learn at run time, and nothing derived from the text is stored or logged.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from skill.checkin.lexicon import resolve_locale
from skill.errors import ReflectionError

MODEL_DIR = Path(__file__).resolve().parent / "models"
#: Version of the model file layout this module reads.
FORMAT = 1


class ClassifierError(ReflectionError):
    """Raised when a crisis model file is missing or malformed."""


@dataclass(frozen=True)
class FeatureSpec:
    """How a text becomes features; stored in the model file so training and scoring agree."""

    #: ``"en"`` (space-separated lemmas) or ``"ja"`` (characters).
    script: str
    char_min: int
    char_max: int
    #: English only: 0 (none), 1 (unigrams) or 2 (unigrams and bigrams).
    word_ngrams: int = 2
    #: Window length in words (en) or characters (ja), and the step between windows.
    window: int = 30
    step: int = 15
    #: Shorter answers (words / characters, markers not counted) are left to the rules alone:
    #: "no", "goodbye" or 「さよなら」 carry too little evidence for a learned guess.
    min_units: int = 3

    def as_dict(self) -> dict[str, Any]:
        """The spec as plain JSON values."""
        return {"script": self.script, "char_min": self.char_min, "char_max": self.char_max,
                "word_ngrams": self.word_ngrams, "window": self.window, "step": self.step,
                "min_units": self.min_units}


#: Tokens the engine inserts (sentence end, a neutralised guard span); not counted as content.
MARKERS = frozenset({"eos", "hyperbole", "〇"})


def content_units(text: str, spec: FeatureSpec) -> int:
    """How many words (en) or characters (ja) of guarded text are the person's, not markers.

    :param text: guarded text as the engine builds it.
    :param spec: the model's feature spec.
    """
    units = text.split() if spec.script == "en" else [c for c in text if not c.isspace()]
    return sum(1 for u in units if u not in MARKERS)


def windows(text: str, spec: FeatureSpec) -> list[list[str]]:
    """Split guarded text into overlapping windows of units (words or characters).

    :param text: guarded text as the engine builds it.
    :param spec: the model's feature spec.
    """
    units = text.split() if spec.script == "en" else list(text)
    if len(units) <= spec.window:
        return [units]
    last = len(units) - spec.window
    starts = list(range(0, last + 1, spec.step))
    if starts[-1] != last:
        starts.append(last)
    return [units[s:s + spec.window] for s in starts]


def features(units: list[str], spec: FeatureSpec) -> set[str]:
    """The binary features of one window.

    :param units: the window's words (en) or characters (ja).
    :param spec: the model's feature spec.
    """
    found: set[str] = set()
    if spec.script == "en":
        if spec.word_ngrams >= 1:
            found.update("w:" + u for u in units)
        if spec.word_ngrams >= 2:
            found.update(f"b:{a} {b}" for a, b in zip(units, units[1:], strict=False))
        joined = " " + " ".join(units) + " "
    else:
        joined = "^" + "".join(units) + "$"
    size = len(joined)
    for n in range(spec.char_min, spec.char_max + 1):
        found.update(joined[i:i + n] for i in range(size - n + 1))
    return found


def margin(weights: Mapping[str, float], bias: float, found: set[str]) -> float:
    """The logit of one window's features (bias + scaled sum of weights).

    :param weights: feature -> weight.
    :param bias: the intercept.
    :param found: the window's features.
    """
    if not found:
        return bias
    get = weights.get
    return bias + sum(get(f, 0.0) for f in found) / math.sqrt(len(found))


@dataclass(frozen=True)
class CrisisModel:
    """A loaded crisis model: weights, intercept, decision threshold (on the logit), feature spec."""

    locale: str
    spec: FeatureSpec
    bias: float
    threshold: float
    weights: Mapping[str, float]

    def score(self, guarded: str) -> float:
        """The highest window logit of a guarded text (higher is more crisis-like).

        :param guarded: the text after the lexicon's guards (``engine.guarded_en/_ja``).
        """
        return max(margin(self.weights, self.bias, features(w, self.spec))
                   for w in windows(guarded, self.spec))

    def probability(self, guarded: str) -> float:
        """The score as a probability (for reports; decisions use :meth:`flags`).

        :param guarded: the text after the lexicon's guards.
        """
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, self.score(guarded)))))

    def flags(self, guarded: str) -> bool:
        """True when the text scores at or above the model's threshold.

        :param guarded: the text after the lexicon's guards.
        """
        if content_units(guarded, self.spec) < self.spec.min_units:
            return False
        return self.score(guarded) >= self.threshold


def model_path(locale: str) -> Path:
    """Where the model of a locale lives (``models/<locale>.json``).

    :raises UnsupportedLocaleError: if the locale resolves to no supported locale.
    """
    return MODEL_DIR / f"{resolve_locale(locale)}.json"


@cache
def crisis_model(locale: str) -> CrisisModel:
    """Load (once per process) the crisis model of a locale.

    :param locale: a request locale; ``en-*`` / ``ja-*`` resolve by language.
    :raises UnsupportedLocaleError: if the locale is not supported.
    :raises ClassifierError: if the model file is missing or malformed.
    """
    path = model_path(locale)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ClassifierError(f"crisis model missing: {path.name} (run "
                              "`python -m skill.checkin.training`)") from exc
    except (OSError, ValueError) as exc:
        raise ClassifierError(f"crisis model {path.name} cannot be read: {exc}") from exc
    return parse_model(data, path.name)


def parse_model(data: Any, where: str = "model") -> CrisisModel:
    """Validate and build a model from decoded JSON.

    :param data: the decoded model file.
    :param where: a name for error messages.
    :raises ClassifierError: if a field is missing or has the wrong type.
    """
    if not isinstance(data, dict):
        raise ClassifierError(f"{where}: expected a JSON object")
    if data.get("format") != FORMAT:
        raise ClassifierError(f"{where}: format {data.get('format')!r}, expected {FORMAT}")
    try:
        raw_spec = data["features"]
        spec = FeatureSpec(
            script=str(raw_spec["script"]), char_min=int(raw_spec["char_min"]),
            char_max=int(raw_spec["char_max"]), word_ngrams=int(raw_spec["word_ngrams"]),
            window=int(raw_spec["window"]), step=int(raw_spec["step"]),
            min_units=int(raw_spec["min_units"]),
        )
        bias = float(data["bias"])
        threshold = float(data["threshold"])
        raw_weights = data["weights"]
        locale = str(data["locale"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ClassifierError(f"{where}: missing or malformed field ({exc})") from exc
    if spec.script not in ("en", "ja") or not 1 <= spec.char_min <= spec.char_max:
        raise ClassifierError(f"{where}: bad feature spec {spec}")
    if spec.window < 1 or not 1 <= spec.step <= spec.window:
        raise ClassifierError(f"{where}: bad window {spec.window}/{spec.step}")
    if not isinstance(raw_weights, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in raw_weights.values()
    ):
        raise ClassifierError(f"{where}: weights must map feature -> number")
    weights = {str(k): float(v) for k, v in raw_weights.items()}
    return CrisisModel(locale=locale, spec=spec, bias=bias, threshold=threshold, weights=weights)
