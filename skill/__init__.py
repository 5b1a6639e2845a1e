"""Reflection Guide: a voice-guided reflection Alexa skill (en-US, ja-JP).

The package is laid out as rooms around a thin Alexa edge:

- ``skill.service`` / ``skill.handlers``: the HTTP edge and the Alexa request handlers.
- ``skill.reflection``, ``skill.checkin``, ``skill.lessons``: the three features, free of ask_sdk.
- ``skill.speech`` and ``skill/locales``: every spoken word, per locale, and the SSML renderer.
- ``skill.storage``: per-user persistence (SQLite locally, DynamoDB in the cloud).
- ``skill.audio``: the offline build pipeline for intro clips and lessons.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
