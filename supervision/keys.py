"""Redis key names of the supervision package (each family has one writing module, named here)."""

from __future__ import annotations

PREFIX = "kefu:supervision"


def alert_events() -> str:
    """Pub/sub channel written by supervision.alerts: every new alert (JSON) for dashboards."""
    return f"{PREFIX}:events:alerts"


def monitor_lock() -> str:
    """Written by supervision.monitor: held while one replica evaluates the alert rules."""
    return f"{PREFIX}:lock:monitor"
