from __future__ import annotations

import pytest

from core.app_clients import AppClient, SettingsError, parse_app_clients, secret_var

SHOP_SECRET = "shop-secret-0123456789"


def test_apps_and_secrets_are_read() -> None:
    clients = parse_app_clients(
        {
            "KEFU_APPS": " shop=http://127.0.0.1:9000/hook , mini-app=https://example.com/kefu?x=1,",
            "KEFU_APP_SECRET_SHOP": SHOP_SECRET,
            "KEFU_APP_SECRET_MINI_APP": "mini-secret-0123456789",
        }
    )
    assert clients == {
        "shop": AppClient("shop", SHOP_SECRET, "http://127.0.0.1:9000/hook"),
        "mini-app": AppClient("mini-app", "mini-secret-0123456789", "https://example.com/kefu?x=1"),
    }


def test_no_apps_means_channel_off() -> None:
    assert parse_app_clients({}) == {}
    assert parse_app_clients({"KEFU_APPS": "  "}) == {}


def test_secret_is_not_in_repr() -> None:
    assert SHOP_SECRET not in repr(AppClient("shop", SHOP_SECRET, "http://h/"))


def test_secret_variable_name() -> None:
    assert secret_var("my-shop_2") == "KEFU_APP_SECRET_MY_SHOP_2"


def test_missing_secret_names_the_variable() -> None:
    with pytest.raises(SettingsError, match="KEFU_APP_SECRET_MY_SHOP"):
        parse_app_clients({"KEFU_APPS": "my-shop=http://127.0.0.1:9000/hook"})


@pytest.mark.parametrize(
    ("apps", "extra", "match"),
    [
        ("shop=http://h/", {"KEFU_APP_SECRET_SHOP": "short"}, "KEFU_APP_SECRET_SHOP must be at least"),
        ("shop=ftp://h/", {"KEFU_APP_SECRET_SHOP": SHOP_SECRET}, "http"),
        ("shop=", {"KEFU_APP_SECRET_SHOP": SHOP_SECRET}, "http"),
        ("shop", {}, "app_id=webhook_url"),
        ("bad app=http://h/", {}, "app_id=webhook_url"),
        ("shop=http://a/,shop=http://b/", {"KEFU_APP_SECRET_SHOP": SHOP_SECRET}, "KEFU_APP_SECRET_SHOP"),
        ("a-b=http://a/,a_b=http://b/", {"KEFU_APP_SECRET_A_B": SHOP_SECRET}, "share"),
    ],
)
def test_malformed_config_is_a_clear_error(apps: str, extra: dict[str, str], match: str) -> None:
    with pytest.raises(SettingsError, match=match):
        parse_app_clients({"KEFU_APPS": apps, **extra})
