"""Redis key names of the conversations domain (each family has one writing module, named here)."""

from __future__ import annotations

PREFIX = "kefu"


def conversation_lock(channel: str, channel_user_id: str) -> str:
    """Written by conversations.switchboard: serialises one customer's messages across replicas."""
    return f"{PREFIX}:lock:customer:{channel}:{channel_user_id}"


def conversation_events(conversation_id: str) -> str:
    """Pub/sub channel written by conversations.realtime: messages pushed to the customer's sockets."""
    return f"{PREFIX}:events:conversation:{conversation_id}"


def reconcile_lock() -> str:
    """Written by conversations.reconcile: one reconcile of the handoff engine at a time."""
    return f"{PREFIX}:lock:handoff_reconcile"
