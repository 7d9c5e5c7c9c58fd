"""The registry of app backends allowed to talk to Kefu, read from the environment.

``KEFU_APPS="shop=http://127.0.0.1:9000/hook,other=https://example.com/kefu"`` names each app and
its webhook; the secret of app ``shop`` is in ``KEFU_APP_SECRET_SHOP`` (upper case, every other
non-alphanumeric character becomes ``_``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

APPS_VAR = "KEFU_APPS"
SECRET_VAR_PREFIX = "KEFU_APP_SECRET_"
MIN_SECRET_LENGTH = 16
APP_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class SettingsError(Exception):
    """A required setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class AppClient:
    app_id: str
    secret: str = field(repr=False)
    webhook_url: str


def secret_var(app_id: str) -> str:
    return SECRET_VAR_PREFIX + re.sub(r"[^A-Z0-9]", "_", app_id.upper())


def _webhook_url(app_id: str, url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SettingsError(f"{APPS_VAR}: the webhook of app {app_id!r} must be an http(s) URL, got {url!r}")
    return url


def _secret(env: Mapping[str, str], app_id: str) -> str:
    var = secret_var(app_id)
    secret = env.get(var, "")
    if not secret:
        raise SettingsError(f"{var} is not set: app {app_id!r} in {APPS_VAR} needs a signing secret")
    if len(secret) < MIN_SECRET_LENGTH:
        raise SettingsError(f"{var} must be at least {MIN_SECRET_LENGTH} characters")
    return secret


def _entries(raw: str) -> list[tuple[str, str]]:
    entries = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        app_id, sep, url = item.partition("=")
        app_id, url = app_id.strip(), url.strip()
        if not sep or not APP_ID.match(app_id):
            raise SettingsError(
                f"{APPS_VAR}: expected app_id=webhook_url, app_id of A-Z a-z 0-9 _ - (got {item!r})"
            )
        entries.append((app_id, url))
    return entries


def parse_app_clients(env: Mapping[str, str]) -> dict[str, AppClient]:
    """Every configured app by id; an empty or absent ``KEFU_APPS`` means the channel is off."""
    clients: dict[str, AppClient] = {}
    seen_vars: dict[str, str] = {}
    for app_id, url in _entries(env.get(APPS_VAR, "")):
        var = secret_var(app_id)
        if app_id in clients or var in seen_vars:
            other = seen_vars.get(var, app_id)
            raise SettingsError(f"{APPS_VAR}: apps {other!r} and {app_id!r} would share the secret {var}")
        seen_vars[var] = app_id
        clients[app_id] = AppClient(app_id, _secret(env, app_id), _webhook_url(app_id, url))
    return clients
