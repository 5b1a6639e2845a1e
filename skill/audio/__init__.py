"""The offline audio build: scripts → speech → loudness-normalised MP3 clips + manifest.

Run it with ``python -m skill build-audio`` (see :mod:`skill.audio.cli` and docs/audio.md). This
package never runs in the deployed skill and imports neither ask_sdk nor Flask.
"""

from __future__ import annotations

from skill.audio.errors import (
    AudioBuildError,
    EngineUnavailableError,
    MediaError,
    ScriptError,
    SynthesisError,
)
from skill.audio.manifest import ManifestEntry, load_manifest
from skill.audio.pipeline import Builder, BuildOptions, BuildReport, check, duration_table

__all__ = [
    "AudioBuildError",
    "BuildOptions",
    "BuildReport",
    "Builder",
    "EngineUnavailableError",
    "ManifestEntry",
    "MediaError",
    "ScriptError",
    "SynthesisError",
    "check",
    "duration_table",
    "load_manifest",
]
