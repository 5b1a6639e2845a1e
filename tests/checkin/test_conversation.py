"""A check-in as the handler drives it: analyze each answer, follow up, close or hold on crisis.

Engine-level conversations for both locales; the handler-level ones live with the handlers.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from skill.checkin import analyze
from skill.checkin.followup import CRISIS_KEYS, OPEN_KEY, follow_up, opening
from skill.speech.catalog import load_catalog


def converse(locale: str, answers: Sequence[str]) -> list[list[str]]:
    """Run a check-in; returns the keys spoken after each answer, rendering every phrasing."""
    catalog = load_catalog().for_locale(locale)
    history = [opening().key]
    spoken = []
    for answer in answers:
        result = follow_up(analyze(answer, locale), history)
        for key in result.keys:
            params = result.kwargs(lambda k: catalog.variants(k)[0]) if key == result.key else {}
            for template in catalog.variants(key):
                assert template.format(**params)
        history += result.keys
        spoken.append(list(result.keys))
        if result.closing:
            break
    return spoken


@pytest.mark.parametrize(("locale", "answers"), [
    ("en-US", ["ugh my manager dumped a huge project on me at five",
               "mostly annoyed and kind of tired",
               "i guess i care about being treated fairly"]),
    ("ja-JP", ["上司に急に大きな仕事を押しつけられた", "イライラしたし、ちょっと疲れた",
               "ちゃんと扱ってほしいんだと思う"]),
])
def test_bad_day_goes_deeper_then_closes(locale: str, answers: list[str]) -> None:
    """If the day was bad, then each follow-up goes a stage deeper and the third answer closes."""
    spoken = converse(locale, answers)
    assert spoken[0][0].startswith("checkin.ask.feelings")
    assert spoken[1][0].startswith("checkin.ask.meaning")
    assert spoken[2][0].startswith("checkin.close")


@pytest.mark.parametrize(("locale", "answer"), [
    ("en-US", "my niece visited and we baked cookies together it was wonderful"),
    ("ja-JP", "姪が遊びに来て一緒にクッキーを焼いて楽しかった"),
])
def test_good_day_is_savoured(locale: str, answer: str) -> None:
    """If the day was good, then the follow-up savours it."""
    assert converse(locale, [answer])[0][0].startswith("checkin.savour.")


@pytest.mark.parametrize(("locale", "answer"), [
    ("en-US", "the morning meeting was tense but dinner with friends was great"),
    ("ja-JP", "午前の会議はピリピリしてて嫌だったけど友だちとの夕飯は最高だった"),
])
def test_mixed_day(locale: str, answer: str) -> None:
    """If the day was mixed, then the follow-up acknowledges both sides."""
    assert converse(locale, [answer])[0][0].endswith(".mixed")


@pytest.mark.parametrize("locale", ["en-US", "ja-JP"])
def test_empty_answers_get_a_gentle_reask_never_a_crash(locale: str) -> None:
    """If the answers are empty, then the skill re-asks gently, then closes."""
    spoken = converse(locale, ["", "  ", ""])
    assert spoken[0] == ["checkin.reask"]
    assert spoken[1] == ["checkin.reask.soft"]
    assert spoken[2][0].startswith("checkin.close")


@pytest.mark.parametrize(("locale", "answer"), [
    ("en-US", "honestly i think everyone would be better off if i was gone"),
    ("ja-JP", "正直、私なんか消えてしまったほうがみんな楽だと思う"),
])
def test_crisis_answer(locale: str, answer: str) -> None:
    """If an answer is a crisis, then the crisis reply is spoken and the check-in does not close."""
    spoken = converse(locale, [answer])
    assert tuple(spoken[0]) == CRISIS_KEYS


@pytest.mark.parametrize(("locale", "answers"), [
    ("en-US", ["work was long and boring", "i felt tired", "i just do not want to be alive"]),
    ("ja-JP", ["仕事が長くて退屈だった", "疲れてた", "もう生きるのがしんどい"]),
])
def test_crisis_in_the_middle(locale: str, answers: list[str]) -> None:
    """If a crisis comes mid-conversation, then it overrides the close and the normal flow."""
    spoken = converse(locale, answers)
    assert tuple(spoken[-1]) == CRISIS_KEYS
    assert all(OPEN_KEY not in keys for keys in spoken)
