"""Redis key names of the tickets package (each family has one writing module, named here)."""

from __future__ import annotations

PREFIX = "kefu:tickets"


def sla_alerts() -> str:
    """Pub/sub channel written by tickets.alerts: SLA alerts (JSON) for supervisors' consoles."""
    return f"{PREFIX}:events:sla_alerts"


def sla_sweep_lock() -> str:
    """Written by tickets.alerts: held while one replica sweeps, so an alert is recorded once."""
    return f"{PREFIX}:lock:sla_sweep"
