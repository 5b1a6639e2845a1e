"""Errors of the offline audio build; each message names the clip it concerns."""

from __future__ import annotations

from skill.errors import ReflectionError


class AudioBuildError(ReflectionError):
    """Root of the audio build errors (never spoken: the build runs offline)."""


class ScriptError(AudioBuildError):
    """Raised when a source script is empty, misnamed, or has text no engine would accept."""


class EngineUnavailableError(AudioBuildError):
    """Raised when a speech engine cannot run here (not installed, no network, no voice)."""


class SynthesisError(AudioBuildError):
    """Raised when an engine crashes or rejects a sentence while synthesizing a clip."""


class MediaError(AudioBuildError):
    """Raised when ffmpeg or ffprobe fails, or is missing."""
