"""HMAC-SHA256 request signing, the same both ways: ``sha256=hex(HMAC(secret, "<ts>.<body>"))``.

Pure functions: the caller passes the current time, so tests need no clock.
"""

from __future__ import annotations

import hashlib
import hmac

from connectors.app.errors import BadSignature, BadTimestamp, StaleTimestamp

APP_HEADER = "X-Kefu-App"
TIMESTAMP_HEADER = "X-Kefu-Timestamp"
SIGNATURE_HEADER = "X-Kefu-Signature"
DELIVERY_HEADER = "X-Kefu-Delivery"
SCHEME = "sha256="
TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp`` (unix seconds)."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return SCHEME + mac.hexdigest()


def parse_timestamp(raw: str | None) -> str:
    """The timestamp header as signed (digits only), or ``BadTimestamp``."""
    if raw is None or not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise BadTimestamp(f"{TIMESTAMP_HEADER} must be unix seconds")
    return raw


def verify(
    secret: str,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    now: float,
    tolerance: int = TOLERANCE_SECONDS,
) -> int:
    """Check a signed request; returns its timestamp or raises a typed ``Unauthenticated``.

    The signature is checked (in constant time) before freshness, so an unauthenticated
    caller learns nothing about the clock.
    """
    raw = parse_timestamp(timestamp)
    expected = sign(secret, raw, body).encode("ascii")
    if signature is None or not hmac.compare_digest(expected, signature.encode("utf-8", "replace")):
        raise BadSignature(f"{SIGNATURE_HEADER} does not match the body")
    ts = int(raw)
    if abs(now - ts) > tolerance:
        raise StaleTimestamp(f"{TIMESTAMP_HEADER} is more than {tolerance} seconds away from now")
    return ts
