"""The supervisor API: live floor, alerts, quality hits, the settings supervisors own, reports.

- ``GET /api/supervisor/floor``: agents (presence, load, conversations) and groups (queue, waits);
- ``GET /api/supervisor/alerts?limit=&lang=&type=``: newest first;
- ``GET /api/supervisor/ws?ticket=``: a socket that says ``floor_changed`` when the floor changed
  (the page re-reads it over HTTP) and carries every new ``alert``;
- ``GET /api/supervisor/conversations/<id>/quality``: the word-list hits on a conversation;
- ``/api/supervisor/settings/alert-rules`` and ``/settings/words``: read, add, change, delete
  (every change is in the audit log, ``GET /api/admin/audit``, admins only);
- ``GET /api/reports/overview?from=&to=[&group=&agent=&channel=&lang=][&format=csv]``.

Supervisor or admin role.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from typing import Any
from zoneinfo import ZoneInfo

import redis.asyncio as aioredis
from sanic import Blueprint, Request, Websocket
from sanic.response import HTTPResponse
from sanic.response import json as json_response
from sanic.response import text as text_response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.base import ID_PATTERN, parse_json_object
from core.errors import NotFound, ValidationFailed
from handoff import keys as handoff_keys
from handoff.auth import Sessions, Staff, require_role
from service.admin_routes import parse_limit
from service.sockets import still_allowed
from supervision import alerts as alert_rules
from supervision import audit, cases, keys, quality_views, reports, scoring, words
from supervision.alerts import alert_json
from supervision.quality import hits_of
from supervision.tables import QualityHit, QualityScore
from supervision.wiring import Supervision

ROLES = ("supervisor",)
FLOOR_RECHECK = 2.0  # seconds between floor checks when no event arrives (presence changes)


def _staff(request: Request) -> Staff:
    staff: Staff = request.ctx.staff
    return staff


def _lang(request: Request) -> str:
    lang = request.args.get("lang") or "en"
    if lang not in ("zh", "en"):
        raise ValidationFailed("lang must be zh or en", code="invalid_lang")
    return lang


def _int_id(raw: str, what: str) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise NotFound(f"no {what} {raw!r}", code=f"{what}_not_found")
    return int(raw)


def create_blueprint(
    staff_sessions: Sessions,
    db: async_sessionmaker[AsyncSession],
    redis: aioredis.Redis,
    supervision: Supervision,
    *,
    timezone: str = "Asia/Shanghai",
) -> Blueprint:
    bp = Blueprint("supervisor_api", url_prefix="/api/supervisor")
    guard = require_role(staff_sessions, ROLES)
    tz = ZoneInfo(timezone)

    # -- quality: scores, overrides, the day's alerts, the rubric, the case library ------------

    @bp.get("/quality/scores")
    @guard
    async def scores(request: Request) -> HTTPResponse:
        args = {k: str(request.args.get(k) or "") for k in ("from", "to")}
        query = reports.parse_query(args, tz)
        async with db() as session:
            return json_response(await quality_views.scores_view(session, query.start, query.end, tz))

    @bp.get("/quality/scores/<conversation_id:str>")
    @guard
    async def one_score(request: Request, conversation_id: str) -> HTTPResponse:
        async with db() as session:
            row = await session.get(QualityScore, conversation_id)
            if row is None:
                raise NotFound("this conversation has no score yet", code="score_not_found")
            hits = await hits_of(session, conversation_id)
        return json_response({**scoring.score_json(row), "hits": [_hit_json(h) for h in hits]})

    @bp.put("/quality/scores/<conversation_id:str>/override")
    @guard
    async def override(request: Request, conversation_id: str) -> HTTPResponse:
        body = parse_json_object(request.body)
        by = _staff(request).username
        async with db.begin() as session:
            row = await scoring.override(session, conversation_id, body.get("score"), body.get("comment"), by)
            audit.record(session, by, "score.override", conversation_id, {"score": row.override_score})
            answer = scoring.score_json(row)
        return json_response(answer)

    @bp.get("/quality/day")
    @guard
    async def day_view(request: Request) -> HTTPResponse:
        raw = str(request.args.get("day") or "")
        query = reports.parse_query({"from": raw, "to": raw} if raw else {}, tz)
        async with db() as session:
            return json_response(await quality_views.day_alerts(session, query.end, tz))

    @bp.get("/settings/rubric")
    @guard
    async def get_rubric(request: Request) -> HTTPResponse:
        async with db() as session:
            weights, targets = await scoring.rubric(session)
        return json_response({"weights": weights, "targets": targets})

    @bp.put("/settings/rubric")
    @guard
    async def put_rubric(request: Request) -> HTTPResponse:
        body = parse_json_object(request.body)
        async with db.begin() as session:
            weights, targets = await scoring.save_rubric(session, body)
            audit.record(
                session,
                _staff(request).username,
                "rubric.change",
                "",
                {"weights": weights, "targets": targets},
            )
        return json_response({"weights": weights, "targets": targets})

    @bp.post("/quality/cases/<conversation_id:str>")
    @guard
    async def add_case(request: Request, conversation_id: str) -> HTTPResponse:
        body = parse_json_object(request.body)
        by = _staff(request).username
        async with db.begin() as session:
            case = await cases.add_case(session, conversation_id, body, by)
            audit.record(session, by, "case.add", conversation_id, {"verdict": case.verdict, "tag": case.tag})
            answer = cases.case_json(case)
        return json_response({"case": answer}, status=201)

    @bp.get("/floor")
    @guard
    async def floor(request: Request) -> HTTPResponse:
        return json_response(await supervision.floor.snapshot())

    @bp.get("/alerts")
    @guard
    async def alerts(request: Request) -> HTTPResponse:
        lang = _lang(request)
        wanted = [t for t in (request.args.get("type") or "").split(",") if t]
        if any(t not in alert_rules.RULE_KINDS for t in wanted):
            raise ValidationFailed("unknown alert type", code="invalid_type")
        rows = await supervision.alerts.recent(limit=parse_limit(request.args.get("limit")), types=wanted)
        return json_response({"alerts": [alert_json(a, lang) for a in rows]})

    @bp.get("/conversations/<conversation_id:str>/quality")
    @guard
    async def quality(request: Request, conversation_id: str) -> HTTPResponse:
        if not ID_PATTERN.match(conversation_id):
            raise NotFound("conversation not found", code="conversation_not_found")
        async with db() as session:
            hits = await hits_of(session, conversation_id)
        return json_response({"hits": [_hit_json(h) for h in hits]})

    # -- settings: alert rules ------------------------------------------------------------------

    @bp.get("/settings/alert-rules")
    @guard
    async def list_rules(request: Request) -> HTTPResponse:
        async with db() as session:
            rules = await alert_rules.list_rules(session)
        kinds = dict(alert_rules.RULE_KINDS)
        return json_response({"rules": [alert_rules.rule_json(r) for r in rules], "kinds": kinds})

    @bp.post("/settings/alert-rules")
    @guard
    async def add_rule(request: Request) -> HTTPResponse:
        body = parse_json_object(request.body)
        async with db.begin() as session:
            rule = await alert_rules.add_rule(session, body)
            audit.record(
                session, _staff(request).username, "alert_rule.add", str(rule.id), alert_rules.rule_json(rule)
            )
        return json_response({"rule": alert_rules.rule_json(rule)}, status=201)

    @bp.put("/settings/alert-rules/<rule_id:str>")
    @guard
    async def change_rule(request: Request, rule_id: str) -> HTTPResponse:
        body = parse_json_object(request.body)
        async with db.begin() as session:
            rule = await alert_rules.update_rule(session, _int_id(rule_id, "rule"), body)
            audit.record(
                session,
                _staff(request).username,
                "alert_rule.change",
                str(rule.id),
                alert_rules.rule_json(rule),
            )
        return json_response({"rule": alert_rules.rule_json(rule)})

    @bp.delete("/settings/alert-rules/<rule_id:str>")
    @guard
    async def delete_rule(request: Request, rule_id: str) -> HTTPResponse:
        async with db.begin() as session:
            await alert_rules.delete_rule(session, _int_id(rule_id, "rule"))
            audit.record(session, _staff(request).username, "alert_rule.delete", rule_id)
        return json_response({"deleted": True})

    # -- settings: word lists -------------------------------------------------------------------

    @bp.get("/settings/words")
    @guard
    async def list_words(request: Request) -> HTTPResponse:
        async with db() as session:
            rows = await words.all_words(session)
        return json_response(
            {"words": [{"id": w.id, "kind": w.kind, "lang": w.lang, "word": w.word} for w in rows]}
        )

    @bp.post("/settings/words")
    @guard
    async def add_word(request: Request) -> HTTPResponse:
        body = parse_json_object(request.body)
        kind, word, lang = body.get("kind"), body.get("word"), body.get("lang", "zh")
        if not isinstance(kind, str) or not isinstance(word, str) or not isinstance(lang, str):
            raise ValidationFailed("kind, word and lang are strings", code="invalid_word")
        async with db.begin() as session:
            row = await words.add_word(session, kind, word, lang)
            audit.record(
                session,
                _staff(request).username,
                "word.add",
                str(row.id),
                {"kind": kind, "lang": lang, "word": row.word},
            )
        return json_response(
            {"word": {"id": row.id, "kind": row.kind, "lang": row.lang, "word": row.word}}, status=201
        )

    @bp.delete("/settings/words/<word_id:str>")
    @guard
    async def delete_word(request: Request, word_id: str) -> HTTPResponse:
        async with db.begin() as session:
            await words.remove_word(session, _int_id(word_id, "word"))
            audit.record(session, _staff(request).username, "word.delete", word_id)
        return json_response({"deleted": True})

    # -- live socket ----------------------------------------------------------------------------

    @bp.websocket("/ws")  # type: ignore[untyped-decorator]
    async def live(request: Request, ws: Websocket) -> None:
        # A one-time ticket (POST /api/auth/ws-ticket), never the session token, in the URL.
        grant = await staff_sessions.open_socket(request.args.get("ticket") or "", "supervisor")
        pubsub = redis.pubsub()
        await pubsub.psubscribe(f"{handoff_keys.EVENTS_PREFIX}:*")
        await pubsub.subscribe(keys.alert_events())
        last = await _digest(supervision)
        loop = asyncio.get_running_loop()
        next_check = loop.time() + FLOOR_RECHECK
        try:
            while True:
                item = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
                changed = False
                if item is not None and item.get("type") in ("message", "pmessage"):
                    if item.get("channel") == keys.alert_events():
                        await ws.send(item["data"])
                    else:
                        changed = True
                if changed or loop.time() >= next_check:
                    next_check = loop.time() + FLOOR_RECHECK
                    # Revoked (logout everywhere, disabled, role taken away): the socket ends.
                    if await still_allowed(ws, staff_sessions, grant, "supervisor") is None:
                        return
                    now = await _digest(supervision)
                    if now != last:
                        last = now
                        await ws.send(json.dumps({"type": "floor_changed"}))
        finally:
            with contextlib.suppress(Exception):
                await pubsub.punsubscribe()
                await pubsub.unsubscribe()
                await pubsub.aclose()

    return bp


def _hit_json(h: QualityHit) -> dict[str, Any]:
    return {
        "id": h.id,
        "kind": h.kind,
        "word": h.word,
        "message_id": h.message_id,
        "agent_id": h.agent_id,
        "text": h.text,
        "created_at": audit.iso(h.created_at),
    }


def create_cases_blueprint(staff_sessions: Sessions, db: async_sessionmaker[AsyncSession]) -> Blueprint:
    """``GET /api/cases?verdict=&tag=``: the case library, for agents' training (any agent)."""
    bp = Blueprint("cases_api", url_prefix="/api")

    @bp.get("/cases")
    @require_role(staff_sessions, ("agent",))
    async def library(request: Request) -> HTTPResponse:
        verdict = str(request.args.get("verdict") or "")
        tag = str(request.args.get("tag") or "")
        if verdict and verdict not in cases.VERDICTS:
            raise ValidationFailed('verdict must be "good" or "bad"', code="invalid_verdict")
        if len(tag) > 64:
            raise ValidationFailed("tag: at most 64 characters", code="invalid_tag")
        async with db() as session:
            rows = await cases.list_cases(session, verdict, tag)
        return json_response({"cases": [cases.case_json(c) for c in rows]})

    return bp


async def _digest(supervision: Supervision) -> str:
    snapshot = await supervision.floor.snapshot()
    snapshot.pop("at", None)
    for group in snapshot["groups"]:
        group.pop("longest_wait_seconds", None)  # grows every second: not a change
    return hashlib.sha256(json.dumps(snapshot, sort_keys=True).encode()).hexdigest()


def create_reports_blueprint(
    staff_sessions: Sessions, db: async_sessionmaker[AsyncSession], *, timezone: str
) -> Blueprint:
    bp = Blueprint("reports_api", url_prefix="/api/reports")
    tz = ZoneInfo(timezone)

    @bp.get("/overview")
    @require_role(staff_sessions, ROLES)
    async def overview(request: Request) -> HTTPResponse:
        args = {
            k: str(request.args.get(k) or "") for k in ("from", "to", "group", "agent", "channel", "lang")
        }
        fmt = request.args.get("format") or "json"
        if fmt not in ("json", "csv"):
            raise ValidationFailed("format must be json or csv", code="invalid_format")
        query = reports.parse_query(args, tz)
        async with db() as session:
            report = await reports.overview(session, query)
        if fmt == "csv":
            name = f"kefu-report-{query.start}-{query.end}.csv"
            return text_response(
                "\ufeff" + reports.to_csv(report),  # a BOM: Excel opens UTF-8 Chinese correctly
                content_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
        return json_response(report.to_json())

    return bp


def create_admin_blueprint(staff_sessions: Sessions, db: async_sessionmaker[AsyncSession]) -> Blueprint:
    bp = Blueprint("admin_audit", url_prefix="/api/admin")

    @bp.get("/audit")
    @require_role(staff_sessions, ("admin",))
    async def audit_log(request: Request) -> HTTPResponse:
        async with db() as session:
            rows = await audit.recent(session, parse_limit(request.args.get("limit")))
        return json_response({"entries": [audit.entry_json(e) for e in rows]})

    return bp


__all__ = ["create_admin_blueprint", "create_blueprint", "create_cases_blueprint", "create_reports_blueprint"]
