"""Value types of the check-in engine: what one answer says (:class:`Reading`) and what to ask next.

Both are frozen and hold derived tags only, never the words the person said.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

Polarity = Literal["positive", "negative", "neutral", "mixed"]
Stage = Literal["facts", "feelings", "meaning", "next_step"]

#: The disclosure stages in order (content brief, section 1).
STAGES: tuple[Stage, ...] = ("facts", "feelings", "meaning", "next_step")


@dataclass(frozen=True)
class Reading:
    """What one check-in answer says, as tags: safe to keep in a session, never the raw text."""

    #: The resolved engine locale (``en-US`` or ``ja-JP``).
    locale: str
    #: The speaker's overall feeling about the day.
    polarity: Polarity
    #: Normalized emotion tags in order of first mention (``"tired"``, ``"proud"``, ...).
    emotions: tuple[str, ...] = ()
    #: Normalized topic tags in order of first mention (``"work"``, ``"family"``, ...).
    topics: tuple[str, ...] = ()
    #: The deepest disclosure stage the answer already reached.
    stage: Stage = "facts"
    #: True when the words suggest suicide, self-harm, wanting to disappear, or being unsafe.
    crisis: bool = False
    #: A lexicon term id to reflect back (spoken via ``checkin.term.<id>``), never user text.
    reflect_term: str | None = None
    #: True when nothing could be understood (empty, filler only, unknown symbols).
    unclear: bool = False


@dataclass(frozen=True)
class FollowUp:
    """The next thing to say: message keys spoken in order, with their placeholder values.

    ``params`` maps a placeholder to another message key of the same locale file (for example
    ``("term", "checkin.term.boss")``): render that key and pass the text as the placeholder, as
    :meth:`kwargs` does. No placeholder ever carries the person's own words.
    """

    #: The main message key.
    key: str
    #: Placeholder name -> message key whose rendered phrasing fills it.
    params: tuple[tuple[str, str], ...] = ()
    #: Further keys spoken right after ``key``, in order (the crisis reply is split by breath).
    then: tuple[str, ...] = ()
    #: True for the crisis reply: do not end the session or continue the normal flow.
    crisis: bool = False
    #: True when the check-in is over (the gentle close): offer a reflection or a lesson next.
    closing: bool = False

    @property
    def keys(self) -> tuple[str, ...]:
        """Every key to speak, in order."""
        return (self.key, *self.then)

    def kwargs(self, phrase: Callable[[str], str]) -> dict[str, str]:
        """The placeholder values for ``key``, each rendered by ``phrase`` (e.g. ``Speech.phrase``).

        :param phrase: renders one message key of the locale file to text.
        """
        return {name: phrase(term_key) for name, term_key in self.params}
