"""Signed web visitor tokens: ``<visitor_id>.<HMAC-SHA256(KEFU_SECRET_KEY, visitor_id)>``.

The service issues a token on a visitor's first message; every later request of that visitor
(messages, transcript, CSAT, the WebSocket) must carry it, so knowing a visitor id (which staff
could see, or which a log could hold) is not enough to read or write as that visitor. The token
names its visitor, so transcript and socket URLs need no visitor id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from connectors.base import ID_PATTERN

HEADER = "x-kefu-visitor-token"
SUBPROTOCOL = "kefu.visitor"  # WebSocket: Sec-WebSocket-Protocol: kefu.visitor, <token>
_CONTEXT = b"kefu-web-visitor-v1:"


class VisitorTokens:
    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("visitor tokens need KEFU_SECRET_KEY")
        self._key = hashlib.sha256(b"kefu-visitor-token-key:" + secret.encode()).digest()

    def issue(self, visitor_id: str) -> str:
        return f"{visitor_id}.{self._sign(visitor_id)}"

    def visitor_of(self, token: str | None) -> str | None:
        """The visitor a token was issued to, or None for a missing, malformed or forged one."""
        if not token or len(token) > 128:
            return None
        visitor_id, dot, signature = token.partition(".")
        if not dot or not ID_PATTERN.match(visitor_id):
            return None
        if not hmac.compare_digest(signature.encode(), self._sign(visitor_id).encode()):
            return None
        return visitor_id

    def _sign(self, visitor_id: str) -> str:
        digest = hmac.new(self._key, _CONTEXT + visitor_id.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
