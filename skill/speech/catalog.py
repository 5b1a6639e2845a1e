"""Locale catalogs: ``skill/locales/<locale>/*.yaml`` files of keyed phrasings.

Each file looks like::

    locale: en-US
    messages:
      launch.welcome:
        - "Hi, I'm your reflection guide."
        - "Welcome back to a quiet minute."

A key maps to one or more phrasings (plain text with ``{placeholder}`` fields); the renderer picks
one, never the one used last time. Code holds keys only.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from skill.errors import CatalogError, UnsupportedLocaleError

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
#: The locale spoken when a request's locale has no catalog (or none is given).
DEFAULT_LOCALE = "en-US"
#: libyaml's safe loader when available (several times faster at cold start), else PyYAML's.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def placeholders(template: str) -> frozenset[str]:
    """The ``{name}`` fields of a template."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


@dataclass(frozen=True)
class LocaleCatalog:
    """The phrasings of one locale, keyed by message key."""

    locale: str
    messages: Mapping[str, tuple[str, ...]]

    def variants(self, key: str) -> tuple[str, ...]:
        """All phrasings of ``key``.

        :raises CatalogError: if the key is missing in this locale.
        """
        try:
            return self.messages[key]
        except KeyError:
            raise CatalogError(f"{self.locale}: no message {key!r}") from None

    def has(self, key: str) -> bool:
        return key in self.messages


def _load_locale_dir(path: Path) -> LocaleCatalog:
    messages: dict[str, tuple[str, ...]] = {}
    for file in sorted(path.glob("*.yaml")):
        data = yaml.load(file.read_text(encoding="utf-8"), Loader=_Loader) or {}
        if data.get("locale") != path.name:
            raise CatalogError(f"{file}: declares locale {data.get('locale')!r}, expected {path.name!r}")
        for key, value in (data.get("messages") or {}).items():
            if key in messages:
                raise CatalogError(f"{file}: duplicate message key {key!r}")
            variants = (value,) if isinstance(value, str) else tuple(value or ())
            if not variants or not all(isinstance(v, str) and v.strip() for v in variants):
                raise CatalogError(f"{file}: {key!r} needs one or more non-empty phrasings")
            messages[key] = variants
    return LocaleCatalog(locale=path.name, messages=messages)


@dataclass(frozen=True)
class Catalog:
    """All locale catalogs, with locale resolution: exact, then language, then a loud failure."""

    locales: Mapping[str, LocaleCatalog]

    def for_locale(self, locale: str | None) -> LocaleCatalog:
        """The catalog for ``locale`` (``en-GB`` falls back to a catalog of the same language).

        :raises UnsupportedLocaleError: if no catalog matches exactly or by language.
        """
        if locale and locale in self.locales:
            return self.locales[locale]
        language = (locale or "").split("-")[0].lower()
        for name in sorted(self.locales):
            if name.split("-")[0].lower() == language:
                return self.locales[name]
        raise UnsupportedLocaleError(f"no locale file for {locale!r}")


@cache
def load_catalog(root: Path = LOCALES_DIR) -> Catalog:
    """Load every locale directory under ``root`` once per process."""
    locales = {d.name: _load_locale_dir(d) for d in sorted(root.iterdir()) if d.is_dir()}
    if not locales:
        raise CatalogError(f"no locales under {root}")
    return Catalog(locales=locales)
