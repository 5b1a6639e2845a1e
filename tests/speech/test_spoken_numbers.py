"""Every phone number the skill speaks or shows is a real contact, digit for digit.

Numbers are spoken digit by digit (content brief, section 6): "nine eight eight",
「ゼロイチニーゼロ、ニーナナキュウ、サンサンハチ」. A digit too many or too few is easy to write and
hard to hear, and would send a person in crisis to a wrong number, so every run of spoken digits
in the crisis lines is decoded and checked against the brief's contacts.
"""

from __future__ import annotations

import re

import pytest

from skill.speech import load_catalog

#: The contacts of the content brief, section 6 (digits only).
CONTACTS = {
    "en-US": {"988", "741741", "911"},
    "ja-JP": {"0120279338", "0120279226", "0570064556", "0120783556", "0570783556", "0120997777",
              "119", "110"},
}
EN_DIGITS = {"zero": "0", "oh": "0", "one": "1", "two": "2", "three": "3", "four": "4",
             "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}
JA_DIGITS = {"ゼロ": "0", "イチ": "1", "ニー": "2", "サン": "3", "ヨン": "4", "ゴー": "5",
             "ロク": "6", "ナナ": "7", "ハチ": "8", "キュウ": "9"}
_EN_WORD = "|".join(EN_DIGITS)
_EN_RUN = re.compile(rf"\b(?:{_EN_WORD})(?:[ ,]+(?:{_EN_WORD}))*\b", re.IGNORECASE)
_JA_WORD = "|".join(JA_DIGITS)
_JA_RUN = re.compile(rf"(?:{_JA_WORD})(?:、?(?:{_JA_WORD}))*")
_JA_TOKEN = re.compile(_JA_WORD)
#: Shorter runs are ordinary words ("one", 「イチ」), not numbers.
MIN_DIGITS = 3


def spoken_numbers(text: str, locale: str) -> list[str]:
    """The digit strings spoken in ``text`` (runs of at least :data:`MIN_DIGITS` digits)."""
    if locale.startswith("ja"):
        runs = ["".join(JA_DIGITS[t] for t in _JA_TOKEN.findall(m)) for m in _JA_RUN.findall(text)]
    else:
        runs = ["".join(EN_DIGITS[w.lower()] for w in re.findall(_EN_WORD, m, re.IGNORECASE))
                for m in _EN_RUN.findall(text)]
    return [run for run in runs if len(run) >= MIN_DIGITS]


def _crisis_lines(locale: str) -> list[tuple[str, str]]:
    catalog = load_catalog().locales[locale]
    return [(key, text) for key in sorted(catalog.messages) if key.startswith("checkin.crisis.")
            for text in catalog.variants(key)]


def test_the_decoder_counts_every_digit() -> None:
    """If a number is written with a digit too few, then the decoder sees a different number."""
    assert spoken_numbers("ゼロイチニーゼロ、キュウキュウ、ナナナナナナです。", "ja-JP") == ["012099777"]
    assert spoken_numbers("ゼロイチニーゼロ、キュウキュウ、ナナ、ナナ、ナナ、ナナ", "ja-JP") == ["0120997777"]
    assert spoken_numbers("Call nine one one. That's nine, eight, eight.", "en-US") == ["911", "988"]
    assert spoken_numbers("someone will listen, one step at a time", "en-US") == []


@pytest.mark.parametrize("locale", sorted(CONTACTS))
def test_every_spoken_number_is_a_real_contact(locale: str) -> None:
    """If a crisis line speaks a number, then it is one of the brief's contacts, digit for digit."""
    wrong = [(key, number) for key, text in _crisis_lines(locale)
             for number in spoken_numbers(text, locale) if number not in CONTACTS[locale]]
    assert wrong == []


@pytest.mark.parametrize("locale", sorted(CONTACTS))
def test_the_main_contacts_are_spoken(locale: str) -> None:
    """If the crisis lines are read, then the main line and the emergency number are in them."""
    spoken = {n for _, text in _crisis_lines(locale) for n in spoken_numbers(text, locale)}
    main = {"en-US": {"988", "911"}, "ja-JP": {"0120279338", "119", "110"}}[locale]
    assert main <= spoken


@pytest.mark.parametrize("locale", sorted(CONTACTS))
def test_every_number_on_the_card_is_a_real_contact(locale: str) -> None:
    """If the card shows a number, then it is one of the brief's contacts."""
    catalog = load_catalog().locales[locale]
    shown = [digits for text in catalog.variants("checkin.crisis.card")
             for n in re.findall(r"\d[\d-]*\d", text)
             if len(digits := re.sub(r"\D", "", n)) >= MIN_DIGITS]  # not "24" (hours)
    assert shown and set(shown) <= CONTACTS[locale]
