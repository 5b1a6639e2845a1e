"""The ASK skill package: models generated from ``interaction_models/``, and the deployable render.

``interaction_models/<locale>.json`` is the single source of truth. :func:`sync_models` copies each
file byte for byte to ``skill-package/interactionModels/custom/<locale>.json`` (where the ASK CLI
looks for it) and :func:`stale_models` reports copies that differ, are missing or have no source.

``skill-package/skill.json`` is the committed manifest with ``{{NAME}}`` placeholders for the
per-deployment settings (endpoint, certificate type, privacy and terms URLs per locale).
:func:`render_package` fills them and writes a complete package (manifest plus models) to
``build/skill-package/``, which ``ask-resources.json`` points the ASK CLI at.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from skill.config import REPO_ROOT
from skill.errors import ConfigError

MODELS_SOURCE = REPO_ROOT / "interaction_models"
PACKAGE_DIR = REPO_ROOT / "skill-package"
MANIFEST_PATH = PACKAGE_DIR / "skill.json"
MODELS_TARGET = PACKAGE_DIR / "interactionModels" / "custom"
BUILD_DIR = REPO_ROOT / "build" / "skill-package"

#: Placeholder names in skill.json, each filled from ``--set NAME=...`` or ``SKILL_<NAME>``.
PLACEHOLDERS = (
    "ENDPOINT_URL",
    "SSL_CERTIFICATE_TYPE",
    "PRIVACY_POLICY_URL_EN_US",
    "TERMS_OF_USE_URL_EN_US",
    "PRIVACY_POLICY_URL_JA_JP",
    "TERMS_OF_USE_URL_JA_JP",
)
ENV_PREFIX = "SKILL_"
SSL_CERTIFICATE_TYPES = ("Trusted", "Wildcard", "SelfSigned")
_PLACEHOLDER = re.compile(r"\{\{([A-Z0-9_]+)\}\}")
#: API Gateway's own domain presents Amazon's wildcard certificate ``*.execute-api.<region>...``.
_AWS_WILDCARD_HOST = re.compile(r"^[a-z0-9]+\.execute-api\.[a-z0-9-]+\.amazonaws\.com$")


@dataclass(frozen=True)
class Stale:
    """One generated file that does not match its source."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def model_locales(source: Path = MODELS_SOURCE) -> list[str]:
    """Locales with an interaction model in ``source``, sorted."""
    return sorted(p.stem for p in source.glob("*.json"))


def stale_models(source: Path = MODELS_SOURCE, target: Path = MODELS_TARGET) -> list[Stale]:
    """Generated model files that differ from, lack, or outlive their source (empty: in sync)."""
    problems: list[Stale] = []
    for locale in model_locales(source):
        copy = target / f"{locale}.json"
        if not copy.exists():
            problems.append(Stale(copy, "missing"))
        elif copy.read_bytes() != (source / f"{locale}.json").read_bytes():
            problems.append(Stale(copy, f"differs from {source.name}/{locale}.json"))
    wanted = set(model_locales(source))
    if target.is_dir():
        for extra in sorted(target.glob("*.json")):
            if extra.stem not in wanted:
                problems.append(Stale(extra, f"has no source in {source.name}/"))
    return problems


def sync_models(source: Path = MODELS_SOURCE, target: Path = MODELS_TARGET) -> list[Path]:
    """Copy every model from ``source`` to ``target`` and drop orphans; the paths changed.

    :raises ConfigError: if a source model is not valid JSON with an invocation name.
    """
    target.mkdir(parents=True, exist_ok=True)
    changed: list[Path] = []
    for problem in stale_models(source, target):
        if problem.path.parent == target and problem.path.stem not in model_locales(source):
            problem.path.unlink()
            changed.append(problem.path)
    for locale in model_locales(source):
        data = (source / f"{locale}.json").read_bytes()
        _check_model(locale, data)
        copy = target / f"{locale}.json"
        if not copy.exists() or copy.read_bytes() != data:
            copy.write_bytes(data)
            changed.append(copy)
    return changed


def _check_model(locale: str, data: bytes) -> None:
    try:
        model = json.loads(data)
        name = model["interactionModel"]["languageModel"]["invocationName"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"interaction_models/{locale}.json is not a usable model: {exc}") from None
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"interaction_models/{locale}.json has no invocation name")


def load_manifest(path: Path = MANIFEST_PATH) -> dict[str, Any]:
    """The manifest template (placeholders unfilled)."""
    with open(path, encoding="utf-8") as handle:
        manifest: dict[str, Any] = json.load(handle)
    return manifest


def placeholders_in(value: Any) -> set[str]:
    """Every ``{{NAME}}`` placeholder anywhere in ``value``."""
    if isinstance(value, str):
        return set(_PLACEHOLDER.findall(value))
    if isinstance(value, Mapping):
        return set().union(*(placeholders_in(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(placeholders_in(v) for v in value)) if value else set()
    return set()


def certificate_type_for(endpoint_url: str) -> str:
    """The ``sslCertificateType`` for an endpoint: ``Wildcard`` for API Gateway's own domain.

    ``https://<id>.execute-api.<region>.amazonaws.com/`` presents Amazon's certificate for
    ``*.execute-api.<region>.amazonaws.com``, i.e. a sub-domain of a wildcard certificate from a
    trusted authority. A custom domain with its own (ACM) certificate is ``Trusted``.
    """
    host = (urlsplit(endpoint_url).hostname or "").lower()
    return "Wildcard" if _AWS_WILDCARD_HOST.match(host) else "Trusted"


def resolve_settings(
    explicit: Mapping[str, str], environ: Mapping[str, str]
) -> dict[str, str]:
    """Placeholder values: ``explicit`` first, then ``SKILL_<NAME>`` from ``environ``.

    ``SSL_CERTIFICATE_TYPE`` defaults to :func:`certificate_type_for` the endpoint.

    :raises ConfigError: a value is missing, unknown, or not an ``https://`` URL where one is needed.
    """
    unknown = sorted(set(explicit) - set(PLACEHOLDERS))
    if unknown:
        raise ConfigError(f"unknown skill package setting(s): {', '.join(unknown)}")
    values: dict[str, str] = {}
    for name in PLACEHOLDERS:
        value = explicit.get(name) or environ.get(ENV_PREFIX + name, "")
        if value:
            values[name] = value.strip()
    if "ENDPOINT_URL" in values and "SSL_CERTIFICATE_TYPE" not in values:
        values["SSL_CERTIFICATE_TYPE"] = certificate_type_for(values["ENDPOINT_URL"])
    missing = [n for n in PLACEHOLDERS if n not in values]
    if missing:
        hints = ", ".join(f"{ENV_PREFIX}{n}" for n in missing)
        raise ConfigError(f"missing skill package setting(s): {', '.join(missing)} "
                          f"(use --set NAME=VALUE or the environment: {hints})")
    for name, value in values.items():
        if "_URL" in name:
            parts = urlsplit(value)
            if parts.scheme != "https" or not parts.hostname:
                raise ConfigError(f"{name} must be an https:// URL, not {value!r}")
    if values["SSL_CERTIFICATE_TYPE"] not in SSL_CERTIFICATE_TYPES:
        raise ConfigError(f"SSL_CERTIFICATE_TYPE must be one of {SSL_CERTIFICATE_TYPES}, "
                          f"not {values['SSL_CERTIFICATE_TYPE']!r}")
    return values


def fill(value: Any, settings: Mapping[str, str]) -> Any:
    """A copy of ``value`` with every ``{{NAME}}`` replaced from ``settings``.

    :raises ConfigError: a placeholder has no value.
    """
    if isinstance(value, str):
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in settings:
                raise ConfigError(f"no value for placeholder {{{{{name}}}}}")
            return settings[name]
        return _PLACEHOLDER.sub(replace, value)
    if isinstance(value, Mapping):
        return {k: fill(v, settings) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, settings) for v in value]
    return value


def render_package(
    settings: Mapping[str, str],
    out: Path = BUILD_DIR,
    manifest_path: Path = MANIFEST_PATH,
    source: Path = MODELS_SOURCE,
) -> Path:
    """Write a deployable skill package to ``out``: filled ``skill.json`` plus every model.

    The models are copied from ``source`` (the same bytes :func:`sync_models` commits). ``out`` is
    replaced as a whole so nothing stale survives.

    :returns: the path of the rendered ``skill.json``.
    :raises ConfigError: a placeholder has no value or a model is unusable.
    """
    manifest = fill(load_manifest(manifest_path), settings)
    if out.exists():
        shutil.rmtree(out)
    models = out / "interactionModels" / "custom"
    models.mkdir(parents=True)
    for locale in model_locales(source):
        data = (source / f"{locale}.json").read_bytes()
        _check_model(locale, data)
        (models / f"{locale}.json").write_bytes(data)
    rendered = out / "skill.json"
    rendered.write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return rendered
