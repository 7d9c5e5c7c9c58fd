"""App users are per app: user ``u1`` of app ``shop`` is ``shop:u1`` to the core, never the same
customer as ``u1`` of another app. App and user ids hold no ``:`` (``connectors.base.ID_PATTERN``),
so the scoped id is unambiguous."""

from __future__ import annotations

SEPARATOR = ":"


def scoped_user(app_id: str, user_id: str) -> str:
    """The core's ``channel_user_id`` of an app's user."""
    return f"{app_id}{SEPARATOR}{user_id}"


def app_user(app_id: str, channel_user_id: str) -> str:
    """The app's own user id again, for its webhook (an id stored before scoping passes as is)."""
    prefix = app_id + SEPARATOR
    return channel_user_id[len(prefix) :] if channel_user_id.startswith(prefix) else channel_user_id
