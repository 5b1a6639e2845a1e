"""Settings: defaults, REFLECT_* environment, then explicit overrides."""

from __future__ import annotations

import pytest

from skill.config import load_settings
from skill.errors import ConfigError


class TestLoadSettings:
    def test_defaults_are_safe(self) -> None:
        """If nothing is configured, then verification is on and storage is SQLite."""
        settings = load_settings(environ={})
        assert settings.verify_requests is True
        assert settings.storage == "sqlite"
        assert settings.skill_ids == ()

    def test_environment_then_overrides(self) -> None:
        """If both set a value, then the explicit mapping wins over the environment."""
        env = {"REFLECT_SKILL_IDS": "amzn1.a, amzn1.b", "REFLECT_LOG_LEVEL": "DEBUG"}
        settings = load_settings({"log_level": "ERROR"}, environ=env)
        assert settings.skill_ids == ("amzn1.a", "amzn1.b")
        assert settings.log_level == "ERROR"

    def test_boolean_parsing(self) -> None:
        """If the dev switch is 'yes', then verification is off."""
        settings = load_settings(environ={"REFLECT_DEV_SKIP_VERIFICATION": "yes"})
        assert settings.verify_requests is False

    def test_invalid_value_names_the_variable(self) -> None:
        """If a value cannot be converted, then ConfigError names the variable."""
        with pytest.raises(ConfigError, match="REFLECT_CERT_TIMEOUT_S"):
            load_settings(environ={"REFLECT_CERT_TIMEOUT_S": "soon"})

    def test_unknown_storage_rejected(self) -> None:
        """If the storage backend is unknown, then ConfigError says which are allowed."""
        with pytest.raises(ConfigError, match="sqlite.*dynamodb"):
            load_settings(environ={"REFLECT_STORAGE": "postgres"})

    def test_unknown_override_rejected(self) -> None:
        """If an override names no setting, then ConfigError is raised."""
        with pytest.raises(ConfigError, match="unknown setting"):
            load_settings({"no_such_thing": 1}, environ={})
