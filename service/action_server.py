"""``python -m service.action_server``: the rasa_sdk action server on 127.0.0.1:${ACTIONS_PORT:-5055}.

The composition root of the actions process: the actions (``actions/``) get their outside
systems here (the live knowledge index, the order and ticket lookups).


Environment: ACTIONS_PORT, ACTIONS_HOST, DATABASE_URL (orders, tickets), KEFU_KNOWLEDGE_DIR (index root),
ACTION_SERVER_SANIC_WORKERS (rasa_sdk's worker count, default 1).
"""

from __future__ import annotations

import logging
import os
import sys

from rasa_sdk import endpoint

from actions.live_knowledge import LazyLiveIndex
from actions.registry import build_executor
from conversations.orders import SqlOrderLookup
from core.settings import Settings, SettingsError
from tickets.lookup import SqlTicketLookup

COMPAT_WARNING = "ignore:Your versions of rasa and rasa_sdk:UserWarning"


def configure_process() -> None:
    """Offline switches, logging and warnings. Sanic's workers are spawned processes: they inherit
    the environment (so PYTHONWARNINGS), not this process's logging or warning filters."""
    for name, value in (
        ("RASA_TELEMETRY_ENABLED", "false"),
        ("HF_HUB_OFFLINE", "1"),
        ("TRANSFORMERS_OFFLINE", "1"),
        ("TOKENIZERS_PARALLELISM", "false"),
    ):
        os.environ.setdefault(name, value)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Rasa 3.6 and rasa_sdk 3.21 speak the same action protocol (tests/integration/test_bot.py).
    os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [os.environ.get("PYTHONWARNINGS"), COMPAT_WARNING]))


def main() -> int:
    configure_process()
    try:
        settings = Settings.from_env(require_secret=False)
    except SettingsError as exc:
        print(f"actions: {exc}", file=sys.stderr)
        return 2
    os.environ["SANIC_HOST"] = settings.actions_host  # rasa_sdk reads its bind address from SANIC_HOST
    executor = build_executor(
        LazyLiveIndex(settings.knowledge_dir),
        SqlOrderLookup(settings.database_url),
        SqlTicketLookup(settings.database_url),
    )
    # Only Rasa calls this server: no CORS, no tracing endpoints file.
    endpoint.run(executor, port=settings.actions_port, cors_origins="", endpoints="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
