"""Redis key names for the WeCom connector. Each family has one writing module, named here.

No secret appears in a key: credentials are identified by a short SHA-256 fingerprint.
"""

from __future__ import annotations

import hashlib

PREFIX = "kefu:wecom"


def credential_id(corp_id: str, secret: str) -> str:
    digest = hashlib.sha256(f"{corp_id}\0{secret}".encode()).hexdigest()[:16]
    return f"{corp_id}:{digest}"


def access_token(credential: str) -> str:
    """Written by connectors.wecom.tokens: the cached access_token shared by replicas."""
    return f"{PREFIX}:token:{credential}"


def access_token_lock(credential: str) -> str:
    """Written by connectors.wecom.tokens: one gettoken refresh at a time."""
    return f"{PREFIX}:token-lock:{credential}"


def kf_cursor(open_kfid: str) -> str:
    """Written by connectors.wecom.ingest: the sync_msg next_cursor for one kf account (a cache
    of the copy in SQL, ``core.cursors``)."""
    return f"{PREFIX}:kf:cursor:{open_kfid}"


def kf_sync_lock(open_kfid: str) -> str:
    """Written by connectors.wecom.ingest: one sync_msg loop at a time per kf account."""
    return f"{PREFIX}:kf:sync-lock:{open_kfid}"


def kf_accounts() -> str:
    """Written by connectors.wecom.ingest: set of the open_kfids seen in callbacks (re-synced on a timer)."""
    return f"{PREFIX}:kf:accounts"


def kf_failures(msgid: str) -> str:
    """Written by connectors.wecom.ingest: how often handling one kf message failed."""
    return f"{PREFIX}:kf:failures:{msgid}"


def seen_message(scope: str, msgid: str) -> str:
    """Written by connectors.wecom.dedup: a message id already handled (SET NX with a TTL)."""
    return f"{PREFIX}:seen:{scope}:{msgid}"


def callback_nonce(scope: str, timestamp: str, nonce: str) -> str:
    """Written by connectors.wecom.replay: a callback already received (SET NX with a TTL)."""
    return f"{PREFIX}:nonce:{scope}:{timestamp}:{nonce}"


def kf_servicer(open_kfid: str, external_userid: str) -> str:
    """Written by connectors.wecom.sessions: the servicer holding a kf session (state 3)."""
    return f"{PREFIX}:kf:servicer:{open_kfid}:{external_userid}"
