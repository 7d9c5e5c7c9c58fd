"""The embed snippet's site keys: the widget page may be framed only by the origins of its key."""

from __future__ import annotations

import pytest

from core.app_clients import SettingsError
from core.settings import parse_site_keys
from service.headers import PAGE_CSP
from service.pages import widget_csp


def test_site_keys_name_their_origins() -> None:
    keys = parse_site_keys(
        "shop=https://shop.example.com https://m.shop.example.com; blog=http://127.0.0.1:8000"
    )
    assert keys == {
        "shop": ("https://shop.example.com", "https://m.shop.example.com"),
        "blog": ("http://127.0.0.1:8000",),
    }
    assert parse_site_keys("") == {}


@pytest.mark.parametrize(
    "raw", ["shop=", "shop=javascript:alert(1)", "bad key=https://a.com", "shop=https://a.com/path"]
)
def test_bad_site_keys_stop_the_start(raw: str) -> None:
    with pytest.raises(SettingsError):
        parse_site_keys(raw)


def test_only_a_known_key_widens_frame_ancestors() -> None:
    keys = {"shop": ("https://shop.example.com",)}
    assert "frame-ancestors 'self' https://shop.example.com" in widget_csp("shop", keys)
    assert widget_csp("other", keys) == PAGE_CSP
    assert widget_csp(None, keys) == PAGE_CSP
