"""Every spoken word: per-locale catalogs (``skill/locales``) and the one SSML renderer."""

from __future__ import annotations

from skill.speech.catalog import DEFAULT_LOCALE, Catalog, LocaleCatalog, load_catalog
from skill.speech.render import Speech

__all__ = ["DEFAULT_LOCALE", "Catalog", "LocaleCatalog", "Speech", "load_catalog"]
