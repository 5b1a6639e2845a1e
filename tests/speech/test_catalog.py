"""Locale catalogs: every key in every locale, same placeholders, one breath, real variety."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from skill.errors import CatalogError, UnsupportedLocaleError
from skill.speech import Speech, load_catalog
from skill.speech.catalog import LOCALES_DIR, _load_locale_dir, placeholders

CATALOG = load_catalog()
LOCALES = sorted(CATALOG.locales)
ALL_KEYS = sorted({k for c in CATALOG.locales.values() for k in c.messages})
#: One breath (content brief, section 4), with room for a spoken list of options in help texts.
MAX_EN_WORDS = {"default": 25, "help.main": 32}
MAX_JA_CHARS = {"default": 60, "help.main": 72}
#: Keys spoken as one of several consecutive sentences, or whose length is a list of contacts.
LONG_FORM_PREFIXES = ("checkin.crisis", "crisis.", "lessons.list")


def _sample_params(template: str) -> dict[str, str]:
    return {name: "x" for name in placeholders(template)}


def test_both_locales_present() -> None:
    """If the catalogs load, then en-US and ja-JP are both there."""
    assert {"en-US", "ja-JP"} <= set(LOCALES)


@pytest.mark.parametrize("key", ALL_KEYS)
def test_every_key_in_every_locale_with_same_placeholders(key: str) -> None:
    """If a key exists in one locale, then it exists in all, with the same placeholders."""
    sets = {}
    for locale in LOCALES:
        catalog = CATALOG.locales[locale]
        assert catalog.has(key), f"{locale} lacks {key!r}"
        sets[locale] = {placeholders(v) for v in catalog.variants(key)}
    flattened = {locale: frozenset().union(*s) for locale, s in sets.items()}
    assert len(set(flattened.values())) == 1, f"{key!r} placeholders differ: {flattened}"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_template_renders_as_ssml(locale: str) -> None:
    """If any phrasing is rendered with its placeholders, then it makes well-formed speech."""
    catalog = CATALOG.locales[locale]
    for key, variants in catalog.messages.items():
        for template in variants:
            text = template.format(**_sample_params(template))
            assert "<" not in text and ">" not in text, f"{key}: raw markup in text"
            speech = Speech(catalog).say_text(text)
            assert speech.ssml().startswith("<speak>")


@pytest.mark.parametrize("locale", LOCALES)
def test_one_breath(locale: str) -> None:
    """If a phrasing is spoken, then it fits one breath (25 words / 60 Japanese characters)."""
    catalog = CATALOG.locales[locale]
    too_long = []
    for key, variants in catalog.messages.items():
        if key.startswith(LONG_FORM_PREFIXES):
            continue
        for template in variants:
            if locale.startswith("ja"):
                size = len(re.sub(r"[\s、。！？「」]", "", template))
                limit = MAX_JA_CHARS.get(key, MAX_JA_CHARS["default"])
            else:
                size = len(template.split())
                limit = MAX_EN_WORDS.get(key, MAX_EN_WORDS["default"])
            if size > limit:
                too_long.append(f"{key} ({size}): {template}")
    assert not too_long, "\n".join(too_long)


@pytest.mark.parametrize("locale", [loc for loc in LOCALES if loc.startswith("ja")])
def test_japanese_is_written_as_japanese(locale: str) -> None:
    """If the locale is Japanese, then no phrasing is plain English."""
    for key, variants in CATALOG.locales[locale].messages.items():
        for template in variants:
            assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", template), f"{key}: {template}"


class TestVariation:
    def test_never_the_same_phrasing_twice_in_a_row(self) -> None:
        """If a key is spoken repeatedly, then no phrasing follows itself."""
        catalog = CATALOG.for_locale("en-US")
        memory: dict[str, int] = {}
        previous = None
        for _ in range(50):
            text = Speech(catalog, memory).phrase("launch.welcome")
            assert text != previous
            previous = text

    def test_every_prompt_has_several_phrasings(self) -> None:
        """If a key is a prompt (not a fixed fact), then it has at least two phrasings."""
        for locale in LOCALES:
            for key, variants in CATALOG.locales[locale].messages.items():
                if key.startswith(("error.unsupported", "lesson.title", "crisis.contact")):
                    continue
                assert len(variants) >= 2, f"{locale} {key!r} has one phrasing"


class TestResolution:
    def test_language_fallback(self) -> None:
        """If the exact locale is missing, then a catalog of the same language is used."""
        assert CATALOG.for_locale("en-GB").locale == "en-US"

    def test_unknown_locale_fails_loudly(self) -> None:
        """If no catalog shares the language, then UnsupportedLocaleError is raised."""
        with pytest.raises(UnsupportedLocaleError, match="fr-FR"):
            CATALOG.for_locale("fr-FR")

    def test_missing_key(self) -> None:
        """If a key is missing, then CatalogError names the locale and key."""
        with pytest.raises(CatalogError, match="en-US: no message 'nope'"):
            CATALOG.for_locale("en-US").variants("nope")

    def test_missing_placeholder(self) -> None:
        """If a placeholder has no value, then CatalogError says which."""
        catalog = CATALOG.for_locale("en-US")
        key = next((k for k, v in catalog.messages.items() if placeholders(v[0])), None)
        if key is None:
            pytest.skip("no templated key yet")
        with pytest.raises(CatalogError, match="needs"):
            Speech(catalog).say(key)

    def test_file_must_declare_its_locale(self, tmp_path: Path) -> None:
        """If a file declares another locale than its folder, then loading fails."""
        folder = tmp_path / "en-US"
        folder.mkdir()
        (folder / "x.yaml").write_text("locale: ja-JP\nmessages:\n  a: ['b']\n", encoding="utf-8")
        with pytest.raises(CatalogError, match="expected 'en-US'"):
            _load_locale_dir(folder)

    def test_locale_dirs_match_file_names(self) -> None:
        """If the package is installed, then locale dirs are the catalog names."""
        assert sorted(p.name for p in LOCALES_DIR.iterdir() if p.is_dir()) == LOCALES


class TestSpeech:
    def test_escapes_xml(self) -> None:
        """If text contains & or <, then the SSML escapes it."""
        speech = Speech(CATALOG.for_locale("en-US")).say_text("salt & <pepper>")
        assert "salt &amp; &lt;pepper&gt;" in speech.ssml()

    def test_long_pause_is_chained(self) -> None:
        """If a pause exceeds 10 s, then it is chained from breaks of at most 10 s."""
        ssml = Speech(CATALOG.for_locale("en-US")).pause(25_000).ssml()
        assert re.findall(r'time="(\d+)ms"', ssml) == ["10000", "10000", "5000"]

    def test_negative_pause_rejected(self) -> None:
        """If a pause is negative, then CatalogError is raised."""
        with pytest.raises(CatalogError, match="negative"):
            Speech(CATALOG.for_locale("en-US")).pause(-1)
