"""skill.checkin.followup: one prompt, one stage deeper, never a recent key; crisis first."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from skill.checkin import FollowUp, Reading
from skill.checkin.followup import (
    CLOSE_GOOD_KEY,
    CLOSE_KEY,
    CLOSE_STEP_KEY,
    CRISIS_AGAIN_KEY,
    CRISIS_CARD_KEY,
    CRISIS_KEYS,
    CRISIS_MORE_KEYS,
    CRISIS_MORE_OFFER_KEY,
    OPEN_KEY,
    REASK_KEYS,
    TERM_IDS,
    all_keys,
    crisis_more_contacts,
    crisis_repeat,
    follow_up,
    opening,
)
from skill.speech.catalog import placeholders

LOCALES_DIR = Path(__file__).resolve().parents[2] / "skill" / "locales"
MESSAGES = {
    locale: yaml.safe_load((LOCALES_DIR / locale / "checkin.yaml").read_text(encoding="utf-8"))
    for locale in ("en-US", "ja-JP")
}


def reading(**fields: object) -> Reading:
    values: dict[str, object] = {"locale": "en-US", "polarity": "negative"}
    values.update(fields)
    return Reading(**values)  # type: ignore[arg-type]


class TestStages:
    @pytest.mark.parametrize(("stage", "prefix"), [
        ("facts", "checkin.ask.feelings"),
        ("feelings", "checkin.ask.meaning"),
        ("meaning", "checkin.ask.next_step"),
    ])
    def test_one_stage_deeper(self, stage: str, prefix: str) -> None:
        """If an answer reached a stage, then the follow-up asks about the next one."""
        assert follow_up(reading(stage=stage)).key.startswith(prefix)

    def test_next_step_reached_closes_gently(self) -> None:
        """If the person already named a next step, then the check-in closes with an offer."""
        result = follow_up(reading(stage="next_step"))
        assert result.key == CLOSE_STEP_KEY and result.closing

    def test_emotion_specific_prompt(self) -> None:
        """If a feeling was named, then the meaning prompt fits that feeling."""
        assert follow_up(reading(stage="feelings", emotions=("lonely",))).key == \
            "checkin.ask.meaning.lonely"

    def test_topic_prompt_reflects_a_lexicon_term(self) -> None:
        """If a reflect term was found, then the prompt fills {term} from checkin.term.<id>."""
        result = follow_up(reading(stage="facts", reflect_term="boss"))
        assert result.key == "checkin.ask.feelings.term"
        assert result.params == (("term", "checkin.term.boss"),)
        assert result.kwargs(lambda key: f"<{key}>") == {"term": "<checkin.term.boss>"}

    def test_good_day_is_savoured(self) -> None:
        """If the day was good, then the follow-up savours it instead of probing problems."""
        assert follow_up(reading(polarity="positive")).key.startswith("checkin.savour.feelings")
        assert follow_up(reading(polarity="positive", stage="feelings",
                                 emotions=("proud",))).key == "checkin.savour.meaning.proud"

    def test_mixed_day_asks_which_part(self) -> None:
        """If the day was mixed, then the follow-up asks which part stays with them."""
        assert follow_up(reading(polarity="mixed")).key == "checkin.ask.feelings.mixed"


class TestHistory:
    def test_never_a_recent_key(self) -> None:
        """If a prompt key is in the recent history, then another key is chosen."""
        first = follow_up(reading(reflect_term="boss"))
        second = follow_up(reading(reflect_term="boss"), history=[first.key])
        assert second.key != first.key

    def test_every_key_of_a_stage_used_falls_through(self) -> None:
        """If every prompt of the next stage was used, then a deeper prompt or the close follows."""
        history = ["checkin.ask.feelings.hard", "checkin.ask.feelings"]
        result = follow_up(reading(), history=history, max_turns=10)
        assert result.key not in history

    def test_close_after_three_answers(self) -> None:
        """If the person has answered three times, then the check-in closes gently."""
        history = [OPEN_KEY, "checkin.ask.feelings", "checkin.ask.meaning"]
        result = follow_up(reading(stage="feelings"), history=history)
        assert result.key == CLOSE_KEY and result.closing

    def test_good_day_close(self) -> None:
        """If a good day reaches the close, then the close celebrates it."""
        history = ["checkin.savour.feelings", "checkin.savour.meaning"]
        assert follow_up(reading(polarity="positive"), history=history).key == CLOSE_GOOD_KEY


class TestUnclear:
    def test_gentle_reask(self) -> None:
        """If the answer was unclear, then the skill gently asks again."""
        assert follow_up(reading(unclear=True, polarity="neutral")).key == REASK_KEYS[0]

    def test_second_reask_is_softer_then_close(self) -> None:
        """If the re-ask was already used, then a softer one follows, then a close."""
        unclear = reading(unclear=True, polarity="neutral")
        assert follow_up(unclear, history=[REASK_KEYS[0]], max_turns=9).key == REASK_KEYS[1]
        assert follow_up(unclear, history=list(REASK_KEYS), max_turns=9).closing


class TestCrisis:
    def test_crisis_reply_in_sequence(self) -> None:
        """If the reading is a crisis, then care, contacts and the offer to stay are spoken."""
        result = follow_up(reading(crisis=True, stage="facts"))
        assert result.keys == CRISIS_KEYS
        assert result.crisis and not result.closing

    def test_crisis_overrides_turns_and_history(self) -> None:
        """If a crisis comes at the end of a check-in, then the crisis reply still comes first."""
        history = [OPEN_KEY, "checkin.ask.feelings", "checkin.ask.meaning", "checkin.ask.x"]
        assert follow_up(reading(crisis=True), history=history).crisis

    def test_a_loss_is_met_with_sorrow_first(self) -> None:
        """If the answer tells of a death or a loss, then the first follow-up offers sorrow,
        whatever stage the answer reached, and the next one goes deeper gently."""
        grief = reading(polarity="negative", emotions=("grief",), stage="feelings")
        first = follow_up(grief, history=[OPEN_KEY])
        assert first.key == "checkin.ask.feelings.grief"
        second = follow_up(grief, history=[OPEN_KEY, first.key])
        assert second.key == "checkin.ask.meaning.grief"
        # A later answer that names no loss ("i feel empty", then a fond memory) stays with it,
        # and the check-in never closes as a good day.
        empty = follow_up(reading(polarity="negative", stage="feelings"), history=[OPEN_KEY, first.key])
        assert empty.key == "checkin.ask.meaning.grief"
        fond = reading(polarity="positive", emotions=("happy",))
        close = follow_up(fond, history=[OPEN_KEY, first.key, second.key, "checkin.ask.x"])
        assert close.closing and close.key != CLOSE_GOOD_KEY

    def test_crisis_again(self) -> None:
        """If the crisis reply was already given, then a shorter reply with the number follows."""
        result = follow_up(reading(crisis=True), history=list(CRISIS_KEYS))
        assert result.key == CRISIS_AGAIN_KEY and result.crisis

    def test_more_contacts_two_at_a_time_then_the_main_number(self) -> None:
        """If the person asks for more contacts, then at most two come per answer, with an
        offer of more; then the rest with the closing line; once all were said, the main
        contact again (content brief: at most two contacts per reply)."""
        first = crisis_more_contacts(list(CRISIS_KEYS))
        assert first.keys == (*CRISIS_MORE_KEYS[:2], CRISIS_MORE_OFFER_KEY) and first.crisis
        second = crisis_more_contacts([*CRISIS_KEYS, *first.keys])
        assert second.keys == CRISIS_MORE_KEYS[2:]
        third = crisis_more_contacts([*CRISIS_KEYS, *first.keys, *second.keys])
        assert third == crisis_repeat() and third.crisis
        assert opening() == FollowUp(key=OPEN_KEY)


class TestLocaleFiles:
    @pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
    def test_every_key_exists(self, locale: str) -> None:
        """If follow_up can return a key, then both locale files define it."""
        assert MESSAGES[locale]["locale"] == locale
        missing = all_keys() - set(MESSAGES[locale]["messages"])
        assert not missing, sorted(missing)

    def test_same_keys_and_placeholders(self) -> None:
        """If a key exists in one locale, then it exists in the other with the same placeholders."""
        en, ja = MESSAGES["en-US"]["messages"], MESSAGES["ja-JP"]["messages"]
        assert set(en) == set(ja)
        for key in en:
            en_ph = {frozenset(placeholders(v)) for v in en[key]}
            ja_ph = {frozenset(placeholders(v)) for v in ja[key]}
            assert en_ph == ja_ph and len(en_ph) == 1, key

    @pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
    def test_one_breath_and_several_phrasings(self, locale: str) -> None:
        """If a phrasing is spoken, then it fits one breath and each key has two or more."""
        for key, variants in MESSAGES[locale]["messages"].items():
            assert len(variants) >= 2, key
            if key == CRISIS_CARD_KEY:
                continue
            for text in variants:
                if locale == "ja-JP":
                    assert len(re.sub(r"[\s、。！？「」]", "", text)) <= 60, text
                else:
                    assert len(text.split()) <= 25, text

    def test_term_keys_cover_every_reflect_id(self) -> None:
        """If a lexicon can reflect a term, then both locale files can speak it."""
        from skill.checkin.lexicon import load_lexicon

        for locale in ("en-US", "ja-JP"):
            ids = {t.reflect for t in load_lexicon(locale).terms.values() if t.reflect}
            assert ids <= set(TERM_IDS), ids - set(TERM_IDS)

    @pytest.mark.parametrize(("locale", "numbers"), [
        ("en-US", ["nine eight eight", "nine one one"]),
        ("ja-JP", ["ゼロイチニーゼロ、ニーナナキュウ、サンサンハチ", "イチイチキュウ", "イチイチゼロ"]),
    ])
    def test_crisis_reply_speaks_the_contacts_digit_by_digit(self, locale: str,
                                                             numbers: list[str]) -> None:
        """If the crisis reply is spoken, then it names the line and emergency number as digits."""
        messages = MESSAGES[locale]["messages"]
        spoken = [v for key in CRISIS_KEYS for v in messages[key]]
        for number in numbers:
            assert any(number in v for v in spoken), number
        assert not any(re.search(r"\d", v) for key in CRISIS_KEYS for v in messages[key])

    def test_crisis_reply_has_at_most_two_contacts(self) -> None:
        """If the first crisis reply is spoken, then it gives only the main line and emergency."""
        en = " ".join(v for key in CRISIS_KEYS for v in MESSAGES["en-US"]["messages"][key])
        assert "seven four one" not in en
        ja = " ".join(v for key in CRISIS_KEYS for v in MESSAGES["ja-JP"]["messages"][key])
        assert "いのちの電話" not in ja and "統一ダイヤル" not in ja

    def test_crisis_reply_never_mentions_methods(self) -> None:
        """If the crisis reply is spoken, then it never names methods or says 'commit'."""
        banned = ("pill", "method", "commit", "薬", "方法")
        for locale in MESSAGES:
            for key, variants in MESSAGES[locale]["messages"].items():
                if key.startswith("checkin.crisis"):
                    assert not any(b in v for v in variants for b in banned), key
