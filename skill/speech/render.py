"""The one SSML renderer: phrasings from the catalog, real pauses, and audio clips.

A :class:`Speech` collects parts for one response and renders them to SSML (for Alexa) or to plain
text (for the ``chat`` simulator and cards). Text is XML-escaped here and nowhere else.
"""

from __future__ import annotations

import os
import random
from collections.abc import Mapping, MutableMapping
from xml.sax.saxutils import escape, quoteattr

from skill.errors import CatalogError
from skill.speech.catalog import LocaleCatalog, placeholders

#: SSML ``<break>`` is capped at 10 s by the platform; longer silences are chained breaks.
MAX_BREAK_MS = 10_000

#: Which phrasing to say needs variety, not secrecy: a plain generator (SystemRandom cost a
#: system call per choice), reseeded in every forked worker so workers do not echo each other.
_rng = random.Random()
os.register_at_fork(after_in_child=_rng.seed)


def pick_variant(variants: tuple[str, ...], last: int | None, rng: random.Random = _rng) -> int:
    """Index of a phrasing chosen at random, never ``last`` when there is an alternative."""
    choices = [i for i in range(len(variants)) if i != last] or [0]
    return rng.choice(choices)


def render_template(catalog: LocaleCatalog, key: str, template: str, params: Mapping[str, object]) -> str:
    """Fill ``template``'s placeholders.

    :raises CatalogError: if a placeholder has no value.
    """
    missing = placeholders(template) - set(params)
    if missing:
        raise CatalogError(f"{catalog.locale}: {key!r} needs {sorted(missing)}")
    return template.format(**params)


class Speech:
    """One response's speech, built from catalog keys, pauses and audio clips."""

    def __init__(
        self,
        catalog: LocaleCatalog,
        memory: MutableMapping[str, int] | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """:param memory: message key -> index of the phrasing used last; updated as we speak.
        :param rng: the source of variety (seed one for reproducible benchmarks)."""
        self.catalog = catalog
        self._rng = rng or _rng
        self.memory: MutableMapping[str, int] = {} if memory is None else memory
        self._parts: list[tuple[str, str]] = []

    @property
    def locale(self) -> str:
        return self.catalog.locale

    def phrase(self, key: str, **params: object) -> str:
        """Choose and fill a phrasing of ``key`` (remembering the choice), without adding it."""
        variants = self.catalog.variants(key)
        index = pick_variant(variants, self.memory.get(key), self._rng)
        self.memory[key] = index
        return render_template(self.catalog, key, variants[index], params)

    def variant(self, key: str, index: int, **params: object) -> str:
        """Fill phrasing ``index`` of ``key`` (an earlier choice, replayed), remembering it."""
        variants = self.catalog.variants(key)
        index = index if 0 <= index < len(variants) else 0
        self.memory[key] = index
        return render_template(self.catalog, key, variants[index], params)

    def say(self, key: str, **params: object) -> Speech:
        """Add one phrasing of ``key``."""
        self._parts.append(("text", self.phrase(key, **params)))
        return self

    def say_text(self, text: str) -> Speech:
        """Add text that was itself produced from the catalog (e.g. a rendered follow-up)."""
        self._parts.append(("text", text))
        return self

    def pause(self, milliseconds: int) -> Speech:
        """Add real silence, chained as breaks of at most 10 s each."""
        if milliseconds < 0:
            raise CatalogError("a pause cannot be negative")
        remaining = milliseconds
        while remaining > 0:
            step = min(remaining, MAX_BREAK_MS)
            self._parts.append(("break", str(step)))
            remaining -= step
        return self

    def audio(self, url: str) -> Speech:
        """Add an SSML ``<audio>`` clip."""
        self._parts.append(("audio", url))
        return self

    @property
    def empty(self) -> bool:
        return not self._parts

    def ssml(self) -> str:
        """The parts as SSML wrapped in ``<speak>``."""
        out: list[str] = []
        for kind, value in self._parts:
            if kind == "text":
                out.append(escape(value))
            elif kind == "break":
                out.append(f'<break time="{value}ms"/>')
            else:
                out.append(f"<audio src={quoteattr(value)}/>")
        separator = "" if self.locale.startswith("ja") else " "
        return "<speak>" + separator.join(out) + "</speak>"

    def text(self) -> str:
        """The spoken text only (pauses and audio left out), for cards and the simulator."""
        separator = "" if self.locale.startswith("ja") else " "
        return separator.join(value for kind, value in self._parts if kind == "text")
