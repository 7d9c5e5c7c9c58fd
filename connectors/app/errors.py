"""Errors of the app channel: failed request authentication (401 with a stable code) and bad config."""

from __future__ import annotations

from core.errors import Unauthenticated


class UnknownApp(Unauthenticated):
    code = "unknown_app"


class BadSignature(Unauthenticated):
    code = "bad_signature"


class BadTimestamp(Unauthenticated):
    code = "bad_timestamp"


class StaleTimestamp(Unauthenticated):
    code = "stale_timestamp"
