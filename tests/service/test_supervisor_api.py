"""The supervisor API in process (real Redis, migrated SQLite, scripted bot): the floor follows
a queued customer and an assignment; an agent's reply with a forbidden word is recorded on the
conversation and listed as an alert; settings changes are audited; reports answer JSON and CSV;
every route checks the role and its input."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from sanic_testing.testing import SanicASGITestClient

from service.cli import main
from service.deps import Deps
from tests.service.test_agent_api import say, staff_member

Headers = dict[str, str]


async def floor(client: SanicASGITestClient, headers: Headers) -> dict[str, Any]:
    _, resp = await client.get("/api/supervisor/floor", headers=headers)
    assert resp.status == 200, resp.text
    body: dict[str, Any] = resp.json
    return body


def group(snapshot: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(g for g in snapshot["groups"] if g["group"] == name)
    return found


async def test_the_floor_follows_a_queued_customer_and_the_assignment(
    client: SanicASGITestClient, deps: Deps
) -> None:
    boss = await staff_member(client, deps, "boss", role="supervisor")
    alice = await staff_member(client, deps, "alice", skills=["general"], max_concurrent=2)
    before = await floor(client, boss)
    assert group(before, "general")["queue_length"] == 0 and before["totals"]["queued"] == 0
    [agent] = [a for a in before["agents"] if a["username"] == "alice"]
    assert agent["status"] == "offline" and agent["conversations"] == []

    conv = (await say(client, "floor-cust", "帮我写一首诗"))["conversation_id"]
    queued = await floor(client, boss)
    assert group(queued, "general")["queue_length"] == 1 and group(queued, "general")["queued"] == 1
    assert queued["totals"]["queued"] == 1

    await client.put("/api/agent/status", json={"status": "online"}, headers=alice)
    assigned = await floor(client, boss)
    [agent] = [a for a in assigned["agents"] if a["username"] == "alice"]
    assert agent["status"] == "online" and agent["load"] == 1
    assert [c["id"] for c in agent["conversations"]] == [conv]
    assert group(assigned, "general")["queue_length"] == 0 and group(assigned, "general")["with_agent"] == 1
    assert group(assigned, "general")["agents_online"] == 1


async def test_a_forbidden_word_in_a_reply_is_a_hit_on_the_conversation_and_an_alert(
    client: SanicASGITestClient, deps: Deps
) -> None:
    boss = await staff_member(client, deps, "boss", role="supervisor")
    alice = await staff_member(client, deps, "alice", skills=["general"])
    for kind, word, lang in (
        ("forbidden", "滚", "zh"),
        ("greeting", "您好", "zh"),
        ("closing", "再见", "zh"),
    ):
        _, resp = await client.post(
            "/api/supervisor/settings/words", json={"kind": kind, "word": word, "lang": lang}, headers=boss
        )
        assert resp.status == 201, resp.text
    conv = (await say(client, "rude-cust", "帮我写一首诗"))["conversation_id"]
    await client.put("/api/agent/status", json={"status": "online"}, headers=alice)
    _, resp = await client.post(
        f"/api/agent/conversations/{conv}/messages", json={"text": "你给我滚"}, headers=alice
    )
    assert resp.status == 200  # the reply is sent; the inspection only reports
    await client.post(f"/api/agent/conversations/{conv}/close", headers=alice)

    _, resp = await client.get(f"/api/supervisor/conversations/{conv}/quality", headers=boss)
    assert sorted((h["kind"], h["word"]) for h in resp.json["hits"]) == [
        ("forbidden", "滚"),
        ("missing_closing", ""),
        ("missing_greeting", ""),
    ]
    # (the queue alerts the background monitor may raise meanwhile are not under test here)
    words = "forbidden_word,missing_greeting,missing_closing"
    _, resp = await client.get("/api/supervisor/alerts", params={"lang": "zh", "type": words}, headers=boss)
    alerts = resp.json["alerts"]
    assert [a["type"] for a in alerts] == [
        "missing_closing",
        "missing_greeting",
        "forbidden_word",
    ]  # newest first
    forbidden = alerts[-1]
    assert forbidden["conversation_id"] == conv and forbidden["message"] == "alice 使用了禁用词：滚"
    assert forbidden["created_at"].endswith("+00:00")


async def test_an_upset_customer_is_an_alert_once_and_counts_in_the_score(
    client: SanicASGITestClient, deps: Deps
) -> None:
    boss = await staff_member(client, deps, "boss", role="supervisor")
    alice = await staff_member(client, deps, "alice", skills=["general"])
    conv = (await say(client, "angry-cust", "帮我写一首诗"))["conversation_id"]
    await client.put("/api/agent/status", json={"status": "online"}, headers=alice)
    await client.post(f"/api/agent/conversations/{conv}/messages", json={"text": "您好"}, headers=alice)
    for text in ("客服态度太恶劣了", "我的快递到哪了", "我要差评，太失望了", "东西坏的，你们就是骗子"):
        assert (await say(client, "angry-cust", text))["state"] == "agent"

    _, resp = await client.get(f"/api/supervisor/conversations/{conv}/quality", headers=boss)
    upset = [h["text"] for h in resp.json["hits"] if h["kind"] == "negative_sentiment"]
    assert upset == ["客服态度太恶劣了", "我要差评，太失望了", "东西坏的，你们就是骗子"]
    # the rule (on by default) wants 2 upset messages; the conversation is one condition
    _, resp = await client.get(
        "/api/supervisor/alerts", params={"lang": "en", "type": "negative_sentiment"}, headers=boss
    )
    [alert] = resp.json["alerts"]
    assert alert["conversation_id"] == conv and alert["resolved_at"] is None
    assert alert["message"] == f"Conversation {conv} with alice: the customer is upset (2)"

    await client.post(f"/api/agent/conversations/{conv}/close", headers=alice)
    _, resp = await client.get("/api/supervisor/alerts", params={"type": "negative_sentiment"}, headers=boss)
    assert resp.json["alerts"][0]["resolved_at"] is not None  # ended with the conversation
    _, resp = await client.get(f"/api/supervisor/quality/scores/{conv}", headers=boss)
    signals = resp.json["parts"]["signals"]
    assert (signals["upset_messages"], signals["customer_messages"]) == (3, 4)
    assert resp.json["parts"]["attitude"] == 62.5  # (100 words + 25 mood) / 2


async def test_rule_and_word_changes_are_validated_and_audited(
    client: SanicASGITestClient, deps: Deps
) -> None:
    boss = await staff_member(client, deps, "boss", role="supervisor")
    admin = await staff_member(client, deps, "root", role="admin")
    _, resp = await client.get("/api/supervisor/settings/alert-rules", headers=boss)
    rules = {r["kind"]: r for r in resp.json["rules"]}
    assert rules["queue_length"]["threshold"] == 10.0  # the seeded default
    rule_id = rules["queue_length"]["id"]
    _, resp = await client.put(
        f"/api/supervisor/settings/alert-rules/{rule_id}", json={"threshold": 3, "group": "vip"}, headers=boss
    )
    assert (
        resp.status == 200 and resp.json["rule"]["threshold"] == 3.0 and resp.json["rule"]["group"] == "vip"
    )
    for bad, code in (
        ({"threshold": -1}, "invalid_threshold"),
        ({"threshold": "x"}, "invalid_threshold"),
        ({"webhook_url": "ftp://x"}, "invalid_webhook_url"),
        ({"enabled": "yes"}, "invalid_enabled"),
    ):
        _, resp = await client.put(f"/api/supervisor/settings/alert-rules/{rule_id}", json=bad, headers=boss)
        assert resp.status == 422 and resp.json["error"]["code"] == code
    _, resp = await client.post("/api/supervisor/settings/alert-rules", json={"kind": "nope"}, headers=boss)
    assert resp.status == 422 and resp.json["error"]["code"] == "invalid_rule_kind"
    _, resp = await client.put("/api/supervisor/settings/alert-rules/999", json={}, headers=boss)
    assert resp.status == 404
    _, resp = await client.post(
        "/api/supervisor/settings/words", json={"kind": "rude", "word": "x"}, headers=boss
    )
    assert resp.status == 422 and resp.json["error"]["code"] == "invalid_word_kind"
    _, resp = await client.post(
        "/api/supervisor/settings/words",
        json={"kind": "forbidden", "word": "damn", "lang": "en"},
        headers=boss,
    )
    assert resp.status == 201
    _, again = await client.post(
        "/api/supervisor/settings/words",
        json={"kind": "forbidden", "word": "damn", "lang": "en"},
        headers=boss,
    )
    assert again.status == 409
    _, resp = await client.get("/api/admin/audit", headers=boss)
    assert resp.status == 403  # the audit log is the admins'
    _, resp = await client.get("/api/admin/audit", headers=admin)
    assert [(e["actor"], e["action"]) for e in resp.json["entries"]] == [
        ("boss", "word.add"),
        ("boss", "alert_rule.change"),
    ]


async def test_the_report_answers_json_and_csv(client: SanicASGITestClient, deps: Deps) -> None:
    boss = await staff_member(client, deps, "boss", role="supervisor")
    await say(client, "report-cust", "hello")
    params = {"from": "2000-01-01", "to": "2000-01-31"}
    _, resp = await client.get("/api/reports/overview", params=params, headers=boss)
    assert resp.status == 200 and resp.json["conversations"] == 0 and len(resp.json["by_day"]) == 31
    assert resp.json["timezone"] == "Asia/Shanghai"
    _, resp = await client.get("/api/reports/overview", params={**params, "format": "csv"}, headers=boss)
    assert resp.status == 200 and resp.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(resp.text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["section", "key", "conversations"] and rows[1][2] == "0"
    _, resp = await client.get("/api/reports/overview", params={"from": "x", "to": "y"}, headers=boss)
    assert resp.status == 422 and resp.json["error"]["code"] == "invalid_from"
    _, resp = await client.get("/api/reports/overview", params={**params, "format": "xml"}, headers=boss)
    assert resp.status == 422


@pytest.mark.parametrize(
    "path",
    [
        "/api/supervisor/floor",
        "/api/supervisor/alerts",
        "/api/supervisor/settings/alert-rules",
        "/api/reports/overview?from=2026-01-01&to=2026-01-02",
    ],
)
async def test_agents_and_strangers_may_not_supervise(
    client: SanicASGITestClient, deps: Deps, path: str
) -> None:
    agent = await staff_member(client, deps, "plain", role="agent")
    _, resp = await client.get(path, headers=agent)
    assert resp.status == 403 and resp.json["error"]["code"] == "forbidden_role"
    _, resp = await client.get(path)
    assert resp.status == 401


def test_kefu_quality_words_add(
    tmp_path: Path, deps: Deps, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    monkeypatch.setenv("DATABASE_URL", deps.settings.database_url)
    assert main(["quality", "words", "add", "forbidden", "stupid", "--lang", "en"]) == 0
    assert main(["quality", "words", "add", "forbidden", "stupid", "--lang", "en"]) == 2  # exists
    assert main(["quality", "words", "list"]) == 0
    out = capsys.readouterr().out
    assert "added forbidden word 'stupid' (en)" in out and "\tforbidden\ten\tstupid" in out


async def test_a_closed_conversation_is_scored_overridden_and_kept_as_a_case(
    client: SanicASGITestClient, deps: Deps
) -> None:
    boss = await staff_member(client, deps, "boss", role="supervisor")
    alice = await staff_member(client, deps, "alice", skills=["general"])
    await client.post(
        "/api/supervisor/settings/words", json={"kind": "forbidden", "word": "笨", "lang": "zh"}, headers=boss
    )
    conv = (await say(client, "scored-cust", "帮我写一首诗"))["conversation_id"]
    await client.put("/api/agent/status", json={"status": "online"}, headers=alice)
    await client.post(f"/api/agent/conversations/{conv}/messages", json={"text": "你真笨"}, headers=alice)
    await client.post(f"/api/agent/conversations/{conv}/close", headers=alice)

    _, resp = await client.get(f"/api/supervisor/quality/scores/{conv}", headers=boss)
    assert resp.status == 200, resp.text
    score = resp.json
    # attitude 100 - 50 (one forbidden word) = 50; no suggestion: accuracy left out; the reply
    # came at once: process 100 -> (40 * 50 + 20 * 100) / 60
    assert score["parts"]["attitude"] == 50.0 and score["parts"]["accuracy"] is None
    assert score["score"] == 66.7 and score["override"] is None
    _, resp = await client.put(
        f"/api/supervisor/quality/scores/{conv}/override",
        json={"score": 20, "comment": "辱骂客户"},
        headers=boss,
    )
    assert resp.json["score"] == 66.7 and resp.json["final_score"] == 20.0  # both kept
    assert resp.json["override"]["by"] == "boss"
    _, bad = await client.put(
        f"/api/supervisor/quality/scores/{conv}/override", json={"score": 20}, headers=boss
    )
    assert bad.status == 422 and bad.json["error"]["code"] == "invalid_comment"

    _, resp = await client.get("/api/supervisor/quality/scores", headers=boss)
    assert resp.json["scored"] == 1 and resp.json["worst"][0]["conversation_id"] == conv
    assert resp.json["by_agent"] == [{"agent": "alice", "count": 1, "avg": 20.0}]
    _, resp = await client.get("/api/supervisor/quality/day", headers=boss)
    [row] = [a for a in resp.json["by_agent"] if a["agent"] == "alice"]
    assert row["types"]["forbidden_word"] == 1 and row["conversations"] == [conv]

    _, resp = await client.post(
        f"/api/supervisor/quality/cases/{conv}",
        json={"verdict": "bad", "tag": "辱骂", "comment": "勿学"},
        headers=boss,
    )
    assert resp.status == 201
    _, resp = await client.get("/api/cases", params={"verdict": "bad"}, headers=alice)  # agents read it
    assert [(c["conversation_id"], c["tag"]) for c in resp.json["cases"]] == [(conv, "辱骂")]
    _, resp = await client.post(
        f"/api/supervisor/quality/cases/{conv}", json={"verdict": "meh"}, headers=boss
    )
    assert resp.status == 422
    _, resp = await client.post("/api/supervisor/quality/cases/nope", json={"verdict": "good"}, headers=boss)
    assert resp.status == 404


async def test_the_rubric_is_configurable(client: SanicASGITestClient, deps: Deps) -> None:
    boss = await staff_member(client, deps, "boss", role="supervisor")
    _, resp = await client.get("/api/supervisor/settings/rubric", headers=boss)
    assert resp.json["weights"] == {"attitude": 40.0, "accuracy": 40.0, "process": 20.0}
    _, resp = await client.put(
        "/api/supervisor/settings/rubric",
        json={"weights": {"attitude": 50, "accuracy": 30, "process": 20}},
        headers=boss,
    )
    assert resp.status == 200
    _, resp = await client.get("/api/supervisor/settings/rubric", headers=boss)
    assert resp.json["weights"]["attitude"] == 50.0
    _, resp = await client.put("/api/supervisor/settings/rubric", json={"weights": {"x": 1}}, headers=boss)
    assert resp.status == 422 and resp.json["error"]["code"] == "invalid_weights"
