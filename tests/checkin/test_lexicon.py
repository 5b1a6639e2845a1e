"""skill.checkin.lexicon: the lexicons load, generalise (no dev sentence copied), fail loudly."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from skill.checkin.lexicon import (
    LEXICON_DIR,
    LexiconError,
    _compile,
    lemmatize,
    load_lexicon,
    resolve_locale,
)
from skill.errors import UnsupportedLocaleError

ROOT = Path(__file__).resolve().parents[2]
DEV_FILES = sorted((ROOT / "data" / "checkin").glob("dev_*.jsonl"))


def _squash(text: str) -> str:
    return re.sub(r"[\s、。,.!?！？]+", "", text.lower())


def dev_sentences() -> list[str]:
    return [json.loads(line)["text"] for path in DEV_FILES
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_dev_data_is_in_the_repo() -> None:
    """If the repo is cloned fresh, then the development set and its README are there."""
    names = {p.name for p in DEV_FILES}
    assert {"dev_en.jsonl", "dev_ja.jsonl", "dev_crisis_en.jsonl", "dev_crisis_ja.jsonl"} <= names
    assert (ROOT / "data" / "checkin" / "README.md").is_file()


@pytest.mark.parametrize("path", sorted(LEXICON_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_no_dev_sentence_in_lexicons(path: Path) -> None:
    """If a lexicon is scored on held-out data, then no dev sentence is copied into it."""
    lexicon = _squash(path.read_text(encoding="utf-8"))
    copied = [s for s in dev_sentences() if _squash(s) in lexicon]
    assert not copied, f"{len(copied)} dev sentence(s) copied into {path.name}"


def test_no_dev_sentence_in_tests() -> None:
    """If the tests are specs, then they use their own sentences, never the dev set's."""
    here = Path(__file__).resolve().parent
    text = _squash("".join(p.read_text(encoding="utf-8") for p in here.glob("*.py")))
    copied = [s for s in dev_sentences() if _squash(s) in text]
    assert not copied, f"{len(copied)} dev sentence(s) used in tests"


@pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
def test_lexicon_loads_with_crisis_rules(locale: str) -> None:
    """If a lexicon loads, then it has terms, stage markers and both kinds of crisis rules."""
    lexicon = load_lexicon(locale)
    assert lexicon.locale == locale and len(lexicon.terms) > 300
    assert {"feelings", "meaning", "next_step"} <= set(lexicon.stages)
    assert {kind for kind, _ in lexicon.crisis_rules} == {"explicit", "indirect"}


def test_inflections_meet_their_base_form() -> None:
    """If a word is inflected, then it meets the lexicon's base form."""
    lexicon = load_lexicon("en-US")
    assert lemmatize("yelled", lexicon.vocab, lexicon.irregular) == "yell"
    assert lemmatize("cancelled", lexicon.vocab, lexicon.irregular) == "cancel"
    assert lemmatize("worrying", lexicon.vocab, lexicon.irregular) == "worry"


def test_resolution() -> None:
    """If a locale is another region of a supported language, then it resolves by language."""
    assert resolve_locale("en-AU") == "en-US"
    assert resolve_locale("ja") == "ja-JP"
    with pytest.raises(UnsupportedLocaleError, match="supported: en-US, ja-JP"):
        resolve_locale("de-DE")


def test_unknown_crisis_group_fails_loudly() -> None:
    """If a crisis rule names an unknown group, then loading fails with the group's name."""
    data = {"locale": "en-US", "polarity": {"1": ["good"]},
            "crisis": {"rules": {"explicit": ["@nowhere myself"]}}}
    with pytest.raises(LexiconError, match="unknown crisis group @nowhere"):
        _compile("en-US", data)


def test_non_string_entry_fails_loudly() -> None:
    """If a list holds a non-string (YAML turns a bare no into False), then loading fails."""
    data = {"locale": "en-US", "negators": [False], "crisis": {"rules": {"x": ["a"]}}}
    with pytest.raises(LexiconError, match="expected a list of strings"):
        _compile("en-US", data)


def test_lexicon_without_crisis_rules_is_rejected() -> None:
    """If a lexicon has no crisis rules, then it is rejected."""
    with pytest.raises(LexiconError, match="needs crisis rules"):
        _compile("en-US", {"locale": "en-US", "polarity": {"1": ["good"]}})


def test_rule_words_are_matched_in_lemma_form() -> None:
    """If a rule is written with inflected words ("thought about my friends"), then it still
    matches, because rule words are lemmatized like the answer's words."""
    from skill.checkin.engine import _crisis

    data = {"locale": "en-US", "polarity": {"1": ["good"]}, "irregular": {"thought": "think"},
            "crisis": {"groups": {"who": ["my friends", "my friend"]},
                       "rules": {"explicit": ["i thought about @who"]}}}
    lexicon = _compile("en-US", data)
    assert _crisis("I thought about my friends", lexicon)
    assert _crisis("i think about my friend", lexicon)


@pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
def test_every_crisis_rule_compiles_and_is_not_trivial(locale: str) -> None:
    """If a crisis rule or guard is loaded, then it does not match an empty or everyday answer."""
    lexicon = load_lexicon(locale)
    blank = " eos " if locale == "en-US" else "今日は普通の日だった"
    for kind, rule in lexicon.crisis_rules:
        assert not rule.search(blank), (kind, rule.pattern[:80])
    for guard in lexicon.crisis_guards:
        assert not guard.search(blank), guard.pattern[:80]
