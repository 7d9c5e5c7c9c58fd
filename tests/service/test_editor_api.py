"""The knowledge editor's API against the real app (real Redis and SQLite, scripted bot): entries
with their history, import/export, try (active version and draft), rollback, unanswered clusters,
answers to review (the customer's rating, handoffs after an answer), usage and hot questions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from sanic_testing.testing import SanicASGITestClient

from core.types import BotReply
from knowledge.live import read_current
from knowledge.publish import publish
from knowledge.store import import_entries
from service.deps import Deps
from tests.knowledge.kb import ENTRIES, FAST
from tests.service.conftest import ScriptedBot
from tests.service.test_agent_api import say, staff_member
from tests.service.visitors import visitor_headers

Headers = dict[str, str]
CLUSTERS = "/api/knowledge/unanswered/clusters/resolve"
SIMILAR = ["什么时候发货", "几天能发货"]
ENTRY: dict[str, Any] = {
    "key": "shipping-time",
    "lang": "zh",
    "question": "多久发货？",
    "similar": SIMILAR,
    "answer": "下单后48小时内发货。",
    "tags": ["物流"],
    "enabled": True,
}
# One call per operation, for the role checks.
OPERATIONS: list[tuple[str, str, Any]] = [
    ("get", "/api/knowledge/entries", None),
    ("post", "/api/knowledge/entries", ENTRY),
    ("get", "/api/knowledge/entries/none", None),
    ("put", "/api/knowledge/entries/none", ENTRY),
    ("delete", "/api/knowledge/entries/none", None),
    ("get", "/api/knowledge/entries/none/history", None),
    ("get", "/api/knowledge/export", None),
    ("post", "/api/knowledge/import?format=yaml", None),
    ("post", "/api/knowledge/try", {"text": "退款"}),
    ("post", "/api/knowledge/versions/1/activate", None),
    ("get", "/api/knowledge/unanswered/clusters", None),
    ("post", CLUSTERS, {"ids": [1], "action": "dismiss"}),
    ("get", "/api/knowledge/review", None),
    ("post", "/api/knowledge/review/1/resolve", {"action": "dismiss"}),
    ("get", "/api/knowledge/usage", None),
    ("get", "/api/knowledge/hot", None),
]


async def call(client: SanicASGITestClient, method: str, path: str, body: Any, headers: Headers) -> Any:
    kwargs: dict[str, Any] = {"headers": headers}
    if body is not None:
        kwargs["json"] = body
    _, resp = await getattr(client, method)(path, **kwargs)
    return resp


async def test_every_operation_needs_the_editor_role(client: SanicASGITestClient, deps: Deps) -> None:
    agent = await staff_member(client, deps, "ag", role="agent")
    supervisor = await staff_member(client, deps, "sup", role="supervisor")
    admin = await staff_member(client, deps, "adm", role="admin")
    for method, path, body in OPERATIONS:
        resp = await call(client, method, path, body, {})
        assert resp.status == 401, (method, path)
        for headers in (agent, supervisor):
            resp = await call(client, method, path, body, headers)
            assert (resp.status, resp.json["error"]["code"]) == (403, "forbidden_role"), (method, path)
    # an admin gets past the role check (the answer is then about the request itself)
    for method, path, body in OPERATIONS:
        resp = await call(client, method, path, body, admin)
        assert resp.status not in (401, 403), (method, path, resp.text)


async def test_entries_crud_with_history(client: SanicASGITestClient, deps: Deps) -> None:
    ed = await staff_member(client, deps, "ed", role="editor")
    _, resp = await client.post("/api/knowledge/entries", json=ENTRY, headers=ed)
    assert resp.status == 201, resp.text
    assert resp.json["entry"]["similar"] == ENTRY["similar"]
    _, again = await client.post("/api/knowledge/entries", json=ENTRY, headers=ed)
    assert (again.status, again.json["error"]["code"]) == (409, "faq_entry_exists")
    other = ENTRY | {
        "key": "en-one",
        "lang": "en",
        "question": "How long is delivery?",
        "similar": [],
        "tags": [],
        "enabled": False,
    }
    _, resp = await client.post("/api/knowledge/entries", json=other, headers=ed)
    assert resp.status == 201

    async def keys(**params: str) -> list[str]:
        _, resp = await client.get("/api/knowledge/entries", params=params, headers=ed)
        assert resp.status == 200, resp.text
        return [e["key"] for e in resp.json["entries"]]

    assert await keys() == ["en-one", "shipping-time"]
    assert await keys(q="几天能") == ["shipping-time"]  # similar questions are searched too
    assert await keys(lang="en") == ["en-one"]
    assert await keys(tag="物流") == ["shipping-time"]
    assert await keys(enabled="false") == ["en-one"]
    assert await keys(limit="1", offset="1") == ["shipping-time"]

    changed = ENTRY | {"answer": "下单后24小时内发货。", "similar": [*SIMILAR, "啥时候发"]}
    _, resp = await client.put("/api/knowledge/entries/shipping-time", json=changed, headers=ed)
    assert resp.status == 200, resp.text
    _, resp = await client.get("/api/knowledge/entries/shipping-time", headers=ed)
    assert resp.json["entry"]["answer"] == "下单后24小时内发货。"
    _, resp = await client.delete("/api/knowledge/entries/shipping-time", headers=ed)
    assert resp.status == 204
    _, resp = await client.get("/api/knowledge/entries/shipping-time", headers=ed)
    assert (resp.status, resp.json["error"]["code"]) == (404, "faq_entry_not_found")

    _, resp = await client.get("/api/knowledge/entries/shipping-time/history", headers=ed)
    history = resp.json["history"]
    assert [h["action"] for h in history] == ["delete", "update", "create"]
    assert all(h["actor"] == "ed" for h in history)
    update = history[1]
    assert (
        update["before"]["answer"] == ENTRY["answer"] and update["after"]["answer"] == "下单后24小时内发货。"
    )
    assert history[0]["after"] is None and history[2]["before"] is None


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("post", "/api/knowledge/entries", ENTRY | {"key": ""}, 422, "invalid_key"),
        ("post", "/api/knowledge/entries", ENTRY | {"lang": "fr"}, 422, "invalid_entry"),
        ("post", "/api/knowledge/entries", ENTRY | {"answer": " "}, 422, "invalid_entry"),
        ("post", "/api/knowledge/entries", ENTRY | {"similar": [{"a": 1}]}, 422, "invalid_entry"),
        ("post", "/api/knowledge/entries", ENTRY | {"enabled": "yes"}, 422, "invalid_entry"),
        ("post", "/api/knowledge/entries", ENTRY | {"question": "q" * 501}, 422, "invalid_entry"),
        ("put", "/api/knowledge/entries/other", ENTRY, 422, "invalid_key"),
        ("put", "/api/knowledge/entries/missing", ENTRY | {"key": "missing"}, 404, "faq_entry_not_found"),
        ("get", "/api/knowledge/entries?lang=fr", None, 422, "invalid_lang"),
        ("get", "/api/knowledge/entries?enabled=maybe", None, 422, "invalid_flag"),
        ("get", "/api/knowledge/entries?offset=-1", None, 422, "invalid_offset"),
        ("get", "/api/knowledge/entries?limit=0", None, 422, "invalid_limit"),
        ("get", "/api/knowledge/export?format=xml", None, 422, "invalid_format"),
        ("post", "/api/knowledge/import", None, 422, "invalid_format"),
        ("post", "/api/knowledge/try", {"text": ""}, 422, "invalid_text"),
        ("post", "/api/knowledge/try", {"text": "x", "lang": "fr"}, 422, "invalid_lang"),
        ("post", "/api/knowledge/try", {"text": "x", "draft": "yes"}, 422, "invalid_draft"),
        ("post", "/api/knowledge/try", {"text": "x"}, 503, "knowledge_not_published"),
        ("post", "/api/knowledge/versions/7/activate", None, 404, "version_not_found"),
        ("post", CLUSTERS, {"ids": [], "action": "add"}, 422, "invalid_ids"),
        ("post", CLUSTERS, {"ids": [1], "action": "x"}, 422, "invalid_action"),
        ("post", CLUSTERS, {"ids": [9], "action": "dismiss"}, 404, "unanswered_not_found"),
        ("get", "/api/knowledge/review?kind=x", None, 422, "invalid_kind"),
        ("post", "/api/knowledge/review/9/resolve", {"action": "dismiss"}, 404, "answer_not_found"),
        ("get", "/api/knowledge/usage?from=yesterday", None, 422, "invalid_range"),
        ("get", "/api/knowledge/hot?from=2026-12-02&to=2026-12-01", None, 422, "invalid_range"),
    ],
)  # fmt: skip
async def test_bad_input_is_a_clear_4xx(
    client: SanicASGITestClient, deps: Deps, method: str, path: str, body: Any, status: int, code: str
) -> None:
    ed = await staff_member(client, deps, "ed", role="editor")
    resp = await call(client, method, path, body, ed)
    assert (resp.status, resp.json["error"]["code"]) == (status, code), resp.text


async def test_import_and_export_from_the_page(client: SanicASGITestClient, deps: Deps) -> None:
    ed = await staff_member(client, deps, "ed", role="editor")
    records = [{"id": e.key, "lang": e.lang, "question": e.question, "answer": e.answer} for e in ENTRIES[:2]]
    _, resp = await client.post(
        "/api/knowledge/import?format=yaml", content=yaml.safe_dump(records, allow_unicode=True), headers=ed
    )
    assert resp.status == 200, resp.text
    assert resp.json["imported"]["added"] == 2
    _, resp = await client.get("/api/knowledge/export?format=csv", headers=ed)
    assert resp.status == 200 and "refund-time" in resp.text and "invoice" in resp.text
    _, resp = await client.get("/api/knowledge/entries/refund-time/history", headers=ed)
    assert [h["action"] for h in resp.json["history"]] == ["import"]
    _, resp = await client.post("/api/knowledge/import?format=csv", content="id,lang\nx,fr\n", headers=ed)
    assert (resp.status, resp.json["error"]["code"]) == (422, "knowledge_import_invalid")


async def _published(deps: Deps, count: int) -> int:
    async with deps.sessions.begin() as session:
        await import_entries(session, ENTRIES[:count], replace=True)
    return (await publish(deps.sessions, deps.settings.knowledge_dir, FAST)).version


async def _try(client: SanicASGITestClient, ed: Headers, text: str, **kw: Any) -> dict[str, Any]:
    _, resp = await client.post("/api/knowledge/try", json={"text": text, **kw}, headers=ed)
    assert resp.status == 200, resp.text
    body: dict[str, Any] = resp.json
    return body


async def test_try_and_roll_back_a_version(client: SanicASGITestClient, deps: Deps) -> None:
    ed = await staff_member(client, deps, "ed", role="editor")
    first = await _published(deps, 4)
    second = await _published(deps, len(ENTRIES))
    found = await _try(client, ed, "my card is lost", lang="en")
    assert found["version"] == second and found["decision"] == "answer"
    assert found["candidates"][0]["key"] == "card-lost" and 0 < found["candidates"][0]["score"] <= 1

    _, resp = await client.get("/api/knowledge/versions", headers=ed)
    rows = resp.json["versions"]
    assert resp.json["active"] == second and rows[0]["active"] and not rows[1]["active"]
    assert "card-lost" in rows[0]["changes"]["added"] and rows[0]["changes"]["removed"] == []
    assert rows[1]["changes"]["added"] == sorted(e.key for e in ENTRIES[:4])

    _, resp = await client.post(f"/api/knowledge/versions/{first}/activate", headers=ed)
    assert resp.status == 200 and resp.json["active"] == first
    assert read_current(deps.settings.knowledge_dir) == first
    for _ in range(100):  # the live index notices within a second and swaps in the background
        found = await _try(client, ed, "my card is lost", lang="en")
        if found["version"] == first:
            break
        await asyncio.sleep(0.1)
    assert found["version"] == first
    assert "card-lost" not in [c["key"] for c in found["candidates"]]


async def test_try_the_draft(client: SanicASGITestClient, deps: Deps) -> None:
    ed = await staff_member(client, deps, "ed", role="editor")
    await _published(deps, 4)
    _, resp = await client.post("/api/knowledge/entries", json=ENTRY, headers=ed)
    assert resp.status == 201
    active = await _try(client, ed, "几天能发货", lang="zh")
    assert "shipping-time" not in [c["key"] for c in active["candidates"]]
    for _ in range(1200):  # the draft builds in the background; the try box asks again meanwhile
        _, resp = await client.post(
            "/api/knowledge/try", json={"text": "几天能发货", "lang": "zh", "draft": True}, headers=ed
        )
        if resp.status == 200:
            break
        assert (resp.status, resp.json) == (202, {"building": True, "draft": True})
        await asyncio.sleep(0.1)
    draft = resp.json
    assert draft["draft"] is True and draft["candidates"][0]["key"] == "shipping-time"


async def test_unanswered_clusters_resolved_in_one_step(client: SanicASGITestClient, deps: Deps) -> None:
    ed = await staff_member(client, deps, "ed", role="editor")
    await _published(deps, len(ENTRIES))
    for n, text in enumerate(
        ["帮我写一首诗", "帮我写一首诗", "帮我写一首诗", "诗歌的格律是什么", "诗歌的格律是什么"]
    ):
        await say(client, f"c{n}", text)
    _, resp = await client.get("/api/knowledge/unanswered/clusters", headers=ed)
    assert resp.status == 200, resp.text
    clusters = resp.json["clusters"]
    assert clusters[0]["count"] == 3 and clusters[0]["samples"] == ["帮我写一首诗"]
    assert sum(c["count"] for c in clusters) == 5
    assert clusters[0]["nearest"] is None or set(clusters[0]["nearest"]) == {"key", "question", "score"}

    entry = ENTRY | {"key": "poems", "question": "能写诗吗？", "similar": [], "answer": "不能。"}
    _, resp = await client.post(
        "/api/knowledge/unanswered/clusters/resolve",
        json={"ids": clusters[0]["ids"], "action": "create", "entry": entry},
        headers=ed,
    )
    assert resp.status == 200, resp.text
    assert resp.json["resolved"] == 3 and resp.json["entry"]["similar"] == ["帮我写一首诗"]
    _, resp = await client.get("/api/knowledge/entries/poems", headers=ed)
    assert resp.json["entry"]["similar"] == ["帮我写一首诗"]
    _, again = await client.post(
        "/api/knowledge/unanswered/clusters/resolve",
        json={"ids": clusters[0]["ids"], "action": "dismiss"},
        headers=ed,
    )
    assert again.json["resolved"] == 0 and again.json["skipped"] == 3

    rest = [i for c in clusters[1:] for i in c["ids"]]
    _, resp = await client.post(
        "/api/knowledge/unanswered/clusters/resolve",
        json={"ids": rest, "action": "add", "key": "poems"},
        headers=ed,
    )
    assert resp.json["resolved"] == 2 and resp.json["learned"] == 1  # one wording, learned once
    _, resp = await client.get("/api/knowledge/learned", params={"key": "poems"}, headers=ed)
    assert [r["text"] for r in resp.json["learned"]] == ["诗歌的格律是什么"]
    _, resp = await client.get("/api/knowledge/unanswered/clusters", headers=ed)
    assert resp.json["clusters"] == []


def answering(bot: ScriptedBot) -> None:
    """The scripted bot answers questions about refunds from the FAQ, and hands off on 人工."""
    scripted = bot.send

    async def send(sender: str, text: str, metadata: dict[str, Any]) -> list[BotReply]:
        if "退款" in text:
            answer = {"kefu": {"answer": {"key": "refund-time", "score": 0.7, "margin": 0.05}}}
            return [BotReply(text="1-3个工作日。"), BotReply(custom=answer)]
        if text == "人工":
            handoff = {"kefu": {"handoff": {"reason": "customer_request", "candidates": []}}}
            return [BotReply(text="好的，为您转人工。", custom=handoff)]
        return await scripted(sender, text, metadata)

    bot.send = send  # type: ignore[method-assign]


async def test_customer_rating_review_usage_and_hot(
    client: SanicASGITestClient, deps: Deps, bot: ScriptedBot
) -> None:
    answering(bot)
    ed = await staff_member(client, deps, "ed", role="editor")
    async with deps.sessions.begin() as session:
        await import_entries(session, ENTRIES, replace=True)
    first = await say(client, "v1", "退款多久")
    conv, (reply,) = first["conversation_id"], first["replies"]
    assert reply["rateable"] is True  # the widget shows "was this helpful?" under it
    assert "rateable" not in (await say(client, "v3", "你好"))["replies"][0]
    await say(client, "v2", "退款多久")
    await say(client, "v2", "人工")
    url = f"/api/web/conversations/{conv}/messages/{reply['id']}/feedback"
    _, resp = await client.post(url, json={"helpful": False})  # no token
    assert (resp.status, resp.json["error"]["code"]) == (401, "invalid_visitor_token")
    _, resp = await client.post(url, json={"helpful": False}, headers=visitor_headers(client, "v2"))
    assert (resp.status, resp.json["error"]["code"]) == (404, "conversation_not_found")  # not theirs
    _, resp = await client.post(url, json={"helpful": "no"}, headers=visitor_headers(client, "v1"))
    assert (resp.status, resp.json["error"]["code"]) == (422, "invalid_helpful")
    bad = f"/api/web/conversations/{conv}/messages/{reply['id'] + 999}/feedback"
    _, resp = await client.post(bad, json={"helpful": False}, headers=visitor_headers(client, "v1"))
    assert (resp.status, resp.json["error"]["code"]) == (404, "answer_not_found")
    _, resp = await client.post(url, json={"helpful": False}, headers=visitor_headers(client, "v1"))
    assert resp.status == 200, resp.text

    async def review(kind: str) -> list[dict[str, Any]]:
        _, resp = await client.get("/api/knowledge/review", params={"kind": kind}, headers=ed)
        assert resp.status == 200, resp.text
        rows: list[dict[str, Any]] = resp.json["answers"]
        return rows

    (unhelpful,) = await review("unhelpful")
    assert (unhelpful["message_id"], unhelpful["question"], unhelpful["key"]) == (
        reply["id"],
        "退款多久",
        "refund-time",
    )
    (handed,) = await review("handoff")
    assert handed["conversation_id"] != conv and handed["handed_off"]
    assert len(await review("low_margin")) == 2

    _, resp = await client.post(
        f"/api/knowledge/review/{unhelpful['id']}/resolve",
        json={"action": "add", "key": "invoice"},
        headers=ed,
    )
    assert resp.status == 200 and resp.json["answer"]["review"] == "added"
    _, resp = await client.get("/api/knowledge/learned", params={"key": "invoice"}, headers=ed)
    assert [r["text"] for r in resp.json["learned"]] == ["退款多久"]
    assert [r["id"] for r in await review("unhelpful")] == []

    today = datetime.now(UTC).date()
    days = {"from": str(today - timedelta(days=3)), "to": str(today + timedelta(days=1))}
    _, resp = await client.get("/api/knowledge/usage", params=days, headers=ed)
    assert resp.status == 200, resp.text
    assert resp.json["entries"] == [
        {"key": "refund-time", "answers": 2, "helpful": 0, "unhelpful": 1, "handoffs": 1}
    ]
    _, resp = await client.get("/api/knowledge/hot", params=days, headers=ed)
    assert resp.json["questions"] == [{"question": "退款多久", "count": 2, "key": "refund-time"}]
    _, resp = await client.get(
        "/api/knowledge/hot", params={"from": "2000-01-01", "to": "2000-02-01"}, headers=ed
    )
    assert resp.json["questions"] == []


async def test_a_key_with_spaces_markup_and_chinese_is_read_changed_and_deleted(
    client: SanicASGITestClient, deps: Deps
) -> None:
    """The editor sends a key URL-encoded in the path (encodeURIComponent), as any key may hold
    any character: the routes decode it."""
    ed = await staff_member(client, deps, "ed", role="editor")
    key = "退货 <b>运费</b> {{7*7}} 'a'"
    path = "/api/knowledge/entries/" + quote(key, safe="")
    _, resp = await client.post("/api/knowledge/entries", json=ENTRY | {"key": key}, headers=ed)
    assert resp.status == 201, resp.text
    _, resp = await client.get(path, headers=ed)
    assert resp.status == 200 and resp.json["entry"]["key"] == key, resp.text
    _, resp = await client.put(path, json=ENTRY | {"key": key, "answer": "改了"}, headers=ed)
    assert resp.status == 200, resp.text
    _, resp = await client.get(path + "/history", headers=ed)
    assert [h["action"] for h in resp.json["history"]] == ["update", "create"]
    _, resp = await client.delete(path, headers=ed)
    assert resp.status == 204
