"""Redis key names owned by the kefu core (each family has one writing module, named here)."""

from __future__ import annotations

PREFIX = "kefu"


def conversation_lock(channel: str, channel_user_id: str) -> str:
    """Written by kefu.switchboard: serialises one customer's messages across replicas."""
    return f"{PREFIX}:lock:customer:{channel}:{channel_user_id}"


def conversation_events(conversation_id: str) -> str:
    """Pub/sub channel written by kefu.realtime: messages pushed to the customer's sockets."""
    return f"{PREFIX}:events:conversation:{conversation_id}"


def session_token(token_hash: str) -> str:
    """Written by kefu.auth: a staff session."""
    return f"{PREFIX}:session:{token_hash}"


def knowledge_publish_lock() -> str:
    """Written by kefu.service.knowledge_routes: one publish at a time across replicas."""
    return f"{PREFIX}:lock:knowledge:publish"


def login_failures(scope: str, subject: str) -> str:
    """Written by kefu.login_throttle: failed logins in the current window (scope account or ip)."""
    return f"{PREFIX}:throttle:login:{scope}:{subject}"
