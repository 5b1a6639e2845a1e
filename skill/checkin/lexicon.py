"""Load and compile the check-in lexicons (``skill/checkin/lexicons/<locale>.yaml``) on first use.

A lexicon is data: words and phrases with a polarity, emotion, topic or role (negator, contrast,
intensifier, ...), the disclosure-stage markers, and the crisis concept groups, guards and rules.
Nothing here runs at import time; :func:`load_lexicon` reads and compiles one locale once per process.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from skill.errors import ReflectionError, UnsupportedLocaleError

LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"
#: Locales with a lexicon; other tags resolve by language (``en-GB`` -> ``en-US``).
LOCALES: tuple[str, ...] = ("en-US", "ja-JP")

#: Role names a term can carry besides polarity, emotion and topic.
ROLE_KEYS: tuple[str, ...] = (
    "contrast", "negators", "negation_breakers", "intensifiers", "downtoners", "sarcasm_cues",
    "sarcasm_capable", "sarcasm_complaints", "fatigue", "hyperbole", "neutral_summary",
    "comparatives", "modals", "fillers", "laugh_markers", "concessive",
)

_WORD_RE = re.compile(r"[a-z]+")
_GAP_EN = re.compile(r" ?~(\d+) ?")
_GAP_JA = re.compile(r"~(\d+)")
_GROUP_RE = re.compile(r"@([a-z_]+)")
#: A literal English word of a rule (not a group name, not a regex escape such as \\S).
_LITERAL_WORD = re.compile(r"(?<![\\@a-z_])[a-z]+")


class LexiconError(ReflectionError):
    """Raised when a lexicon file is missing, malformed, or refers to an unknown crisis group."""


@dataclass(frozen=True)
class Term:
    """One lexicon entry after merging every list it appears in."""

    #: Polarity contributed by the term (None: no polarity of its own).
    value: float | None = None
    emotions: tuple[str, ...] = ()
    topics: tuple[str, ...] = ()
    #: Reflectable term id (spoken via ``checkin.term.<id>``).
    reflect: str | None = None
    #: Roles from :data:`ROLE_KEYS` (``"negators"``, ``"contrast"``, ...).
    roles: frozenset[str] = frozenset()
    #: Polarity when the term is negated ("did not sleep"), if that says more than a flip.
    negated_value: float | None = None
    negated_emotion: str | None = None

    def has(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class Lexicon:
    """A compiled lexicon: term table, matching helpers, stage patterns and crisis rules."""

    locale: str
    #: "en": space-separated lemmas; "ja": surface strings scanned longest-first.
    script: str
    terms: Mapping[str, Term]
    #: en: longest phrase in words. ja: unused (see ``lengths``).
    max_words: int
    #: ja: first character -> candidate entry lengths, longest first.
    lengths: Mapping[str, tuple[int, ...]]
    #: en: vocabulary of the sentiment lexicon (for the lemmatizer).
    vocab: frozenset[str]
    #: en: vocabulary of the stage and crisis patterns (for the pattern lemmatizer).
    pattern_vocab: frozenset[str]
    irregular: Mapping[str, str]
    contractions: Mapping[str, str]
    emoji: Mapping[str, tuple[float, str]]
    stages: Mapping[str, tuple[re.Pattern[str], ...]]
    crisis_guards: tuple[re.Pattern[str], ...]
    crisis_rules: tuple[tuple[str, re.Pattern[str]], ...]
    negation_suffix: re.Pattern[str] | None
    negation_after: tuple[re.Pattern[str], ...]
    intensifier_suffix: re.Pattern[str] | None
    contrast_after: Mapping[str, str]
    #: ja: a plain-day entry right after this ("いいことは|何もなかった") is a negation, not a plain day.
    neutral_blocked_before: re.Pattern[str] | None = None


_NO_INHERIT = frozenset(ROLE_KEYS) - {"sarcasm_capable", "fatigue", "sarcasm_complaints"}


def _inherit(terms: dict[str, Term], script: str) -> None:
    """Give a longer entry without polarity the feeling of the entry inside it.

    Longest match would otherwise let a topic phrase ("rejection email") or a role-only entry hide
    the polar word it contains. English: the strongest word of the phrase; Japanese: the longest
    prefix that is itself an entry.
    """
    from dataclasses import replace

    for k, term in list(terms.items()):
        if term.roles & _NO_INHERIT:
            continue
        if script == "en":
            inner = [terms[w] for w in k.split() if w != k and w in terms]
        else:
            inner = [terms[k[:j]] for j in range(len(k) - 1, 0, -1) if k[:j] in terms][:1]
        valued = [t for t in inner if t.value]
        if term.value is None and valued:
            best = max(valued, key=lambda t: abs(t.value or 0.0))
            term = replace(term, value=best.value, emotions=term.emotions or best.emotions)
        if not term.topics:
            topics = tuple(dict.fromkeys(topic for t in inner for topic in t.topics))
            term = replace(term, topics=topics)
        terms[k] = term


def resolve_locale(locale: str | None) -> str:
    """The lexicon locale for ``locale``: exact, then by language.

    :raises UnsupportedLocaleError: if no lexicon matches exactly or by language.
    """
    if locale in LOCALES:
        return locale
    language = (locale or "").replace("_", "-").split("-")[0].lower()
    for name in LOCALES:
        if language and name.split("-")[0].lower() == language:
            return name
    raise UnsupportedLocaleError(
        f"check-in has no lexicon for locale {locale!r}; supported: {', '.join(LOCALES)}"
    )


# --------------------------------------------------------------------------- English helpers


def candidates(word: str) -> Iterable[str]:
    """Base forms a word may come from (suffix stripping; tried in order)."""
    if len(word) < 4:
        return
    if word.endswith(("ies", "ied")):
        yield word[:-3] + "y"
    if word.endswith("ing"):
        base = word[:-3]
        yield base
        yield base + "e"
        if len(base) > 2 and base[-1] == base[-2]:
            yield base[:-1]
    if word.endswith("ed"):
        base = word[:-2]
        yield base
        yield word[:-1]
        if len(base) > 2 and base[-1] == base[-2]:
            yield base[:-1]
    if word.endswith("es"):
        yield word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        yield word[:-1]
    if word.endswith("ily"):
        yield word[:-3] + "y"
    if word.endswith("ly"):
        yield word[:-2]


def lemmatize(word: str, vocab: frozenset[str], irregular: Mapping[str, str]) -> str:
    """The lemma of an English word: irregular form, known word, or a known stripped form."""
    mapped = irregular.get(word)
    if mapped is not None:
        return mapped
    if word in vocab:
        return word
    for base in candidates(word):
        if len(base) >= 2 and base in vocab:
            return base
    return word


def normalize_en(text: str, contractions: Mapping[str, str]) -> str:
    """Lower-case NFKC text with straight apostrophes and contractions spelled out."""
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'").replace("‘", "'")
    text = re.sub(r"\b(can|won|shan|ain)'t\b", lambda m: _NT[m.group(1)], text)
    text = re.sub(r"n't\b", " not", text)
    text = re.sub(r"'m\b", " am", text)
    text = re.sub(r"'re\b", " are", text)
    text = re.sub(r"'ve\b", " have", text)
    text = re.sub(r"'ll\b", " will", text)
    text = re.sub(r"'d\b", " would", text)
    text = re.sub(r"\b(it|he|she|that|there|what|who|where|here|everything|nothing|this)'s\b",
                  r"\1 is", text)
    text = re.sub(r"'s\b", "", text)
    if contractions:
        text = _contraction_re(tuple(contractions)).sub(lambda m: contractions[m.group(0)], text)
    return text


_NT = {"can": "can not", "won": "will not", "shan": "shall not", "ain": "is not"}


@cache
def _contraction_re(words: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternatives})\b")


def normalize_ja(text: str) -> str:
    """NFKC text, lower-case Latin, whitespace runs turned into a clause comma."""
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"\s+", "、", text.strip())


# --------------------------------------------------------------------------- loading


def _as_list(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LexiconError(f"{where}: expected a list of strings, got {value!r}")
    return value


def _entries(data: Mapping[str, Any]) -> Iterable[str]:
    """Every raw entry string of the sentiment part of a lexicon."""
    for role in ROLE_KEYS:
        yield from _as_list(data.get(role), role)
    for section in ("emotions", "topics", "reflect", "polarity"):
        for name, items in (data.get(section) or {}).items():
            yield from _as_list(items, f"{section}.{name}")
    for group in data.get("when_negated") or []:
        yield from _as_list(group.get("entries"), "when_negated")


def _compile_rule(rule: str, groups: Mapping[str, list[str]], script: str, where: str,
                  lemma: Callable[[str], str] | None = None) -> str:
    """The regular expression of one stage pattern, crisis guard or rule.

    English words are written as they are spoken ("thought about", "my friends"); ``lemma`` maps
    each literal word onto the form the answer is matched in ("think about", "my friend"), so no
    alternative is dead because the answer's words were lemmatized and the rule's were not.
    """
    def lemmas(text: str) -> str:
        return text if lemma is None else _LITERAL_WORD.sub(lambda m: lemma(m.group(0)), text)

    def expand(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in groups:
            raise LexiconError(f"{where}: unknown crisis group @{name}")
        items = sorted(dict.fromkeys(lemmas(item) for item in groups[name]), key=len, reverse=True)
        return "(?:" + "|".join(re.escape(item) for item in items) + ")"

    if script == "en":
        body = _GAP_EN.sub(lambda m: r" (?:\S+ ){0," + m.group(1) + "}", lemmas(rule))
        body = _GROUP_RE.sub(expand, body)
        # Anchored at word edges: the answer is " lemma lemma ... eos " with single spaces.
        return rf"(?<= )(?:{body.strip()})(?:(?<= )|(?= ))"
    body = _GAP_JA.sub(lambda m: "[^。]{0," + m.group(1) + "}", rule)
    return _GROUP_RE.sub(expand, body)


@cache
def load_lexicon(locale: str) -> Lexicon:
    """Read and compile the lexicon of ``locale`` (resolved by language), once per process.

    :raises UnsupportedLocaleError: if no lexicon matches the locale.
    :raises LexiconError: if the file is malformed.
    """
    resolved = resolve_locale(locale)
    path = LEXICON_DIR / f"{resolved}.yaml"
    import yaml  # deferred: only the first analysis pays for it

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
    except (OSError, yaml.YAMLError) as exc:
        raise LexiconError(f"cannot read lexicon {path.name}: {exc}") from exc
    if not isinstance(data, dict) or data.get("locale") != resolved:
        raise LexiconError(f"{path.name}: must declare locale: {resolved}")
    return _compile(resolved, data)


def _compile(locale: str, data: Mapping[str, Any]) -> Lexicon:
    script = "ja" if locale.startswith("ja") else "en"
    irregular: dict[str, str] = {str(k): str(v) for k, v in (data.get("irregular") or {}).items()}
    contractions = {str(k): str(v) for k, v in (data.get("contractions") or {}).items()}
    crisis = data.get("crisis") or {}
    groups = {str(k): _as_list(v, f"crisis.groups.{k}") for k, v in (crisis.get("groups") or {}).items()}

    vocab: frozenset[str] = frozenset()
    pattern_vocab: frozenset[str] = frozenset()
    if script == "en":
        words = {w for entry in _entries(data) for w in _WORD_RE.findall(entry)}
        # Only base forms: "yelled" is dropped when "yell" is listed, so both spellings meet.
        base = {w for w in words if not any(len(c) >= 3 and c in words for c in candidates(w))}
        vocab = frozenset(base | set(irregular.values()))
        pattern_words: set[str] = set(irregular.values())
        for items in groups.values():
            pattern_words.update(w for item in items for w in _WORD_RE.findall(item))
        for section in ("guards",):
            pattern_words.update(w for r in _as_list(crisis.get(section), section)
                                 for w in _WORD_RE.findall(r))
        for rules in (crisis.get("rules") or {}).values():
            pattern_words.update(w for r in _as_list(rules, "rules") for w in _WORD_RE.findall(r))
        for patterns in (data.get("stages") or {}).values():
            pattern_words.update(w for r in _as_list(patterns, "stages")
                                 for w in _WORD_RE.findall(r))
        pattern_vocab = frozenset(
            w for w in pattern_words
            if not any(len(c) >= 3 and c in pattern_words for c in candidates(w))
        )

    def key(entry: str) -> str:
        if script == "ja":
            return unicodedata.normalize("NFKC", entry).lower()
        text = normalize_en(entry, contractions) if "'" in entry else entry.lower()
        return " ".join(lemmatize(w, vocab, irregular) for w in re.findall(r"[a-z0-9]+", text))

    build: dict[str, dict[str, Any]] = {}

    def slot(entry: str) -> dict[str, Any]:
        k = key(entry)
        if not k:
            raise LexiconError(f"{locale}: empty entry {entry!r}")
        return build.setdefault(k, {"value": None, "explicit": False, "emotions": [],
                                    "topics": [], "reflect": None, "roles": set(),
                                    "neg": None, "neg_emotion": None})

    for role in ROLE_KEYS:
        for entry in _as_list(data.get(role), role):
            slot(entry)["roles"].add(role)
    emotion_polarity = {str(k): float(v) for k, v in (data.get("emotion_polarity") or {}).items()}
    for emotion, items in (data.get("emotions") or {}).items():
        for entry in _as_list(items, f"emotions.{emotion}"):
            s = slot(entry)
            if emotion not in s["emotions"]:
                s["emotions"].append(str(emotion))
    for topic, items in (data.get("topics") or {}).items():
        for entry in _as_list(items, f"topics.{topic}"):
            s = slot(entry)
            if topic not in s["topics"]:
                s["topics"].append(str(topic))
    for term_id, items in (data.get("reflect") or {}).items():
        for entry in _as_list(items, f"reflect.{term_id}"):
            slot(entry)["reflect"] = str(term_id)
    for tier, items in (data.get("polarity") or {}).items():
        tier_value = float(tier)
        for entry in _as_list(items, f"polarity.{tier}"):
            s = slot(entry)
            # An entry listed in several tiers keeps the strongest.
            if not s["explicit"] or abs(tier_value) > abs(s["value"]):
                s["value"], s["explicit"] = tier_value, True
    for group in data.get("when_negated") or []:
        for entry in _as_list(group.get("entries"), "when_negated"):
            s = slot(entry)
            s["neg"] = float(group["value"])
            s["neg_emotion"] = group.get("emotion")

    terms: dict[str, Term] = {}
    for k, s in build.items():
        value: float | None = s["value"]
        if value is None and s["emotions"]:
            defaults = [emotion_polarity[e] for e in s["emotions"] if e in emotion_polarity]
            value = max(defaults, key=abs) if defaults else None
        terms[k] = Term(value=value, emotions=tuple(s["emotions"]), topics=tuple(s["topics"]),
                        reflect=s["reflect"], roles=frozenset(s["roles"]),
                        negated_value=s["neg"], negated_emotion=s["neg_emotion"])

    _inherit(terms, script)

    lengths: dict[str, tuple[int, ...]] = {}
    max_words = 1
    if script == "ja":
        by_first: dict[str, set[int]] = {}
        for k in terms:
            by_first.setdefault(k[0], set()).add(len(k))
        lengths = {c: tuple(sorted(v, reverse=True)) for c, v in by_first.items()}
    else:
        max_words = max(len(k.split()) for k in terms)

    emoji: dict[str, tuple[float, str]] = {}
    for char, spec in (data.get("emoji") or {}).items():
        if not isinstance(spec, list) or len(spec) != 2:
            raise LexiconError(f"emoji {char!r}: expected [value, emotion]")
        emoji[unicodedata.normalize("NFKC", str(char))] = (float(spec[0]), str(spec[1]))

    def pattern_lemma(word: str) -> str:
        return lemmatize(word, pattern_vocab, irregular)

    rule_lemma = pattern_lemma if script == "en" else None
    stages = {
        name: tuple(re.compile(_compile_rule(p, groups, script, f"stages.{name}", rule_lemma))
                    for p in _as_list(patterns, f"stages.{name}"))
        for name, patterns in (data.get("stages") or {}).items()
    }
    guards = tuple(re.compile(_compile_rule(g, groups, script, "crisis.guards", rule_lemma))
                   for g in _as_list(crisis.get("guards"), "crisis.guards"))
    rules = tuple(
        (str(kind), re.compile(_compile_rule(r, groups, script, f"crisis.rules.{kind}",
                                                        rule_lemma)))
        for kind, items in (crisis.get("rules") or {}).items()
        for r in _as_list(items, f"crisis.rules.{kind}")
    )
    if not rules:
        raise LexiconError(f"{locale}: a lexicon needs crisis rules")

    def optional(name: str) -> re.Pattern[str] | None:
        pattern = data.get(name)
        return re.compile(str(pattern)) if pattern else None

    return Lexicon(
        locale=locale, script=script, terms=terms, max_words=max_words, lengths=lengths,
        vocab=vocab, pattern_vocab=pattern_vocab, irregular=irregular, contractions=contractions,
        emoji=emoji, stages=stages, crisis_guards=guards, crisis_rules=rules,
        negation_suffix=optional("negation_suffix"),
        negation_after=tuple(re.compile(p) for p in _as_list(data.get("negation_after"), "x")),
        intensifier_suffix=optional("intensifier_suffix"),
        contrast_after={str(k): str(v) for k, v in (data.get("contrast_after") or {}).items()},
        neutral_blocked_before=optional("neutral_blocked_before"),
    )
