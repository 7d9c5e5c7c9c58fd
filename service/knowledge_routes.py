"""Knowledge editors: unanswered questions, learned wordings, and publishing a new index version.

``GET /api/knowledge/unanswered?status=open&limit=50`` lists what the bot declined;
``POST /api/knowledge/unanswered/<id>/resolve`` files one under an FAQ entry
(``{"action": "add", "key": ...}``: it becomes a learned similar question) or dismisses it;
``GET /api/knowledge/learned?key=&status=&limit=`` lists learned wordings (from those decisions and
from FAQ suggestions agents sent unedited); ``POST /api/knowledge/learned/<id>/reject`` (and
``/restore``) keeps one out of the next publish; ``POST /api/knowledge/publish`` builds and
switches to a new version in the background (202; one at a time, 409 ``publish_in_progress``);
``GET /api/knowledge/versions`` shows the versions and whether a publish is running.
Role: editor (admins have it too).
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import logging
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.base import parse_json_object
from core.clock import utc_now
from core.errors import Conflict, ValidationFailed
from handoff.auth import Sessions, Staff, require_role
from knowledge import keys as knowledge_keys
from knowledge import learning
from knowledge.config import IndexConfig
from knowledge.publish import publish, recent_versions
from knowledge.tables import LearnedQuestion, UnansweredQuestion
from knowledge.versions import active, changes
from service.admin_routes import parse_limit

log = logging.getLogger(__name__)
ROLES = ("editor",)
PUBLISH_LOCK_SECONDS = 30 * 60  # longer than any build; released as soon as the build ends
KEY_MAX = 128


def create_blueprint(
    staff_sessions: Sessions,
    sessions: async_sessionmaker[AsyncSession],
    redis: aioredis.Redis,
    knowledge_dir: Path,
    *,
    config: IndexConfig | None = None,
    clock: Callable[[], datetime] = utc_now,
    on_published: Callable[[float, bool], None] = lambda seconds, ok: None,
) -> Blueprint:
    """``on_published(seconds, ok)`` hears how long each publish this replica ran took."""
    bp = Blueprint("knowledge", url_prefix="/api/knowledge")
    editor = require_role(staff_sessions, ROLES)
    index_config = config or IndexConfig()
    running: set[asyncio.Task[None]] = set()

    @bp.get("/unanswered")
    @editor
    async def unanswered(request: Request) -> HTTPResponse:
        status = _choice(request.args.get("status", "open"), learning.UNANSWERED_STATUSES, "status")
        limit = parse_limit(request.args.get("limit"))
        async with sessions() as session:
            rows = await learning.list_unanswered(session, status=status, limit=limit)
        return json({"unanswered": [unanswered_json(r) for r in rows]})

    @bp.post("/unanswered/<question_id:id>/resolve")
    @editor
    async def resolve(request: Request, question_id: int) -> HTTPResponse:
        body = parse_json_object(request.body)
        action = body.get("action")
        if action not in ("add", "dismiss"):
            raise ValidationFailed('action must be "add" or "dismiss"', code="invalid_action")
        key = _entry_key(body.get("key")) if action == "add" else None
        async with sessions.begin() as session:
            question, learned = await learning.resolve_unanswered(
                session, question_id, entry_key=key, actor=_staff(request).username, now=clock()
            )
            out = {"unanswered": unanswered_json(question)}
            if learned is not None:
                out["learned"] = learned_json(learned)
        return json(out)

    @bp.get("/learned")
    @editor
    async def learned(request: Request) -> HTTPResponse:
        raw_key = request.args.get("key")
        key = _entry_key(raw_key) if raw_key is not None else None
        status = _choice(request.args.get("status"), learning.LEARNED_STATUSES, "status")
        limit = parse_limit(request.args.get("limit"))
        async with sessions() as session:
            rows = await learning.list_learned(session, entry_key=key, status=status, limit=limit)
        return json({"learned": [learned_json(r) for r in rows]})

    async def set_status(learned_id: int, status: learning.LearnedStatus) -> HTTPResponse:
        async with sessions.begin() as session:
            row = await learning.set_learned_status(session, learned_id, status)
            return json({"learned": learned_json(row)})

    @bp.post("/learned/<learned_id:id>/reject")
    @editor
    async def reject(request: Request, learned_id: int) -> HTTPResponse:
        return await set_status(learned_id, "rejected")

    @bp.post("/learned/<learned_id:id>/restore")
    @editor
    async def restore(request: Request, learned_id: int) -> HTTPResponse:
        return await set_status(learned_id, "active")

    @bp.post("/publish")
    @editor
    async def start_publish(request: Request) -> HTTPResponse:
        lock = redis.lock(knowledge_keys.publish_lock(), timeout=PUBLISH_LOCK_SECONDS, blocking=False)
        if not await lock.acquire():
            raise Conflict("a publish is already running; try again when it ends", code="publish_in_progress")
        by = _staff(request).username
        await redis.set(knowledge_keys.publish_progress(), "{}", ex=PUBLISH_LOCK_SECONDS)
        task = asyncio.create_task(_publish_then_release(lock, by), name="knowledge_publish")
        running.add(task)
        task.add_done_callback(running.discard)
        return json({"started": True}, status=202)

    async def _publish_then_release(lock: Any, by: str) -> None:
        loop = asyncio.get_running_loop()

        def progress(stage: str, done: int, total: int) -> None:  # called from the build thread
            body = jsonlib.dumps({"stage": stage, "done": done, "total": total})
            asyncio.run_coroutine_threadsafe(_set_progress(body), loop)

        async def _set_progress(body: str) -> None:
            await redis.set(knowledge_keys.publish_progress(), body, ex=PUBLISH_LOCK_SECONDS)

        started, ok = time.perf_counter(), False
        try:
            published = await publish(
                sessions, knowledge_dir, index_config, published_by=by, progress=progress
            )
            ok = True
            log.info(
                "published knowledge version %s (%s learned questions)",
                published.version,
                published.learned_count,
            )
        except Exception:
            log.exception("knowledge publish failed")
        finally:
            on_published(time.perf_counter() - started, ok)
            await lock.release()

    @bp.get("/versions")
    @editor
    async def versions(request: Request) -> HTTPResponse:
        limit = parse_limit(request.args.get("limit"))
        async with sessions() as session:
            fetched = list(await recent_versions(session, limit + 1))  # one more: what the last changed
            current = await active(session, knowledge_dir)
        publishing = bool(await redis.exists(knowledge_keys.publish_lock()))
        raw_progress = await redis.get(knowledge_keys.publish_progress()) if publishing else None
        rows = fetched[:limit]
        previous = ([r.version for r in fetched[1:]] + [None])[: len(rows)]
        return json(
            {
                "publishing": publishing,
                "progress": jsonlib.loads(raw_progress) if raw_progress else None,
                "active": current,
                "versions": [
                    {
                        "version": r.version,
                        "entry_count": r.entry_count,
                        "published_by": r.published_by,
                        "created_at": r.created_at.isoformat(),
                        "active": r.version == current,
                        "changes": await asyncio.to_thread(changes, knowledge_dir, r.version, before),
                    }
                    for r, before in zip(rows, previous, strict=True)
                ],
            }
        )

    return bp


def _staff(request: Request) -> Staff:
    staff: Staff = request.ctx.staff
    return staff


def _choice(raw: Any, allowed: tuple[str, ...], field: str) -> str | None:
    if raw is None or raw == "all":
        return None
    if raw not in allowed:
        raise ValidationFailed(f"{field} must be one of {', '.join(allowed)} or all", code=f"invalid_{field}")
    return str(raw)


def _entry_key(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip() or len(raw) > KEY_MAX:
        raise ValidationFailed(f"key must be an FAQ entry key of 1-{KEY_MAX} characters", code="invalid_key")
    return raw.strip()


def unanswered_json(row: UnansweredQuestion) -> dict[str, Any]:
    return {
        "id": row.id,
        "conversation_id": row.conversation_id,
        "text": row.text,
        "lang": row.lang,
        "top_score": row.top_score,
        "status": row.status,
        "entry_key": row.entry_key,
        "resolved_by": row.resolved_by,
        "resolved_at": row.resolved_at.isoformat() if row.resolved_at else None,
        "created_at": row.created_at.isoformat(),
    }


def learned_json(row: LearnedQuestion) -> dict[str, Any]:
    return {
        "id": row.id,
        "entry_key": row.entry_key,
        "text": row.text,
        "source": row.source,
        "status": row.status,
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat(),
    }
