"""Knowledge editors' API: unanswered questions -> learned wordings -> a published version; an
unedited FAQ suggestion an agent sends is learned too. Real Redis and SQLite, scripted bot."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from sanic import Sanic
from sanic_testing.testing import SanicASGITestClient

from knowledge.config import IndexConfig
from knowledge.encoders import minilm_path
from knowledge.index import load_index
from knowledge.live import published_version, version_dir
from knowledge.store import import_entries
from service.app import create_app
from service.deps import Deps
from tests.knowledge.kb import ENTRIES
from tests.service.test_agent_api import say, staff_member

Headers = dict[str, str]


async def _unanswered(
    client: SanicASGITestClient, editor: Headers, status: str = "open"
) -> list[dict[str, str]]:
    _, resp = await client.get("/api/knowledge/unanswered", params={"status": status}, headers=editor)
    assert resp.status == 200, resp.text
    rows: list[dict[str, str]] = resp.json["unanswered"]
    return rows


async def test_editor_files_a_declined_question_and_publishes_it(
    client: SanicASGITestClient, deps: Deps
) -> None:
    async with deps.sessions.begin() as session:
        await import_entries(session, ENTRIES, replace=False)
    editor = await staff_member(client, deps, "ed", role="editor")
    agent = await staff_member(client, deps, "ag", role="agent")
    await say(client, "v1", "帮我写一首诗")  # the scripted bot declines (low confidence)
    await say(client, "v2", "帮我写一首诗，关于退款")

    _, resp = await client.get("/api/knowledge/unanswered", headers=agent)
    assert resp.status == 403 and resp.json["error"]["code"] == "forbidden_role"
    _, resp = await client.get("/api/knowledge/unanswered")
    assert resp.status == 401
    first, second = sorted(await _unanswered(client, editor), key=lambda q: q["id"])
    assert (first["text"], first["status"]) == ("帮我写一首诗", "open")

    url = f"/api/knowledge/unanswered/{second['id']}/resolve"
    _, resp = await client.post(url, json={"action": "add", "key": "refund-time"}, headers=editor)
    assert resp.status == 200, resp.text
    assert resp.json["unanswered"]["status"] == "added"
    assert resp.json["learned"]["text"] == "帮我写一首诗，关于退款"
    _, resp = await client.post(url, json={"action": "dismiss"}, headers=editor)
    assert (resp.status, resp.json["error"]["code"]) == (409, "already_resolved")
    _, resp = await client.post(
        f"/api/knowledge/unanswered/{first['id']}/resolve", json={"action": "dismiss"}, headers=editor
    )
    assert resp.json["unanswered"]["status"] == "dismissed"
    assert await _unanswered(client, editor) == []
    assert len(await _unanswered(client, editor, "all")) == 2

    _, resp = await client.post("/api/knowledge/publish", headers=editor)
    assert resp.status == 202
    _, again = await client.post("/api/knowledge/publish", headers=editor)
    assert (again.status, again.json["error"]["code"]) == (409, "publish_in_progress")
    versions = await _versions_once_built(client, editor, attempts=600)
    assert [v["published_by"] for v in versions] == ["ed"]
    assert published_version(deps.settings.knowledge_dir) == versions[0]["version"]


async def _versions_once_built(
    client: SanicASGITestClient, editor: Headers, *, attempts: int
) -> list[dict[str, Any]]:
    """The published versions, polled every 0.1 s until the background build is done."""
    for _ in range(attempts):
        _, resp = await client.get("/api/knowledge/versions", headers=editor)
        if not resp.json["publishing"] and resp.json["versions"]:
            break
        await asyncio.sleep(0.1)
    versions: list[dict[str, Any]] = resp.json["versions"]
    return versions


async def test_a_configured_model_is_built_into_the_published_version(deps: Deps) -> None:
    """KEFU_KNOWLEDGE_MODEL (here the MiniLM folder) reaches the editor's publish and the version."""
    deps.settings = replace(deps.settings, knowledge_model=minilm_path())
    Sanic.test_mode = True
    client = create_app(deps, name=f"kefu_model_{id(deps)}").asgi_client
    async with deps.sessions.begin() as session:
        await import_entries(session, ENTRIES, replace=False)
    editor = await staff_member(client, deps, "ed", role="editor")
    _, resp = await client.post("/api/knowledge/publish", headers=editor)
    assert resp.status == 202, resp.text
    version = (await _versions_once_built(client, editor, attempts=1200))[0]["version"]
    index = load_index(version_dir(deps.settings.knowledge_dir, version), IndexConfig())
    assert f"st:{minilm_path()}" in index.manifest.encoders
    assert index.search("退款要几天才能到账", lang="zh").candidates[0].key == "refund-time"
    await deps.close()


async def test_bad_editor_input_is_a_clear_4xx(client: SanicASGITestClient, deps: Deps) -> None:
    editor = await staff_member(client, deps, "ed2", role="editor")
    await say(client, "v3", "帮我写一首诗")
    (question,) = await _unanswered(client, editor)
    url = f"/api/knowledge/unanswered/{question['id']}/resolve"
    cases = [
        (url, {"action": "merge"}, 422, "invalid_action"),
        (url, {"action": "add"}, 422, "invalid_key"),
        (url, {"action": "add", "key": "k" * 129}, 422, "invalid_key"),
        (url, {"action": "add", "key": "no-such-entry"}, 404, "faq_entry_not_found"),
        ("/api/knowledge/unanswered/99999/resolve", {"action": "dismiss"}, 404, "unanswered_not_found"),
        ("/api/knowledge/learned/99999/reject", {}, 404, "learned_question_not_found"),
    ]
    for path, body, status, code in cases:
        _, resp = await client.post(path, json=body, headers=editor)
        assert (resp.status, resp.json["error"]["code"]) == (status, code), path
    _, resp = await client.post(url, content=b"[1]", headers=editor)
    assert resp.json["error"]["code"] == "invalid_json"
    for params, code in (({"status": "maybe"}, "invalid_status"), ({"limit": "0"}, "invalid_limit")):
        _, resp = await client.get("/api/knowledge/unanswered", params=params, headers=editor)
        assert (resp.status, resp.json["error"]["code"]) == (422, code)
    _, resp = await client.get("/api/knowledge/learned", params={"status": "gone"}, headers=editor)
    assert resp.json["error"]["code"] == "invalid_status"
    assert (await _unanswered(client, editor))[0]["status"] == "open"  # nothing changed


async def test_an_unedited_faq_suggestion_teaches_the_customers_wording(
    client: SanicASGITestClient, deps: Deps
) -> None:
    async with deps.sessions.begin() as session:
        await import_entries(session, ENTRIES, replace=False)
    alice = await staff_member(client, deps, "alice", skills=["general"], max_concurrent=2)
    editor = await staff_member(client, deps, "ed3", role="editor")
    conv = (await say(client, "v4", "帮我写一首诗"))["conversation_id"]
    await client.put("/api/agent/status", json={"status": "online"}, headers=alice)
    await say(client, "v4", "那我的钱啥时候退回来")
    send = f"/api/agent/conversations/{conv}/suggestions/send"
    for edited in (True, False):
        body = {"text": "1-3个工作日原路退回。", "source": "faq", "key": "refund-time", "edited": edited}
        _, resp = await client.post(send, json=body, headers=alice)
        assert resp.status == 200, resp.text

    _, resp = await client.get("/api/knowledge/learned", params={"key": "refund-time"}, headers=editor)
    (learned,) = resp.json["learned"]  # the edited send taught nothing; the unedited one did
    assert (learned["text"], learned["source"], learned["status"]) == (
        "那我的钱啥时候退回来",
        "suggestion",
        "active",
    )
    _, resp = await client.post(f"/api/knowledge/learned/{learned['id']}/reject", headers=editor)
    assert resp.json["learned"]["status"] == "rejected"
    _, resp = await client.get("/api/knowledge/learned", params={"status": "active"}, headers=editor)
    assert resp.json["learned"] == []
    _, resp = await client.post(f"/api/knowledge/learned/{learned['id']}/restore", headers=editor)
    assert resp.json["learned"]["status"] == "active"
