"""WECOM_KF_SERVICERS: Kefu staff username = WeCom servicer userid, comma-separated."""

from __future__ import annotations

import pytest

from core.settings import Settings, SettingsError, parse_servicers


def test_pairs_are_read_in_order_and_spaces_ignored() -> None:
    assert parse_servicers(" alice = zhangsan, bob=li.si@corp ,") == (
        ("alice", "zhangsan"),
        ("bob", "li.si@corp"),
    )


def test_empty_means_no_mapping() -> None:
    assert parse_servicers("") == ()
    assert Settings.from_env({"KEFU_SECRET_KEY": "x"}).wecom.kf_servicers == ()


def test_the_environment_variable_reaches_the_wecom_settings() -> None:
    settings = Settings.from_env({"KEFU_SECRET_KEY": "x", "WECOM_KF_SERVICERS": "alice=zhangsan"})
    assert settings.wecom.kf_servicers == (("alice", "zhangsan"),)


@pytest.mark.parametrize(
    "raw",
    ["alice", "alice=", "=zhangsan", "alice:zhangsan", "Alice=zhangsan", "alice=zhang san", "alice=a=b"],
)
def test_a_malformed_item_is_named(raw: str) -> None:
    with pytest.raises(SettingsError, match="WECOM_KF_SERVICERS") as err:
        Settings.from_env({"KEFU_SECRET_KEY": "x", "WECOM_KF_SERVICERS": f"bob=lisi,{raw}"})
    assert raw.strip() in str(err.value)


@pytest.mark.parametrize(
    ("raw", "named"),
    [("alice=zhangsan,alice=lisi", "'alice'"), ("alice=zhangsan,bob=zhangsan", "'zhangsan'")],
)
def test_a_repeated_side_is_refused(raw: str, named: str) -> None:
    with pytest.raises(SettingsError, match="appears twice") as err:
        parse_servicers(raw)
    assert named in str(err.value)
