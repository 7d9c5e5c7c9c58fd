from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings, SettingsError
from knowledge.config import IndexConfig
from knowledge.encoders import minilm_path


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


def test_the_knowledge_model_is_a_sentence_transformers_folder(tmp_path: Path) -> None:
    assert (
        IndexConfig.for_model(Settings.from_env({"KEFU_SECRET_KEY": "x"}).knowledge_model).st_model_path
        is None
    )
    folder = minilm_path()
    settings = Settings.from_env({"KEFU_SECRET_KEY": "x", "KEFU_KNOWLEDGE_MODEL": str(folder)})
    assert settings.knowledge_model == folder.resolve()
    assert IndexConfig.for_model(settings.knowledge_model).encoder_names(["zh"]) == (
        "use",
        "e5",
        f"st:{folder.resolve()}",
    )
    for wrong in (tmp_path / "absent", tmp_path):  # missing, and a folder that holds no model
        with pytest.raises(SettingsError, match="KEFU_KNOWLEDGE_MODEL"):
            Settings.from_env({"KEFU_SECRET_KEY": "x", "KEFU_KNOWLEDGE_MODEL": str(wrong)})
