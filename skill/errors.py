"""The skill's small error tree.

Every error that can reach the person carries a ``speech_key``: the locale-file key of the short,
spoken explanation. One exception handler (``skill.handlers.errors``) speaks it.
"""

from __future__ import annotations


class ReflectionError(Exception):
    """Root of every error the skill raises on purpose."""

    speech_key = "error.generic"


class ConfigError(ReflectionError):
    """Raised when a setting is missing or malformed; the message names the variable."""


class UnsupportedLocaleError(ReflectionError):
    """Raised when a request's locale matches no locale file, neither exactly nor by language."""


class CatalogError(ReflectionError):
    """Raised when a speech key or one of its placeholders is missing from a locale file."""


class StorageUnavailableError(ReflectionError):
    """Raised when the persistence backend cannot be read or written (down, locked, timed out)."""

    speech_key = "error.storage"


class ConcurrentUpdateError(StorageUnavailableError):
    """Raised when a conditional write still loses to another writer after one retry."""


class VerificationError(Exception):
    """Raised when an incoming HTTP request fails Alexa request verification (answered with 400).

    ``str(error)`` is for the log; :attr:`public_reason` is what the 400 body says (no Python
    exception names or internals).
    """

    def __init__(self, message: str, public_reason: str | None = None) -> None:
        super().__init__(message)
        self.public_reason = public_reason or message
