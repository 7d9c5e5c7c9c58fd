"""``python -m service.action_server``: the rasa_sdk action server on 127.0.0.1:${ACTIONS_PORT:-5055}.

The composition root of the actions process: the actions (``actions/``) get their outside
systems here (the live knowledge index, the order and ticket lookups). A thread of the main
process keeps the knowledge folder in step with the database (``knowledge.mirror``); the Sanic
workers' ``LiveIndex`` follows the folder.

Only Rasa may call it: every request but ``/health`` must carry ``X-Kefu-Actions-Secret``
(Rasa sends it from bot/endpoints.yml), or it is a 401. rasa_sdk has no authentication of its
own, so the app is rasa_sdk's with one request middleware.

Environment: KEFU_ACTIONS_SECRET (required), ACTIONS_PORT, ACTIONS_HOST, DATABASE_URL (orders,
tickets, knowledge versions), KEFU_KNOWLEDGE_DIR (index root), KEFU_KNOWLEDGE_SYNC_SECONDS,
ACTION_SERVER_SANIC_WORKERS (rasa_sdk's worker count,
default 1).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import sys
import threading
from functools import partial
from typing import Any

from rasa_sdk import endpoint
from rasa_sdk.executor import ActionExecutor
from rasa_sdk.utils import number_of_sanic_workers
from sanic import HTTPResponse, Request, Sanic
from sanic.response import json as json_response
from sanic.worker.loader import AppLoader

from actions.live_knowledge import LazyLiveIndex
from actions.registry import build_executor
from conversations.orders import SqlOrderLookup
from core import request_id
from core.settings import Settings, SettingsError
from knowledge.mirror import KnowledgeMirror
from service.logs import configure_logging
from store.engine import create_engine, session_factory
from tickets.lookup import SqlTicketLookup

COMPAT_WARNING = "ignore:Your versions of rasa and rasa_sdk:UserWarning"
SECRET_HEADER = "X-Kefu-Actions-Secret"
OPEN_PATHS = frozenset({"/health"})
log = logging.getLogger("kefu.actions")
FIRST_SYNC_WAIT = 120.0  # seconds the start waits for the first knowledge sync


def require_secret(app: Sanic[Any, Any], secret: str) -> None:
    """Refuse (401 ``bad_actions_secret``) every request without the shared secret."""
    expected = secret.encode()

    @app.on_request
    async def check_secret(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        given = request.headers.get(SECRET_HEADER, "").encode()
        if hmac.compare_digest(given, expected):
            return None
        return json_response(
            {"error": {"code": "bad_actions_secret", "message": f"{SECRET_HEADER} is missing or wrong"}},
            status=401,
        )


def follow_request_id(app: Sanic[Any, Any]) -> None:
    """Log each action call under the id of the service request it serves: the service puts the
    id in the message's metadata, Rasa hands the tracker over with it."""

    @app.on_request
    async def adopt_request_id(request: Request) -> None:
        if request.method != "POST" or request.path != "/webhook":
            return
        try:
            call = request.json
        except Exception:  # rasa_sdk answers a bad body itself
            return
        if not isinstance(call, dict):
            return
        tracker = call.get("tracker")
        latest = tracker.get("latest_message") if isinstance(tracker, dict) else None
        metadata = latest.get("metadata") if isinstance(latest, dict) else None
        given = metadata.get("request_id") if isinstance(metadata, dict) else None
        if request_id.sane(given):
            request_id.adopt(given)
        log.info("running %s", str(call.get("next_action", ""))[:64])


def create_app(executor: ActionExecutor, secret: str) -> Sanic[Any, Any]:
    """rasa_sdk's app behind the secret. Only Rasa calls this server: no CORS, no tracing
    endpoints file."""
    if not secret:
        raise SettingsError("KEFU_ACTIONS_SECRET is required (Rasa sends it; `make run` generates one)")
    app: Sanic[Any, Any] = endpoint.create_app_for_serve(executor, cors_origins="", endpoints="")
    require_secret(app, secret)
    follow_request_id(app)
    return app


def worker_app(executor: ActionExecutor, secret: str, log_format: str) -> Sanic[Any, Any]:
    """What Sanic's loader builds in each worker process (they do not inherit logging)."""
    configure_logging(log_format)
    return create_app(executor, secret)


def serve(executor: ActionExecutor, secret: str, host: str, port: int, log_format: str) -> None:
    """What ``rasa_sdk.endpoint.run`` does, with ``worker_app`` as the factory."""
    loader = AppLoader(factory=partial(worker_app, executor, secret, log_format))
    app = loader.load()
    app.prepare(host=host, port=port, workers=number_of_sanic_workers())
    Sanic.serve(primary=app, app_loader=loader)


def follow_knowledge(settings: Settings) -> threading.Thread:
    """Mirror the database's active knowledge version into ``settings.knowledge_dir`` from a
    daemon thread. The first sync is waited for, so a host that starts with an empty folder
    answers from the active version at once."""
    ready = threading.Event()
    thread = threading.Thread(
        target=lambda: asyncio.run(_mirror(settings, ready)), name="knowledge-mirror", daemon=True
    )
    thread.start()
    ready.wait(FIRST_SYNC_WAIT)
    return thread


async def _mirror(settings: Settings, ready: threading.Event) -> None:
    engine = create_engine(settings.database_url)
    mirror = KnowledgeMirror(session_factory(engine), settings.knowledge_dir)
    try:
        log.info("knowledge version at start-up: %s", await mirror.sync_once())
    except Exception:
        log.exception("syncing the knowledge folder at start-up failed; retrying in the background")
    finally:
        ready.set()
    try:
        await mirror.run(asyncio.Event(), settings.knowledge_sync_seconds)
    finally:
        await engine.dispose()


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
        if not settings.actions_secret:
            raise SettingsError("KEFU_ACTIONS_SECRET is required (Rasa sends it; `make run` generates one)")
    except SettingsError as exc:
        print(f"actions: {exc}", file=sys.stderr)
        return 2
    follow_knowledge(settings)
    executor = build_executor(
        LazyLiveIndex(settings.knowledge_dir),
        SqlOrderLookup(settings.database_url),
        SqlTicketLookup(settings.database_url),
    )
    serve(
        executor, settings.actions_secret, settings.actions_host, settings.actions_port, settings.log_format
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
