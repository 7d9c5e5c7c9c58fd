"""Business hours API: any staff member reads, only an admin writes; every problem listed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sanic_testing.testing import SanicASGITestClient

from conversations import tickets as service
from service.deps import Deps
from tests.service.staff_app import Clock, RecordingSender, make_app, make_deps, staff_tokens
from tests.tickets.db import conversation_with
from tests.tickets.schedules import sh
from tickets.cn_calendar import known_years

Headers = dict[str, str]
OFFICE = {
    "timezone": "Asia/Shanghai",
    "weekly": {day: ["09:00-12:00", "13:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": "cn",
    "overrides": {"2025-12-24": ["09:00-15:00"]},
}


@pytest.fixture
def clock() -> Clock:
    return Clock(sh(2025, 9, 30, 20))


@pytest.fixture
async def deps(tmp_path: Path, redis_url: str) -> AsyncIterator[Deps]:
    built = make_deps(tmp_path, redis_url)
    yield built
    await built.close()


@pytest.fixture
async def client(deps: Deps, clock: Clock) -> SanicASGITestClient:
    return make_app(deps, clock, RecordingSender()).asgi_client


@pytest.fixture
async def staff(deps: Deps, client: SanicASGITestClient) -> dict[str, tuple[int, Headers]]:
    return await staff_tokens(deps, client)


def auth(staff: dict[str, tuple[int, Headers]], role: str) -> Headers:
    return staff[role][1]


async def test_unconfigured_group_reads_the_default_hours(
    client: SanicASGITestClient, staff: dict[str, tuple[int, Headers]]
) -> None:
    for role in ("agent", "supervisor", "editor", "admin"):
        _, resp = await client.get("/api/hours/general", headers=auth(staff, role))
        assert resp.status == 200, role
    body = resp.json
    assert body["configured"] is False and body["after_hours_mode"] == "ticket"
    assert body["schedule"]["weekly"]["sun"] == ["09:00-21:00"] and body["schedule"]["holidays"] == "cn"
    assert body["open_now"] is True  # Tue Sep 30 20:00, before the holiday starts
    assert datetime.fromisoformat(body["next_change"]) == sh(2025, 9, 30, 21)
    assert body["today"] == ["09:00-21:00"]
    holiday_data = body["holiday_data"]
    assert holiday_data["known_through"].endswith("-12-31") and holiday_data["warning"] is None


async def test_the_hours_warn_when_the_holiday_data_is_about_to_end(
    client: SanicASGITestClient, staff: dict[str, tuple[int, Headers]], clock: Clock
) -> None:
    last_year = known_years().stop - 1
    clock.now = sh(last_year, 11, 23, 10)
    _, resp = await client.get("/api/hours/general", headers=auth(staff, "supervisor"))
    data = resp.json["holiday_data"]
    assert data == {"known_through": f"{last_year}-12-31", "days_left": 38, "warning": data["warning"]}
    assert f"{last_year + 1}" in data["warning"]
    _, resp = await client.put(
        "/api/hours/plain", json={**OFFICE, "holidays": None}, headers=auth(staff, "admin")
    )
    assert resp.status == 200 and "holiday_data" not in resp.json  # no China calendar, nothing to warn of


async def test_admin_sets_hours_that_tickets_then_follow(
    deps: Deps, client: SanicASGITestClient, staff: dict[str, tuple[int, Headers]], clock: Clock
) -> None:
    body = {**OFFICE, "after_hours_mode": "queue", "announcement": " 国庆假期 10月1日-8日 "}
    _, resp = await client.put("/api/hours/billing", json=body, headers=auth(staff, "admin"))
    assert resp.status == 200, resp.text
    assert resp.json["configured"] is True and resp.json["announcement"] == "国庆假期 10月1日-8日"
    assert resp.json["open_now"] is False
    assert datetime.fromisoformat(resp.json["next_change"]) == sh(2025, 10, 9, 9)
    _, resp = await client.get("/api/hours/billing", headers=auth(staff, "agent"))
    assert resp.json["schedule"]["overrides"] == {"2025-12-24": ["09:00-15:00"]}
    assert resp.json["after_hours_mode"] == "queue"
    async with deps.sessions.begin() as session:
        conv = await conversation_with(session, "bill", "发票")
        view = await service.create_ticket_from_conversation(session, conv, now=clock.now, group="billing")
    assert view.first_response_due == sh(2025, 10, 9, 14)  # 4 open hours of the office, lunch excluded


async def test_only_supervisors_and_admins_write(
    client: SanicASGITestClient, staff: dict[str, tuple[int, Headers]]
) -> None:
    _, resp = await client.put("/api/hours/general", json=OFFICE)
    assert resp.status == 401
    for role in ("agent", "editor"):
        _, resp = await client.put("/api/hours/general", json=OFFICE, headers=auth(staff, role))
        assert resp.status == 403 and resp.json["error"]["code"] == "forbidden_role", role
    _, resp = await client.put("/api/hours/general", json=OFFICE, headers=auth(staff, "supervisor"))
    assert resp.status == 200, resp.text
    _, resp = await client.get("/api/admin/audit", headers=auth(staff, "admin"))
    [entry] = [e for e in resp.json["entries"] if e["action"] == "hours.change"]
    assert entry["actor"] == "supervisor1" and entry["target"] == "general"
    assert entry["data"]["weekly"]["mon"] == ["09:00-12:00", "13:00-18:00"]
    _, resp = await client.get("/api/hours/general")
    assert resp.status == 401


async def test_every_problem_is_listed(
    client: SanicASGITestClient, staff: dict[str, tuple[int, Headers]]
) -> None:
    body: dict[str, Any] = {
        "timezone": "Mars/Olympus",
        "weekly": {"wed": ["25:00-26:00"], "xyz": []},
        "overrides": {"2025-13-01": "closed"},
        "after_hours_mode": "pigeon",
        "announcement": 5,
    }
    _, resp = await client.put("/api/hours/general", json=body, headers=auth(staff, "admin"))
    assert resp.status == 422 and resp.json["error"]["code"] == "invalid_schedule"
    problems = resp.json["error"]["problems"]
    keys = {problem.split(":")[0] for problem in problems}
    assert {
        "after_hours_mode",
        "announcement",
        "timezone",
        "weekly.wed[0]",
        "weekly.xyz",
        "overrides.2025-13-01",
    } <= keys
    _, resp = await client.get("/api/hours/general", headers=auth(staff, "admin"))
    assert resp.json["configured"] is False  # nothing was stored
    _, resp = await client.put("/api/hours/Bad!", json=OFFICE, headers=auth(staff, "admin"))
    assert resp.status == 422 and resp.json["error"]["problems"][0].startswith("group:")
    _, resp = await client.get("/api/hours/Bad!", headers=auth(staff, "admin"))
    assert resp.status == 422 and resp.json["error"]["code"] == "invalid_group"
    _, resp = await client.put(
        "/api/hours/general",
        content=b"[]",
        headers={**auth(staff, "admin"), "content-type": "application/json"},
    )
    assert resp.status == 422 and resp.json["error"]["code"] == "invalid_json"
