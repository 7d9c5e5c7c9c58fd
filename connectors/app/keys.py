"""Redis key names of the app channel. Every family is written only by ``connectors.app.delivery``."""

from __future__ import annotations

PREFIX = "kefu:app:delivery"

# Consumer group of the delivery stream (a name inside the stream key, not a key of its own).
GROUP = "deliverers"


def stream() -> str:
    """Stream of job ids ready to deliver; workers read it through the consumer group ``GROUP``."""
    return f"{PREFIX}:stream"


def job(job_id: str) -> str:
    """Hash: one delivery job (app, payload, attempts, last error) until it is delivered."""
    return f"{PREFIX}:job:{job_id}"


def scheduled() -> str:
    """Sorted set: job ids waiting for a retry, scored by the unix time they are due."""
    return f"{PREFIX}:scheduled"


def dead() -> str:
    """List: job ids that failed for good, newest first, until an admin re-drives them."""
    return f"{PREFIX}:dead"


def sent(app_id: str, message_id: str) -> str:
    """String with a TTL: the job id of a message already queued, so sending twice queues once."""
    return f"{PREFIX}:sent:{app_id}:{message_id}"
