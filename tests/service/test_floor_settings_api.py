"""The floor settings API in process (real Redis, migrated SQLite, scripted bot): who may change
groups and routing rules, the codes bad input gets, the audit log, and that the running desk
follows a change at once: the next handoff goes to the new group, overflows at the new limit,
is assigned by the group's new policy, and another replica routes the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sanic_testing.testing import SanicASGITestClient

from core.types import Channel, HandoffReason, HandoffRequest
from service.deps import Deps
from tests.service.conftest import ScriptedBot, make_deps
from tests.service.test_agent_api import staff_member
from tests.service.visitors import visitor_headers

Headers = dict[str, str]
GROUPS = "/api/supervisor/settings/groups"
RULES = "/api/supervisor/settings/routing-rules"
ENGLISH = {"name": "english", "display_zh": "英语", "display_en": "English"}
ENGLISH_FIRST = {
    "rules": [{"group": "vip", "tier": "S"}, {"group": "english", "lang": "en"}, {"group": "general"}]
}


async def ask_for_a_human(client: SanicASGITestClient, visitor: str, lang: str) -> dict[str, Any]:
    """The scripted bot hands off on "诗"; the language comes from the widget."""
    _, resp = await client.post(
        "/api/web/messages",
        json={"visitor_id": visitor, "text": "poem 诗", "lang": lang},
        headers=visitor_headers(client, visitor),
    )
    assert resp.status == 200, resp.text
    body: dict[str, Any] = resp.json
    return body


async def audit_actions(client: SanicASGITestClient, admin: Headers) -> list[tuple[str, str, str]]:
    _, resp = await client.get("/api/admin/audit", headers=admin)
    assert resp.status == 200, resp.text
    return [(e["actor"], e["action"], e["target"]) for e in reversed(resp.json["entries"])]


async def test_only_supervisors_and_admins_read_and_change(client: SanicASGITestClient, deps: Deps) -> None:
    for role in ("agent", "editor"):
        who = await staff_member(client, deps, f"{role}-x", role=role)
        for method, url, body in (
            ("get", GROUPS, None),
            ("post", GROUPS, ENGLISH),
            ("put", f"{GROUPS}/general", {"display_en": "All"}),
            ("delete", f"{GROUPS}/vip", None),
            ("get", RULES, None),
            ("put", RULES, ENGLISH_FIRST),
        ):
            extra = {} if body is None else {"json": body}
            _, resp = await getattr(client, method)(url, headers=who, **extra)
            assert resp.status == 403 and resp.json["error"]["code"] == "forbidden_role", (role, method, url)
    _, resp = await client.get(GROUPS)
    assert resp.status == 401
    for role in ("supervisor", "admin"):
        who = await staff_member(client, deps, f"{role}-x", role=role)
        _, resp = await client.get(GROUPS, headers=who)
        assert resp.status == 200
        assert [g["name"] for g in resp.json["groups"]] == ["general", "vip"]  # the seed
        assert resp.json["groups"][0] == {
            "name": "general",
            "display_zh": "综合",
            "display_en": "General",
            "steps": ["sticky", "skill", "least_load"],
            "overflow_max_length": 200,
            "overflow_max_wait": 1800.0,
            "enabled": True,
            "staff": [],
        }
        _, resp = await client.get(RULES, headers=who)
        assert [(r["group"], r["tier"]) for r in resp.json["rules"]] == [("vip", "S"), ("general", "")]


async def test_bad_input_gets_stable_codes_and_changes_are_audited(
    client: SanicASGITestClient, deps: Deps
) -> None:
    boss = await staff_member(client, deps, "boss", role="supervisor")
    root = await staff_member(client, deps, "root", role="admin")
    await staff_member(client, deps, "emma", skills=["english"])
    for body, status, code in (
        ({"name": "English"}, 422, "invalid_group"),
        ({}, 422, "invalid_group"),
        ({"name": "english", "steps": ["fastest"]}, 422, "invalid_group"),
        ({"name": "english", "overflow_max_length": -1}, 422, "invalid_group"),
        ({"name": "english", "overflow_max_wait": "soon"}, 422, "invalid_group"),
        ({"name": "english", "enabled": 1}, 422, "invalid_group"),
        ({"name": "general"}, 409, "group_exists"),
    ):
        _, resp = await client.post(GROUPS, json=body, headers=boss)
        assert resp.status == status and resp.json["error"]["code"] == code, (body, resp.text)
    _, resp = await client.post(GROUPS, content=b"{not json", headers=boss)
    assert resp.status == 422 and resp.json["error"]["code"] == "invalid_json"

    _, resp = await client.post(GROUPS, json=ENGLISH, headers=boss)
    assert resp.status == 201 and resp.json["group"]["display_en"] == "English"
    assert resp.json["group"]["overflow_max_length"] == 200  # the defaults for what is left out

    rule_cases: list[tuple[Any, int, str]] = [
        ({"rules": [{"group": "english", "lang": "fr"}]}, 422, "invalid_rule"),
        ({"rules": [{"group": "english", "tier": "gold"}]}, 422, "invalid_rule"),
        ({"rules": [{"group": "english", "channel": "fax"}]}, 422, "invalid_rule"),
        ({"rules": "english"}, 422, "invalid_rule"),
        ({"rules": [{"group": "french", "lang": "en"}]}, 409, "unknown_group"),
    ]
    for body, status, code in rule_cases:
        _, resp = await client.put(RULES, json=body, headers=boss)
        assert resp.status == status and resp.json["error"]["code"] == code, (body, resp.text)
    _, resp = await client.put(RULES, json=ENGLISH_FIRST, headers=boss)
    assert resp.status == 200 and [r["group"] for r in resp.json["rules"]] == ["vip", "english", "general"]

    group_cases: list[tuple[str, Any, int, str]] = [
        (f"{GROUPS}/english", {"steps": "skill"}, 422, "invalid_group"),
        (f"{GROUPS}/english", {"name": "british"}, 422, "invalid_group"),
        (f"{GROUPS}/general", {"enabled": False}, 409, "group_in_use"),
        (f"{GROUPS}/french", {"display_en": "French"}, 404, "group_not_found"),
        (f"{GROUPS}/Not%20A%20Group", {}, 404, "group_not_found"),
    ]
    for url, body, status, code in group_cases:
        _, resp = await client.put(url, json=body, headers=boss)
        assert resp.status == status and resp.json["error"]["code"] == code, (url, body, resp.text)
    _, resp = await client.put(f"{GROUPS}/english", json={"overflow_max_wait": None}, headers=root)
    assert resp.status == 200 and resp.json["group"]["overflow_max_wait"] is None

    for name, status, code in (
        ("english", 409, "group_in_use"),  # a rule sends to it (and emma serves it)
        ("general", 409, "group_in_use"),
        ("french", 404, "group_not_found"),
    ):
        _, resp = await client.delete(f"{GROUPS}/{name}", headers=boss)
        assert resp.status == status and resp.json["error"]["code"] == code, (name, resp.text)
    _, resp = await client.get(GROUPS, headers=boss)
    assert {g["name"]: g["staff"] for g in resp.json["groups"]}["english"] == ["emma"]
    _, resp = await client.delete(f"{GROUPS}/vip", headers=boss)
    assert resp.status == 409  # the first rule still sends tier S there
    _, resp = await client.put(RULES, json={"rules": [{"group": "general"}]}, headers=boss)
    assert resp.status == 200
    _, resp = await client.delete(f"{GROUPS}/vip", headers=boss)
    assert resp.status == 200 and resp.json == {"deleted": True}

    assert await audit_actions(client, root) == [
        ("boss", "group.add", "english"),
        ("boss", "routing_rules.replace", ""),
        ("root", "group.change", "english"),
        ("boss", "routing_rules.replace", ""),
        ("boss", "group.delete", "vip"),
    ]
    _, resp = await client.get("/api/admin/audit", headers=root)
    [first_rules] = [e for e in resp.json["entries"] if e["action"] == "routing_rules.replace"][-1:]
    assert [r["group"] for r in first_rules["data"]["after"]] == ["vip", "english", "general"]
    assert [r["group"] for r in first_rules["data"]["before"]] == ["vip", "general"]
    _, resp = await client.get("/api/admin/audit", headers=boss)
    assert resp.status == 403  # supervisors change settings; admins read the log


async def test_the_next_handoff_follows_a_rule_change_on_every_replica(
    client: SanicASGITestClient, deps: Deps, tmp_path: Path, redis_url: str, bot: ScriptedBot
) -> None:
    boss = await staff_member(client, deps, "boss", role="supervisor")
    other = make_deps(tmp_path, redis_url, bot)  # a second replica on the same database and Redis
    english = HandoffRequest(conversation_id="c", reason=HandoffReason.CUSTOMER_REQUEST, lang="en")
    try:
        assert (await other.desk.routing.floor_settings()).route(english) == "general"  # cached there
        before = await ask_for_a_human(client, "before", "en")
        assert before["state"] == "queued" and await deps.desk.queue.length("general") == 1

        await client.post(GROUPS, json=ENGLISH, headers=boss)
        _, resp = await client.put(RULES, json=ENGLISH_FIRST, headers=boss)
        assert resp.status == 200

        after = await ask_for_a_human(client, "after", "en")
        assert after["state"] == "queued"
        assert await deps.desk.queue.length("english") == 1 and await deps.desk.queue.length("general") == 1
        chinese = await ask_for_a_human(client, "zh-customer", "zh")
        assert chinese["state"] == "queued" and await deps.desk.queue.length("general") == 2
        assert (await other.desk.routing.floor_settings()).route(english) == "english"
        wecom = HandoffRequest(
            conversation_id="w", reason=HandoffReason.CUSTOMER_REQUEST, lang="en", channel=Channel.WECOM_KF
        )
        assert (await other.desk.routing.floor_settings()).route(wecom) == "english"

        emma = await staff_member(client, deps, "emma", skills=["english"])
        await client.put("/api/agent/status", json={"status": "online"}, headers=emma)
        _, resp = await client.get("/api/agent/conversations", headers=emma)
        assert [c["id"] for c in resp.json["conversations"]] == [after["conversation_id"]]
        _, resp = await client.get("/api/supervisor/floor", headers=boss)
        floor = {g["group"]: g for g in resp.json["groups"]}
        assert floor["english"]["with_agent"] == 1 and floor["general"]["queued"] == 2

        _, resp = await client.put(f"{GROUPS}/english", json={"enabled": False}, headers=boss)
        assert resp.status == 200
        disabled = await ask_for_a_human(client, "while-disabled", "en")
        assert disabled["state"] == "queued" and await deps.desk.queue.length("general") == 3
    finally:
        await other.close()


async def test_an_overflow_limit_change_makes_the_next_handoff_overflow(
    client: SanicASGITestClient, deps: Deps
) -> None:
    boss = await staff_member(client, deps, "boss", role="supervisor")
    first = await ask_for_a_human(client, "first", "zh")
    assert first["state"] == "queued"
    _, resp = await client.put(f"{GROUPS}/general", json={"overflow_max_length": 1}, headers=boss)
    assert resp.status == 200 and resp.json["group"]["overflow_max_length"] == 1
    second = await ask_for_a_human(client, "second", "zh")
    assert second["state"] == "ticket"  # the group's after-hours mode: a ticket
    assert "较多" in "".join(r["text"] for r in second["replies"])
    assert await deps.desk.queue.length("general") == 1
    _, resp = await client.put(f"{GROUPS}/general", json={"overflow_max_length": None}, headers=boss)
    third = await ask_for_a_human(client, "third", "zh")
    assert third["state"] == "queued" and await deps.desk.queue.length("general") == 2


@pytest.mark.parametrize(
    ("steps", "taken"), [(["sticky", "skill", "least_load"], False), (["least_load"], True)]
)
async def test_a_groups_assignment_steps_decide_who_may_take_it(
    client: SanicASGITestClient, deps: Deps, steps: list[str], taken: bool
) -> None:
    boss = await staff_member(client, deps, "boss", role="supervisor")
    await client.post(GROUPS, json={**ENGLISH, "steps": steps}, headers=boss)
    await client.put(RULES, json=ENGLISH_FIRST, headers=boss)
    handed = await ask_for_a_human(client, "en-customer", "en")
    gus = await staff_member(client, deps, "gus", skills=["general"])  # does not serve english
    await client.put("/api/agent/status", json={"status": "online"}, headers=gus)
    _, resp = await client.get("/api/agent/conversations", headers=gus)
    mine = [c["id"] for c in resp.json["conversations"]]
    assert mine == ([handed["conversation_id"]] if taken else [])
