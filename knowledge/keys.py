"""Redis key names of the knowledge domain."""

from __future__ import annotations


def publish_lock() -> str:
    """Held by whoever publishes a version: one publish at a time across replicas."""
    return "kefu:lock:knowledge:publish"


def publish_progress() -> str:
    """JSON ``{stage, done, total}`` of the running publish (expires with the lock's timeout)."""
    return "kefu:knowledge:publish:progress"
