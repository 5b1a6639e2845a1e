"""Resolve a typed line to an intent and slots from the interaction model's own samples.

A stand-in for Alexa's recognizer, good enough to exercise every flow: each sample becomes an
anchored pattern (slots are wildcards checked by their type), the most specific match wins
(most literal characters; on a tie, custom samples before built-in phrases), and anything else is
``AMAZON.FallbackIntent``, as Alexa would send it. Japanese is matched without spaces.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from skill.config import REPO_ROOT
from skill.simulator.durations import parse_duration

MODELS_DIR = REPO_ROOT / "interaction_models"
_BUILTINS = Path(__file__).with_name("builtin_phrases.yaml")
_PUNCT = re.compile(r"[、。，．,.!?！？「」『』…・〜~\"]")
_SLOT = re.compile(r"\{(\w+)\}")


def normalize(text: str, locale: str) -> str:
    """What a speech recognizer would hand over: NFKC, lower case, no punctuation."""
    text = _PUNCT.sub(" ", unicodedata.normalize("NFKC", text).lower())
    text = " ".join(text.split())
    return text.replace(" ", "") if locale.startswith("ja") else text


@dataclass(frozen=True)
class SlotValue:
    """One filled slot: the spoken value and, for custom types, the resolved id."""

    value: str
    resolved_id: str | None = None
    resolved_name: str | None = None


@dataclass(frozen=True)
class Resolution:
    """The intent a line resolved to."""

    intent: str
    slots: Mapping[str, SlotValue] = field(default_factory=dict)


@dataclass(frozen=True)
class _Pattern:
    intent: str
    regex: re.Pattern[str]
    slot_types: Mapping[str, str]
    literal_chars: int
    builtin: bool


class Resolver:
    """Sample-based intent resolution for one locale."""

    def __init__(self, locale: str, model: Mapping[str, Any], builtin_phrases: Mapping[str, list[str]]):
        self.locale = locale
        language_model = model["interactionModel"]["languageModel"]
        self.types: dict[str, list[tuple[str, str, list[str]]]] = {
            t["name"]: [
                (v.get("id") or v["name"]["value"], v["name"]["value"], v["name"].get("synonyms", []))
                for v in t["values"]
            ]
            for t in language_model.get("types", [])
        }
        self.patterns: list[_Pattern] = []
        for intent in language_model["intents"]:
            slot_types = {s["name"]: s["type"] for s in intent.get("slots", [])}
            for sample in intent.get("samples", []):
                self.patterns.append(self._compile(intent["name"], sample, slot_types, builtin=False))
        for name, phrases in builtin_phrases.items():
            for phrase in phrases:
                self.patterns.append(self._compile(name, phrase, {}, builtin=True))

    def _compile(self, intent: str, sample: str, slot_types: Mapping[str, str], builtin: bool) -> _Pattern:
        pieces: list[str] = []
        literal = 0
        position = 0
        for match in _SLOT.finditer(sample):
            text = normalize(sample[position:match.start()], self.locale)
            literal += len(text.replace(" ", ""))
            pieces.append(self._literal(sample[position:match.start()]))
            pieces.append(f"(?P<{match.group(1)}>.+?)")
            position = match.end()
        tail = sample[position:]
        literal += len(normalize(tail, self.locale).replace(" ", ""))
        pieces.append(self._literal(tail))
        regex = re.compile("^" + "".join(pieces) + "$")
        return _Pattern(intent, regex, slot_types, literal, builtin)

    def _literal(self, text: str) -> str:
        """A literal run of a sample, matched with flexible spaces around slots."""
        norm = normalize(text, self.locale)
        if self.locale.startswith("ja"):
            return re.escape(norm)
        lead = " ?" if text[:1].isspace() else ""
        trail = " ?" if text[-1:].isspace() else ""
        return lead + re.escape(norm) + trail

    def _slot(self, slot_type: str, spoken: str) -> SlotValue | None:
        spoken = spoken.strip()
        if not spoken:
            return None
        if slot_type == "AMAZON.DURATION":
            iso = parse_duration(spoken, self.locale)
            return SlotValue(iso) if iso else None
        if slot_type in self.types:
            wanted = normalize(spoken, self.locale)
            for value_id, name, synonyms in self.types[slot_type]:
                if wanted in (normalize(s, self.locale) for s in [name, *synonyms]):
                    return SlotValue(spoken, value_id, name)
            return SlotValue(spoken)  # ER_SUCCESS_NO_MATCH, as Alexa would send it
        return SlotValue(spoken)

    def resolve(self, line: str, prefer: str | None = None) -> Resolution:
        """The best intent for ``line``; ``prefer`` breaks ties toward an expected intent."""
        text = normalize(line, self.locale)
        best: tuple[tuple[int, int, int], Resolution] | None = None
        for pattern in self.patterns:
            match = pattern.regex.match(text)
            if not match:
                continue
            slots: dict[str, SlotValue] = {}
            for name, spoken in match.groupdict().items():
                value = self._slot(pattern.slot_types.get(name, ""), spoken)
                if value is None:
                    break
                slots[name] = value
            else:
                rank = (pattern.literal_chars, 0 if pattern.builtin else 1,
                        1 if pattern.intent == prefer else 0)
                if best is None or rank > best[0]:
                    best = (rank, Resolution(pattern.intent, slots))
        return best[1] if best else Resolution("AMAZON.FallbackIntent")


@cache
def load_model(locale: str) -> dict[str, Any]:
    """The deployable interaction model of ``locale``."""
    with open(MODELS_DIR / f"{locale}.json", encoding="utf-8") as handle:
        model: dict[str, Any] = json.load(handle)
    return model


@cache
def resolver_for(locale: str) -> Resolver:
    """A cached :class:`Resolver` for ``locale``."""
    phrases = yaml.safe_load(_BUILTINS.read_text(encoding="utf-8"))
    return Resolver(locale, load_model(locale), phrases.get(locale, {}))
