from __future__ import annotations

import pytest

from kefu.settings import Settings, SettingsError


def test_missing_secret_names_the_setting() -> None:
    with pytest.raises(SettingsError, match="KEFU_SECRET_KEY"):
        Settings.from_env({})


def test_env_overrides_and_secrets_not_in_repr() -> None:
    settings = Settings.from_env(
        {
            "KEFU_SECRET_KEY": "topsecret",
            "KEFU_PORT": "9000",
            "RASA_PORT": "6000",
            "REDIS_URL": "redis://h:1/2",
            "WECOM_KF_SECRET": "wecom-secret",
        }
    )
    assert settings.port == 9000
    assert settings.rasa_url == "http://127.0.0.1:6000"
    assert settings.redis_url == "redis://h:1/2"
    assert "topsecret" not in repr(settings)
    assert "wecom-secret" not in repr(settings)


def test_bad_integer_is_named() -> None:
    with pytest.raises(SettingsError, match="KEFU_PORT"):
        Settings.from_env({"KEFU_SECRET_KEY": "x", "KEFU_PORT": "eighty"})
