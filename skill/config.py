"""Settings: defaults, then ``REFLECT_*`` environment variables, then an explicit mapping.

The layering follows Flask's own config: safe defaults first, the environment of the process next,
and a mapping (tests, the ``chat`` simulator) last. Nothing here reads files or touches the network.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from skill.errors import ConfigError

ENV_PREFIX = "REFLECT_"
REPO_ROOT = Path(__file__).resolve().parent.parent
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _default_db_path() -> str:
    return str(Path(os.environ.get("XDG_STATE_HOME", Path.home() / ".local" / "state"))
               / "reflection-guide" / "skill.sqlite3")


@dataclass(frozen=True)
class Settings:
    """Every runtime setting of the skill, each overridable by ``REFLECT_<NAME>``."""

    #: Allowed Alexa skill ids (``applicationId``), comma separated in the environment.
    #: Empty with verification on means every request is refused: the skill fails closed.
    skill_ids: tuple[str, ...] = ()
    #: Explicit local development switch: skips signature, timestamp and skill id checks.
    #: ``serve`` then refuses to listen on anything but loopback.
    dev_skip_verification: bool = False
    #: ``sqlite`` (embedded default) or ``dynamodb``.
    storage: str = "sqlite"
    #: SQLite database file.
    db_path: str = field(default_factory=_default_db_path)
    #: DynamoDB table, region and (for local servers) endpoint.
    dynamodb_table: str = "reflection-guide-users"
    dynamodb_region: str = "us-east-1"
    dynamodb_endpoint: str = ""
    #: Base URL the audio files are served from (HTTPS in the cloud; the local server in dev).
    audio_base_url: str = "http://127.0.0.1:5000/audio"
    #: Directory holding ``manifest.json`` and the generated MP3 files.
    audio_dir: str = str(REPO_ROOT / "audio")
    #: Python logging level name.
    log_level: str = "INFO"
    #: Seconds to wait for the signing certificate download.
    cert_timeout_s: float = 3.0
    #: Seconds one storage call may take before the skill gives up and apologises (Alexa waits
    #: about 8 s for the whole answer; a request makes at most two storage calls).
    storage_budget_s: float = 2.5
    #: Largest accepted request body in bytes (Alexa requests are a few KB).
    max_body_bytes: int = 128 * 1024

    @property
    def verify_requests(self) -> bool:
        """Whether incoming requests go through the full Alexa verification."""
        return not self.dev_skip_verification


def _coerce(name: str, current: Any, raw: Any) -> Any:
    """Turn ``raw`` (an env string or a mapping value) into the type of the default."""
    if not isinstance(raw, str):
        return tuple(raw) if isinstance(current, tuple) else raw
    try:
        if isinstance(current, bool):
            lowered = raw.strip().lower()
            if lowered in {"1", "true", "yes", "on"}:
                return True
            if lowered in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(raw)
        if isinstance(current, tuple):
            return tuple(part.strip() for part in raw.split(",") if part.strip())
        if isinstance(current, int):
            return int(raw)
        if isinstance(current, float):
            return float(raw)
    except ValueError:
        raise ConfigError(
            f"{ENV_PREFIX}{name.upper()} has an invalid value {raw!r} "
            f"(expected {type(current).__name__})"
        ) from None
    return raw


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Build :class:`Settings` from defaults, ``REFLECT_*`` variables and ``overrides``.

    :param overrides: setting names (lower case) to values; applied last.
    :param environ: the environment to read; ``os.environ`` when omitted.
    :raises ConfigError: if a value cannot be converted, or a name is unknown.
    """
    settings = Settings()
    env = os.environ if environ is None else environ
    known = {f.name for f in fields(Settings)}
    changes: dict[str, Any] = {}
    for name in known:
        raw = env.get(ENV_PREFIX + name.upper())
        if raw is not None:
            changes[name] = _coerce(name, getattr(settings, name), raw)
    for name, value in (overrides or {}).items():
        if name not in known:
            raise ConfigError(f"unknown setting {name!r}")
        changes[name] = _coerce(name, getattr(settings, name), value)
    settings = replace(settings, **changes)
    if settings.storage not in {"sqlite", "dynamodb"}:
        raise ConfigError(f"{ENV_PREFIX}STORAGE must be 'sqlite' or 'dynamodb', not {settings.storage!r}")
    return settings
