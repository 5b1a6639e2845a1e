"""Train the learned crisis check (:mod:`skill.checkin.classifier`) reproducibly, in pure Python.

Data (never the development set, which is for measurement only):

- ``skill/checkin/training/<locale>.yaml``: lines written for this classifier (crisis and
  not-crisis sections, by category);
- ``tests/checkin/heldout_<locale>.yaml``: the held-out crisis lines, hard negatives and polarity
  lines (everyday answers, not crises).

Every line is first turned into the guarded text the engine's crisis checks read
(:func:`skill.checkin.engine.guarded`), so the model learns on exactly what it
sees at run time. The model is an L2-regularised logistic regression over the binary features of
:func:`skill.checkin.classifier.features`, fitted by AdaGrad SGD with a fixed seed (pure Python
floats, so the same data give the same weights on every machine), crisis lines weighted up.

The decision threshold comes from k-fold cross-validation: out-of-fold scores of every line, and
the lowest threshold whose out-of-fold false alarms stay within :data:`MAX_HARD_FA` of the hard
negatives and :data:`MAX_EVERYDAY_FA` of the everyday lines. ``python -m skill.checkin.training``
writes ``skill/checkin/models/<locale>.json`` and prints the cross-validated and development-set
figures (rules alone, classifier alone, rules OR classifier).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from skill.checkin.classifier import (
    FORMAT,
    MODEL_DIR,
    FeatureSpec,
    content_units,
    features,
    margin,
)
from skill.checkin.engine import guarded
from skill.checkin.lexicon import load_lexicon, resolve_locale

TRAINING_DIR = Path(__file__).resolve().parent
ROOT = TRAINING_DIR.parents[2]
HELDOUT_DIR = ROOT / "tests" / "checkin"
DEV_DIR = ROOT / "data" / "checkin"

#: Not-crisis categories that are ordinary days (the rest are hard negatives).
EVERYDAY = frozenset({"everyday_bad", "everyday_good_and_plain", "more_everyday", "present_tense_days",
                      "short_answers",
                      "polarity"})
#: Threshold rule: out-of-fold false alarms allowed on hard negatives and on everyday lines.
MAX_HARD_FA = 0.10
MAX_EVERYDAY_FA = 0.02
#: Recall the threshold aims for (reported; the false-alarm limits win if both cannot hold).
TARGET_RECALL = 0.95
#: Weights smaller than this are dropped from the model file (they never move a decision).
PRUNE = 1e-4
#: Score of a line the model does not decide (shorter than ``min_units``).
NEVER = -1e9
DIGITS = 4


@dataclass(frozen=True)
class Example:
    """One labelled line: its text, label, category and source file."""

    text: str
    crisis: bool
    category: str
    source: str

    @property
    def hard(self) -> bool:
        """True for a hard negative (hyperbole, denial, third person, fiction, harm words)."""
        return not self.crisis and self.category not in EVERYDAY


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one model (chosen by cross-validation; see docs/checkin.md)."""

    spec: FeatureSpec
    epochs: int = 30
    rate: float = 0.1
    l2: float = 1e-3
    #: Crisis lines count this many times the not-crisis lines' share (recall first).
    crisis_weight: float = 2.0
    seed: int = 20240601
    folds: int = 5
    #: Average the end-of-epoch weights from this epoch on (0: keep the last weights).
    average_from: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The config as plain JSON values."""
        return {"features": self.spec.as_dict(), "epochs": self.epochs, "rate": self.rate,
                "l2": self.l2, "crisis_weight": self.crisis_weight, "seed": self.seed,
                "folds": self.folds, "average_from": self.average_from}


CONFIGS: dict[str, TrainConfig] = {
    "en-US": TrainConfig(spec=FeatureSpec(script="en", char_min=3, char_max=4, word_ngrams=2,
                                          window=20, step=5, min_units=3), average_from=5),
    "ja-JP": TrainConfig(spec=FeatureSpec(script="ja", char_min=2, char_max=4, word_ngrams=0,
                                          window=30, step=6, min_units=5), average_from=5),
}


# --------------------------------------------------------------------------- data


def training_path(locale: str) -> Path:
    """The written training lines of a locale."""
    return TRAINING_DIR / f"{resolve_locale(locale)}.yaml"


def heldout_path(locale: str) -> Path:
    """The held-out set of a locale (also training data for the classifier)."""
    return HELDOUT_DIR / f"heldout_{resolve_locale(locale)}.yaml"


def _sections(data: Any, name: str, where: str) -> Iterable[tuple[str, str]]:
    section = data.get(name) or {}
    if not isinstance(section, dict):
        raise ValueError(f"{where}: section {name!r} must map category -> lines")
    for category, texts in section.items():
        for text in texts or ():
            yield str(category), str(text)


def load_examples(locale: str) -> list[Example]:
    """Every training line of a locale: the written training file, then the held-out set.

    :raises FileNotFoundError: if a file is missing.
    :raises ValueError: if a file is malformed.
    """
    locale = resolve_locale(locale)
    examples: list[Example] = []
    path = training_path(locale)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if data.get("locale") != locale:
        raise ValueError(f"{path.name}: locale {data.get('locale')!r}, expected {locale}")
    for label, section in ((True, "crisis"), (False, "not_crisis")):
        examples += [Example(t, label, c, "training") for c, t in _sections(data, section, path.name)]
    path = heldout_path(locale)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for label, section in ((True, "crisis"), (False, "hard_negatives")):
        examples += [Example(t, label, c, "heldout") for c, t in _sections(data, section, path.name)]
    examples += [Example(str(text), False, "polarity", "heldout") for text, _ in data["polarity"]]
    return examples


def dev_examples(locale: str) -> list[tuple[str, bool, tuple[str, ...]]]:
    """The development set of a locale as (text, crisis, tags): for MEASUREMENT only."""
    suffix = resolve_locale(locale)[:2]
    rows: list[tuple[str, bool, tuple[str, ...]]] = []
    for name in (f"dev_{suffix}.jsonl", f"dev_crisis_{suffix}.jsonl"):
        for line in (DEV_DIR / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                rows.append((str(row["text"]), bool(row["crisis"]), tuple(row.get("tags", ()))))
    return rows


def data_digest(locale: str) -> str:
    """SHA-256 of the training inputs (training file + held-out file), to spot a stale model."""
    digest = hashlib.sha256()
    for path in (training_path(locale), heldout_path(locale)):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def guard(text: str, locale: str) -> str:
    """The guarded text the engine's crisis checks read for this locale's script."""
    lex = load_lexicon(locale)
    return guarded(text, lex)


def rules_flag(guarded: str, locale: str) -> bool:
    """What the lexicon's crisis rules alone say about a guarded text."""
    return any(rule.search(guarded) for _, rule in load_lexicon(locale).crisis_rules)


# --------------------------------------------------------------------------- fitting


def fit(rows: Sequence[tuple[frozenset[str], bool]], config: TrainConfig
        ) -> tuple[dict[str, float], float]:
    """Fit weighted, L2-regularised logistic regression by AdaGrad SGD (fixed seed).

    :param rows: (features, crisis) pairs.
    :param config: hyper-parameters.
    :returns: (weights, bias).
    """
    positives = sum(1 for _, y in rows if y)
    negatives = len(rows) - positives
    crisis_weight = config.crisis_weight * negatives / max(positives, 1)
    weights: dict[str, float] = {}
    squares: dict[str, float] = {}
    bias, bias_square = 0.0, 0.0
    rng = random.Random(config.seed)
    order = list(range(len(rows)))
    ordered = [(sorted(f), y) for f, y in rows]
    total: dict[str, float] = {}
    total_bias, snapshots = 0.0, 0
    for epoch in range(config.epochs):
        rng.shuffle(order)
        for index in order:
            feats, label = ordered[index]
            scale = 1.0 / math.sqrt(len(feats)) if feats else 0.0
            z = bias + scale * sum(weights.get(f, 0.0) for f in feats)
            p = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))
            g = (p - (1.0 if label else 0.0)) * (crisis_weight if label else 1.0)
            for f in feats:
                w = weights.get(f, 0.0)
                grad = g * scale + config.l2 * w
                acc = squares.get(f, 0.0) + grad * grad
                squares[f] = acc
                if acc > 0.0:
                    weights[f] = w - config.rate * grad / math.sqrt(acc)
            bias_square += g * g
            if bias_square > 0.0:
                bias -= config.rate * g / math.sqrt(bias_square)
        if config.average_from and epoch + 1 >= config.average_from:
            for f, w in weights.items():
                total[f] = total.get(f, 0.0) + w
            total_bias += bias
            snapshots += 1
    if snapshots:
        return {f: w / snapshots for f, w in total.items()}, total_bias / snapshots
    return weights, bias


def featurize(examples: Sequence[Example], locale: str, spec: FeatureSpec
              ) -> list[tuple[frozenset[str], bool]]:
    """Features of each example's guarded text (one window: training lines are short)."""
    rows = []
    for e in examples:
        units = guard(e.text, locale).split() if spec.script == "en" else list(guard(e.text, locale))
        rows.append((frozenset(features(units, spec)), e.crisis))
    return rows


def folds_of(examples: Sequence[Example], k: int, seed: int) -> list[int]:
    """A fold number per example, stratified by label and category, seeded."""
    rng = random.Random(seed)
    strata: dict[tuple[bool, str], list[int]] = {}
    for i, e in enumerate(examples):
        strata.setdefault((e.crisis, e.category), []).append(i)
    assignment = [0] * len(examples)
    offset = 0
    for key in sorted(strata):
        members = strata[key]
        rng.shuffle(members)
        for j, i in enumerate(members):
            assignment[i] = (offset + j) % k
        offset += len(members)
    return assignment


def out_of_fold(examples: Sequence[Example], rows: Sequence[tuple[frozenset[str], bool]],
                config: TrainConfig) -> list[float]:
    """Each example's score from a model fitted without its fold."""
    assignment = folds_of(examples, config.folds, config.seed)
    scores = [0.0] * len(examples)
    for fold in range(config.folds):
        train = [rows[i] for i in range(len(rows)) if assignment[i] != fold]
        weights, bias = fit(train, config)
        for i in range(len(rows)):
            if assignment[i] == fold:
                scores[i] = margin(weights, bias, set(rows[i][0]))
    return scores


# --------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class Rates:
    """Recall on crisis lines and false-alarm rates on hard negatives and everyday lines."""

    recall: float
    hard_fa: float
    everyday_fa: float
    counts: tuple[int, int, int, int, int, int] = (0, 0, 0, 0, 0, 0)

    def as_dict(self) -> dict[str, Any]:
        """Rounded figures with their counts."""
        hit, pos, hard_hit, hard, every_hit, every = self.counts
        return {"recall": round(self.recall, 3), "crisis": f"{hit}/{pos}",
                "hard_fa": round(self.hard_fa, 3), "hard": f"{hard_hit}/{hard}",
                "everyday_fa": round(self.everyday_fa, 3), "everyday": f"{every_hit}/{every}"}


def rates(examples: Sequence[Example], flagged: Sequence[bool]) -> Rates:
    """Recall and false-alarm rates of a list of decisions."""
    pos = [f for e, f in zip(examples, flagged, strict=True) if e.crisis]
    hard = [f for e, f in zip(examples, flagged, strict=True) if e.hard]
    every = [f for e, f in zip(examples, flagged, strict=True) if not e.crisis and not e.hard]

    def share(xs: list[bool]) -> float:
        return sum(xs) / len(xs) if xs else 0.0

    return Rates(share(pos), share(hard), share(every),
                 (sum(pos), len(pos), sum(hard), len(hard), sum(every), len(every)))


def choose_threshold(examples: Sequence[Example], scores: Sequence[float]) -> float:
    """The lowest threshold whose false alarms stay within the limits (see module docstring)."""
    candidates = sorted(set(scores))
    best = candidates[-1] + 1e-6
    for t in reversed(candidates):
        r = rates(examples, [s >= t for s in scores])
        if r.hard_fa > MAX_HARD_FA or r.everyday_fa > MAX_EVERYDAY_FA:
            break
        best = t
    # Halfway to the next lower score, so a line just below the cut is not decided by rounding.
    below = [s for s in candidates if NEVER < s < best]
    return (best + below[-1]) / 2 if below else best - 1e-3


@dataclass
class Report:
    """Figures of one locale: cross-validated and on the development set."""

    locale: str
    lines: dict[str, int] = field(default_factory=dict)
    cv: dict[str, dict[str, Any]] = field(default_factory=dict)
    first_contact_rules: dict[str, Any] = field(default_factory=dict)
    dev: dict[str, dict[str, Any]] = field(default_factory=dict)
    size_kb: float = 0.0
    features: int = 0


def dev_figures(locale: str, decide: Callable[[str], bool]) -> dict[str, Any]:
    """Crisis recall and false alarms of one decision function on the development set."""
    rows = dev_examples(locale)
    crisis = [decide(t) for t, c, _ in rows if c]
    hyper = [decide(t) for t, c, tags in rows if not c and "hyperbole" in tags]
    every = [decide(t) for t, c, _ in rows if not c]
    return {"recall": f"{sum(crisis)}/{len(crisis)}", "hyperbole_fa": f"{sum(hyper)}/{len(hyper)}",
            "everyday_fa": f"{sum(every)}/{len(every)}"}


def build(locale: str, config: TrainConfig | None = None) -> tuple[dict[str, Any], Report]:
    """Cross-validate, choose the threshold, fit on everything and describe the model.

    :returns: (model file contents, report).
    """
    locale = resolve_locale(locale)
    config = config or CONFIGS[locale]
    examples = load_examples(locale)
    rows = featurize(examples, locale, config.spec)
    # Answers the model leaves to the rules (too short) can never be flagged by it.
    oof = [s if content_units(guard(e.text, locale), config.spec) >= config.spec.min_units
           else NEVER for s, e in zip(out_of_fold(examples, rows, config), examples, strict=True)]
    threshold = choose_threshold(examples, oof)
    rules = [rules_flag(guard(e.text, locale), locale) for e in examples]
    model_oof = [s >= threshold for s in oof]

    report = Report(locale=locale)
    report.lines = {"crisis": sum(e.crisis for e in examples),
                    "hard_negatives": sum(e.hard for e in examples),
                    "everyday": sum(not e.crisis and not e.hard for e in examples)}
    for name, subset in (("all", lambda e: True), ("training_file", lambda e: e.source == "training"),
                         ("heldout_file", lambda e: e.source == "heldout")):
        idx = [i for i, e in enumerate(examples) if subset(e)]
        sub = [examples[i] for i in idx]
        report.cv[name] = {
            "rules": rates(sub, [rules[i] for i in idx]).as_dict(),
            "classifier": rates(sub, [model_oof[i] for i in idx]).as_dict(),
            "combined": rates(sub, [rules[i] or model_oof[i] for i in idx]).as_dict(),
        }

    weights, bias = fit(rows, config)
    kept = {f: round(w, DIGITS) for f, w in sorted(weights.items()) if abs(w) >= PRUNE}
    model = {
        "format": FORMAT,
        "locale": locale,
        "features": config.spec.as_dict(),
        "bias": round(bias, 6),
        "threshold": round(threshold, 6),
        "training": {
            "config": config.as_dict(),
            "data_sha256": data_digest(locale),
            "lines": report.lines,
            "threshold_rule": {"max_hard_fa": MAX_HARD_FA, "max_everyday_fa": MAX_EVERYDAY_FA},
            "cv": report.cv["all"],
        },
        "weights": kept,
    }
    report.features = len(kept)
    return model, report


def write_model(model: dict[str, Any]) -> Path:
    """Write a model file (compact, sorted, one line per weight-free field)."""
    path = MODEL_DIR / f"{model['locale']}.json"
    MODEL_DIR.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
                    + "\n", encoding="utf-8")
    return path
