"""The knowledge editor's API (role editor; admins have it too), next to ``knowledge_routes``.

Entries: ``GET /api/knowledge/entries?q=&lang=&tag=&enabled=&limit=&offset=``, ``POST`` (201),
``GET|PUT|DELETE /api/knowledge/entries/<key>``, ``GET .../<key>/history`` (the key URL-encoded, as
any character may be in it; Sanic hands a path parameter over still encoded); import and export
(YAML or CSV) from the page. ``POST /api/knowledge/try`` says what the bot would do with a
question, from the active version or from the draft. ``POST /api/knowledge/versions/<n>/activate``
rolls back (or forward). Unanswered clusters and their one-step resolution; answers to review
(rated unhelpful, low margin, followed by a request for a person); usage and hot questions.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, text
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.base import parse_json_object
from core.clock import utc_now
from core.errors import NotFound, Unavailable, ValidationFailed
from core.types import LANGS
from handoff.auth import Sessions, Staff, require_role
from knowledge import clusters, entries, learning, usage, versions
from knowledge.config import IndexConfig
from knowledge.draft import Drafts
from knowledge.importer import ImportErrors, dump_file, parse_file
from knowledge.learning import active_learned, merge
from knowledge.live import LiveIndex
from knowledge.store import import_entries, list_entries
from knowledge.tables import UnansweredQuestion
from knowledge.types import FaqEntry, SearchResult
from service.admin_routes import parse_limit

ROLES = ("editor",)
TRY_MAX = 500
TRY_CANDIDATES = 5
IMPORT_MAX = 5 * 1024 * 1024
MAX_RANGE_DAYS = 366
CLUSTER_SCAN = 2000


def create_blueprint(
    staff_sessions: Sessions,
    sessions: async_sessionmaker[AsyncSession],
    knowledge_dir: Path,
    *,
    config: IndexConfig | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Blueprint:
    bp = Blueprint("knowledge_editor", url_prefix="/api/knowledge")
    editor = require_role(staff_sessions, ROLES)
    index_config = config or IndexConfig()
    live = LiveIndex(knowledge_dir, index_config)
    drafts = Drafts(knowledge_dir, index_config)

    def actor(request: Request) -> str:
        staff: Staff = request.ctx.staff
        return staff.username

    # -- entries -------------------------------------------------------------------------------

    @bp.get("/entries")
    @editor
    async def list_(request: Request) -> HTTPResponse:
        args = request.args
        flt = entries.EntryFilter(
            q=_short(args.get("q"), "q", 200),
            lang=_choice(args.get("lang"), LANGS, "lang"),
            tag=_short(args.get("tag"), "tag", 100),
            enabled=_bool_arg(args.get("enabled")),
            limit=parse_limit(args.get("limit")),
            offset=_offset(args.get("offset")),
        )
        async with sessions() as session:
            rows, total = await entries.list_entries(session, flt)
        return json({"entries": [entries.entry_json(e) for e in rows], "total": total})

    @bp.post("/entries")
    @editor
    async def create(request: Request) -> HTTPResponse:
        entry = entries.parse_entry(parse_json_object(request.body))
        async with sessions.begin() as session:
            await entries.create_entry(session, entry, actor=actor(request), now=clock())
        return json({"entry": entries.entry_json(entry)}, status=201)

    @bp.get("/entries/<key:str>")
    @editor
    async def get(request: Request, key: str) -> HTTPResponse:
        async with sessions() as session:
            entry = await entries.get_entry(session, unquote(key))
        return json({"entry": entries.entry_json(entry)})

    @bp.put("/entries/<key:str>")
    @editor
    async def put(request: Request, key: str) -> HTTPResponse:
        key = unquote(key)
        body = parse_json_object(request.body)
        if "key" in body and body["key"] != key:
            raise ValidationFailed("the key in the body differs from the one in the path", code="invalid_key")
        entry = entries.parse_entry(body, key=key)
        async with sessions.begin() as session:
            await entries.update_entry(session, entry, actor=actor(request), now=clock())
        return json({"entry": entries.entry_json(entry)})

    @bp.delete("/entries/<key:str>")
    @editor
    async def delete(request: Request, key: str) -> HTTPResponse:
        async with sessions.begin() as session:
            await entries.delete_entry(session, unquote(key), actor=actor(request), now=clock())
        return HTTPResponse(status=204)

    @bp.get("/entries/<key:str>/history")
    @editor
    async def history(request: Request, key: str) -> HTTPResponse:
        limit = parse_limit(request.args.get("limit"))
        async with sessions() as session:
            rows = await entries.history(session, unquote(key), limit)
        return json({"history": [entries.change_json(r) for r in rows]})

    # -- import / export -----------------------------------------------------------------------

    @bp.get("/export")
    @editor
    async def export(request: Request) -> HTTPResponse:
        fmt = _choice(request.args.get("format", "yaml"), ("yaml", "csv"), "format") or "yaml"
        async with sessions() as session:
            rows = await list_entries(session)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"faq.{fmt}"
            dump_file(rows, path)
            body = path.read_text(encoding="utf-8")
        mime = "text/csv" if fmt == "csv" else "application/yaml"
        return text(
            body,
            content_type=f"{mime}; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="faq.{fmt}"'},
        )

    @bp.post("/import")
    @editor
    async def import_(request: Request) -> HTTPResponse:
        fmt = _choice(request.args.get("format"), ("yaml", "csv"), "format")
        if fmt is None:
            raise ValidationFailed("format must be yaml or csv", code="invalid_format")
        replace = _bool_arg(request.args.get("replace")) or False
        raw = request.body or b""
        if len(raw) > IMPORT_MAX:
            raise ValidationFailed("the file is larger than 5 MB", code="import_too_large")
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"faq.{fmt}"
            path.write_bytes(raw)
            try:
                parsed = parse_file(path)
            except ImportErrors as exc:
                raise ValidationFailed(str(exc), code="knowledge_import_invalid") from exc
            except UnicodeDecodeError as exc:
                raise ValidationFailed("the file is not UTF-8 text", code="knowledge_import_invalid") from exc
        now, who = clock(), actor(request)
        async with sessions.begin() as session:
            before = {e.key: e for e in await entries.all_entries(session)}
            counts = await import_entries(session, parsed, replace=replace)
            for entry in parsed:
                if before.get(entry.key) != entry:
                    entries.record_change(
                        session, entry.key, "import", who, before.get(entry.key), entry, now
                    )
            if replace:
                for key in set(before) - {e.key for e in parsed}:
                    entries.record_change(session, key, "delete", who, before[key], None, now)
        return json({"imported": counts})

    # -- try -----------------------------------------------------------------------------------

    @bp.post("/try")
    @editor
    async def try_(request: Request) -> HTTPResponse:
        body = parse_json_object(request.body)
        question = body.get("text")
        if not isinstance(question, str) or not question.strip() or len(question) > TRY_MAX:
            raise ValidationFailed(f"text must be 1-{TRY_MAX} characters", code="invalid_text")
        lang = _choice(body.get("lang"), LANGS, "lang")
        draft = body.get("draft", False)
        if not isinstance(draft, bool):
            raise ValidationFailed("draft must be true or false", code="invalid_draft")
        if draft:
            async with sessions() as session:
                rows = merge(await list_entries(session, enabled_only=True), await active_learned(session))
            if not rows:
                raise ValidationFailed("there are no enabled FAQ entries", code="knowledge_empty")
            index = drafts.ready(rows)
            if index is None:
                return json({"building": True, "draft": True}, status=202)
            result = await asyncio.to_thread(index.search, question, lang, TRY_CANDIDATES)  # type: ignore[arg-type]
            version = None
        else:
            version, result = await asyncio.to_thread(
                live.search_versioned,
                question,
                lang,  # type: ignore[arg-type]
                TRY_CANDIDATES,
            )
        return json(_result_json(result) | {"version": version, "draft": draft})

    # -- versions ------------------------------------------------------------------------------

    @bp.post("/versions/<version:id>/activate")
    @editor
    async def activate(request: Request, version: int) -> HTTPResponse:
        async with sessions() as session:
            await versions.activate(session, knowledge_dir, version, actor(request))
        return json({"active": version})

    # -- unanswered clusters -------------------------------------------------------------------

    @bp.get("/unanswered/clusters")
    @editor
    async def unanswered_clusters(request: Request) -> HTTPResponse:
        limit = parse_limit(request.args.get("limit"))
        async with sessions() as session:
            rows = await learning.list_unanswered(session, status="open", limit=CLUSTER_SCAN)
        found = await asyncio.to_thread(clusters.cluster, rows)
        found = found[:limit]
        nearest = await asyncio.to_thread(_nearest, live, [c.representative() for c in found])
        out = []
        for c, near in zip(found, nearest, strict=True):
            out.append(
                {
                    "ids": c.ids,
                    "count": len(c.ids),
                    "samples": clusters.samples(c),
                    "lang": max(set(c.langs), key=c.langs.count),
                    "nearest": near,
                }
            )
        return json({"clusters": out})

    @bp.post("/unanswered/clusters/resolve")
    @editor
    async def resolve_cluster(request: Request) -> HTTPResponse:
        body = parse_json_object(request.body)
        ids = body.get("ids")
        if (
            not isinstance(ids, list)
            or not ids
            or len(ids) > CLUSTER_SCAN
            or not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i < 10**15 for i in ids)
        ):
            raise ValidationFailed("ids must be a non-empty list of question ids", code="invalid_ids")
        action = body.get("action")
        if action not in ("add", "create", "dismiss"):
            raise ValidationFailed('action must be "add", "create" or "dismiss"', code="invalid_action")
        now, who = clock(), actor(request)
        new_entry: FaqEntry | None = None
        if action == "create":
            raw = body.get("entry")
            if not isinstance(raw, dict):
                raise ValidationFailed("entry must be an object", code="invalid_entry")
            new_entry = entries.parse_entry(raw)
        async with sessions.begin() as session:
            rows = list(
                (
                    await session.scalars(select(UnansweredQuestion).where(UnansweredQuestion.id.in_(ids)))
                ).all()
            )
            if len(rows) != len(set(ids)):
                raise NotFound("some of these questions do not exist", code="unanswered_not_found")
            open_rows = [r for r in rows if r.status == "open"]
            key: str | None = None
            if new_entry is not None:
                texts = [learning.learnable(r.text) for r in open_rows]
                similar = tuple(t for t in dict.fromkeys([*new_entry.similar, *filter(None, texts)]) if t)
                new_entry = FaqEntry(
                    new_entry.key, new_entry.lang, new_entry.question, similar,
                    new_entry.answer, new_entry.tags, new_entry.enabled,
                )  # fmt: skip
                await entries.create_entry(session, new_entry, actor=who, now=now)
                key = new_entry.key
            elif action == "add":
                key = _key(body.get("key"))
                await entries.get_entry(session, key)  # 404 for an unknown entry
            learned: set[int] = set()
            for row in open_rows:
                if action == "add" and key is not None:
                    found = await learning.learn(
                        session, key, row.text, source="unanswered", source_id=row.id, actor=who
                    )
                    learned |= {found.id} if found is not None else set()
                row.status = "dismissed" if action == "dismiss" else "added"
                row.entry_key = key
                row.resolved_by = who
                row.resolved_at = now
        return json(
            {
                "resolved": len(open_rows),
                "skipped": len(rows) - len(open_rows),
                "learned": len(learned),
                "key": key,
                "entry": entries.entry_json(new_entry) if new_entry else None,
            }
        )

    # -- answers to review ---------------------------------------------------------------------

    @bp.get("/review")
    @editor
    async def review(request: Request) -> HTTPResponse:
        kind = _choice(request.args.get("kind"), usage.REVIEW_KINDS, "kind")
        limit = parse_limit(request.args.get("limit"))
        async with sessions() as session:
            rows = await usage.for_review(session, kind, limit)
        return json({"answers": [usage.answer_json(r) for r in rows]})

    @bp.post("/review/<answer_id:id>/resolve")
    @editor
    async def resolve_review(request: Request, answer_id: int) -> HTTPResponse:
        body = parse_json_object(request.body)
        action = body.get("action")
        if action not in ("add", "dismiss"):
            raise ValidationFailed('action must be "add" or "dismiss"', code="invalid_action")
        who = actor(request)
        async with sessions.begin() as session:
            row = await usage.resolve_review(session, answer_id, "added" if action == "add" else "dismissed")
            learned = None
            if action == "add":
                key = _key(body.get("key"))
                learned = await learning.learn(
                    session, key, row.question, source="unanswered", source_id=row.id, actor=who
                )
                if learned is None:
                    raise ValidationFailed(
                        "this question looks like personal data or is too long to learn; dismiss it",
                        code="not_learnable",
                    )
            out = {"answer": usage.answer_json(row)}
        return json(out)

    # -- usage ---------------------------------------------------------------------------------

    @bp.get("/usage")
    @editor
    async def usage_(request: Request) -> HTTPResponse:
        start, end = _range(request, clock())
        limit = parse_limit(request.args.get("limit"))
        async with sessions() as session:
            per_entry = await usage.entry_usage(session, start, end, limit)
        return json({"from": start.isoformat(), "to": end.isoformat(), "entries": per_entry})

    @bp.get("/hot")
    @editor
    async def hot(request: Request) -> HTTPResponse:
        start, end = _range(request, clock())
        limit = parse_limit(request.args.get("limit"))
        async with sessions() as session:
            rows = await usage.hot_questions(session, start, end, limit)
        return json({"from": start.isoformat(), "to": end.isoformat(), "questions": rows})

    return bp


def _nearest(live: LiveIndex, texts: list[str]) -> list[dict[str, Any] | None]:
    out: list[dict[str, Any] | None] = []
    for t in texts:
        try:
            result = live.search(t, k=1)
        except Unavailable:
            out.append(None)
            continue
        best = result.candidates[0] if result.candidates else None
        out.append({"key": best.key, "question": best.question, "score": best.score} if best else None)
    return out


def _result_json(result: SearchResult) -> dict[str, Any]:
    return {
        "decision": result.decision,
        "threshold": result.threshold,
        "candidates": [
            {"key": c.key, "question": c.question, "answer": c.answer, "score": c.score}
            for c in result.candidates
        ],
    }


def _choice(raw: Any, allowed: tuple[str, ...], field: str) -> str | None:
    if raw is None or raw == "" or raw == "all":
        return None
    if raw not in allowed:
        raise ValidationFailed(f"{field} must be one of {', '.join(allowed)}", code=f"invalid_{field}")
    return str(raw)


def _short(raw: Any, field: str, limit: int) -> str | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or len(raw) > limit:
        raise ValidationFailed(f"{field} must be at most {limit} characters", code=f"invalid_{field}")
    return raw.strip() or None


def _bool_arg(raw: Any) -> bool | None:
    if raw is None or raw == "" or raw == "all":
        return None
    if raw in ("true", "1"):
        return True
    if raw in ("false", "0"):
        return False
    raise ValidationFailed("a yes/no parameter must be true or false", code="invalid_flag")


def _offset(raw: Any) -> int:
    if raw is None:
        return 0
    if not isinstance(raw, str) or not raw.isascii() or not raw.isdigit() or int(raw) > 10_000_000:
        raise ValidationFailed("offset must be a whole number >= 0", code="invalid_offset")
    return int(raw)


def _key(raw: Any) -> str:
    if not isinstance(raw, str) or not raw.strip() or len(raw) > entries.KEY_MAX:
        raise ValidationFailed(
            f"key must be an FAQ entry key of 1-{entries.KEY_MAX} characters", code="invalid_key"
        )
    return raw.strip()


def _date(raw: Any, field: str) -> datetime | None:
    if raw is None or raw == "":
        return None
    try:
        value = datetime.fromisoformat(str(raw))
    except ValueError as exc:
        raise ValidationFailed(
            f"{field} must be an ISO date such as 2026-12-01", code="invalid_range"
        ) from exc
    return value if value.tzinfo else value.replace(tzinfo=utc_now().tzinfo)


def _range(request: Request, now: datetime) -> tuple[datetime, datetime]:
    """``from`` (default 7 days ago) to ``to`` (default now); a bare date in ``to`` includes that day."""
    end = _date(request.args.get("to"), "to")
    if end is not None and len(str(request.args.get("to"))) == 10:
        end += timedelta(days=1)
    end = end or now
    start = _date(request.args.get("from"), "from") or end - timedelta(days=7)
    if start >= end or end - start > timedelta(days=MAX_RANGE_DAYS):
        raise ValidationFailed(
            f"from must be before to, at most {MAX_RANGE_DAYS} days apart", code="invalid_range"
        )
    return start, end
