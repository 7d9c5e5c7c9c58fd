"""One customer across channels: merging, phone / member lookup, automatic linking, the staff API.

Real migrated SQLite and real Redis (staff sessions); no doubles.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sanic import Sanic
from sanic_testing.testing import SanicASGITestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from conversations import identities, repo
from conversations.tables import ChannelIdentity, Conversation, Customer, IdentityMerge
from core.errors import Conflict, NotFound, ValidationFailed
from service import identity_routes
from service.app import create_app
from service.deps import Deps
from tests.service.staff_app import make_deps, staff_tokens
from tickets.tables import Ticket

Sessions = async_sessionmaker[AsyncSession]
Headers = dict[str, str]


async def new_customer(session: AsyncSession, channel: str, user: str, tier: str = "normal") -> Conversation:
    conv = await repo.current_conversation(
        session, channel=channel, channel_user_id=user, entry_point="shop", lang="zh"
    )
    customer = await session.get(Customer, conv.customer_id)
    assert customer is not None
    customer.tier = tier
    await session.flush()
    return conv


async def identity_set(session: AsyncSession, customer_id: str) -> set[tuple[str, str]]:
    return {(i.channel, i.channel_user_id) for i in await identities.identities_of(session, customer_id)}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+86 138-0013-8000", "13800138000"),
        ("008613800138000", "13800138000"),
        ("(021) 6234 5678", "02162345678"),
        ("+44 20 7946 0958", "+442079460958"),
    ],
)
def test_phones_are_normalised(raw: str, expected: str) -> None:
    assert identities.normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["", "12", "call me", "+86 abc", "1" * 21])
def test_bad_phones_are_refused(raw: str) -> None:
    with pytest.raises(ValidationFailed):
        identities.normalize_phone(raw)


async def test_link_moves_everything_and_keeps_the_higher_tier(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        web = await new_customer(session, "web", "visitor-1", tier="normal")
        app = await new_customer(session, "app", "user-1", tier="A")
        session.add(
            Ticket(
                number="T20251013-0001",
                customer_id=app.customer_id,
                conversation_id=app.id,
                channel="app",
                subject="退款",
            )
        )
        await session.flush()
        merged = app.customer_id
        kept = await identities.link(session, web.customer_id, merged, "same person", "staff:sam")
    assert kept == web.customer_id
    assert app.customer_id == kept  # a loaded conversation follows the merge
    async with sessions() as session:
        assert await identity_set(session, kept) == {("web", "visitor-1"), ("app", "user-1")}
        convs = await identities.conversations_of(session, kept)
        assert {c.id for c in convs} == {web.id, app.id}
        ticket = await session.scalar(select(Ticket))
        assert ticket is not None and ticket.customer_id == kept
        customer = await session.get(Customer, kept)
        assert customer is not None and customer.tier == "A"
        [merge] = (await session.scalars(select(IdentityMerge))).all()
        assert (merge.kept_customer_id, merge.merged_customer_id) == (kept, merged)
        assert (merge.reason, merge.actor) == ("same person", "staff:sam")
        assert await identities.resolve(session, merged) == kept
        # a returning app user lands on the kept customer
        assert await repo.resolve_customer(session, "app", "user-1", "zh") == kept


async def test_link_refuses_itself_unknown_and_merged_customers(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        a, b, c = [(await new_customer(session, "web", v)).customer_id for v in ("va", "vb", "vc")]
        with pytest.raises(ValidationFailed):
            await identities.link(session, a, a, "x", "t")
        with pytest.raises(NotFound):
            await identities.link(session, a, "nobody", "x", "t")
        await identities.link(session, a, b, "x", "t")
        with pytest.raises(Conflict):
            await identities.link(session, c, b, "x", "t")
        with pytest.raises(Conflict):
            await identities.link(session, b, c, "x", "t")
        # a chain: c into a; both merged ids resolve to a
        await identities.link(session, a, c, "x", "t")
        assert await identities.resolve(session, b) == a
        assert await identities.resolve(session, c) == a
        assert await identities.resolve(session, a) == a


async def test_metadata_phone_links_to_the_customer_who_has_it(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        web = await new_customer(session, "web", "visitor-2")
        await identities.attach(
            session,
            web.customer_id,
            identities.PHONE,
            "+86 138 0013 8000",
            reason="told agent",
            actor="staff:sam",
            keep_owner=False,
        )
        app = await new_customer(session, "app", "user-2")
        merged = app.customer_id
        metadata = {"app_id": "shop", "customer": {"phone": "13800138000", "member_id": "M-77"}, "tier": "S"}
        kept = await identities.link_from_metadata(session, app.customer_id, metadata, "app:shop")
        assert kept == web.customer_id
        assert app.customer_id == kept  # the conversation in this session follows the merge
    async with sessions() as session:
        assert await identity_set(session, kept) == {
            ("web", "visitor-2"),
            ("phone", "13800138000"),
            ("app", "user-2"),
            ("member", "M-77"),
        }
        assert await identities.find_by_phone_or_member(session, member_id="M-77") == kept
        assert await identities.find_by_phone_or_member(session, phone="+8613800138000") == kept
        assert await identities.find_by_phone_or_member(session, phone="13900000000") is None
        customer = await session.get(Customer, kept)
        assert customer is not None and customer.tier == "S"
        merge = await session.scalar(select(IdentityMerge))
        assert merge is not None and (merge.reason, merge.actor) == ("same phone", "app:shop")
        assert merge.merged_customer_id == merged


async def test_metadata_without_customer_changes_nothing(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        app = await new_customer(session, "app", "user-3")
        kept = await identities.link_from_metadata(session, app.customer_id, {"app_id": "shop"}, "app:shop")
        assert kept == app.customer_id
        again = await identities.link_from_metadata(
            session, app.customer_id, {"customer": {"phone": "13700000000"}}, "app:shop"
        )
        assert again == app.customer_id  # a new phone is just attached
        assert (
            await identities.link_from_metadata(
                session, app.customer_id, {"customer": {"phone": "137-0000-0000"}}, "app:shop"
            )
            == app.customer_id
        )
    async with sessions() as session:
        rows = (
            await session.scalars(select(ChannelIdentity).where(ChannelIdentity.channel == "phone"))
        ).all()
        assert [(r.customer_id, r.channel_user_id) for r in rows] == [(app.customer_id, "13700000000")]
        assert (await session.scalars(select(IdentityMerge))).all() == []


# --- the staff API -------------------------------------------------------------------------------


@pytest.fixture
async def deps(tmp_path: Path, redis_url: str) -> AsyncIterator[Deps]:
    built = make_deps(tmp_path, redis_url)
    yield built
    await built.close()


@pytest.fixture
async def client(deps: Deps) -> SanicASGITestClient:
    Sanic.test_mode = True
    app = create_app(deps, name=f"kefu_identities_{id(deps)}")
    if "identities" not in app.blueprints:  # until (and after) create_app registers it
        app.blueprint(identity_routes.create_blueprint(deps.staff_sessions, deps.sessions))
    return app.asgi_client


@pytest.fixture
async def staff(deps: Deps, client: SanicASGITestClient) -> dict[str, Headers]:
    return {role: headers for role, (_, headers) in (await staff_tokens(deps, client)).items()}


async def test_supervisor_links_and_agent_sees_one_customer(
    deps: Deps, client: SanicASGITestClient, staff: dict[str, Headers]
) -> None:
    async with deps.sessions.begin() as session:
        web = await new_customer(session, "web", "visitor-9")
        app = await new_customer(session, "app", "user-9", tier="S")
    body = {
        "customer_id": web.customer_id,
        "other_customer_id": app.customer_id,
        "reason": "same phone on call",
    }
    _, resp = await client.post("/api/admin/identities/link", json=body, headers=staff["agent"])
    assert resp.status == 403
    _, resp = await client.post("/api/admin/identities/link", json=body, headers=staff["supervisor"])
    assert resp.status == 200, resp.text
    assert resp.json["id"] == web.customer_id and resp.json["tier"] == "S"
    _, resp = await client.get(f"/api/customers/{app.customer_id}", headers=staff["agent"])
    assert resp.status == 200
    found = resp.json
    assert found["id"] == web.customer_id and found["requested_id"] == app.customer_id
    assert {(c["channel"], c["id"]) for c in found["conversations"]} == {("web", web.id), ("app", app.id)}
    # staff never see a web visitor's own id, only a stable digest of it
    assert {(i["channel"], i["channel_user_id"]) for i in found["identities"]} == {
        ("web", identity_routes.shown_user_id("web", "visitor-9")),
        ("app", "user-9"),
    }
    assert "visitor-9" not in resp.text
    assert [(m["customer_id"], m["actor"]) for m in found["merged"]] == [
        (app.customer_id, "staff:supervisor1")
    ]
    _, resp = await client.post("/api/admin/identities/link", json=body, headers=staff["admin"])
    assert resp.status == 409 and resp.json["error"]["code"] == "customer_merged"


async def test_attach_and_lookup(deps: Deps, client: SanicASGITestClient, staff: dict[str, Headers]) -> None:
    async with deps.sessions.begin() as session:
        web = await new_customer(session, "web", "visitor-10")
        other = await new_customer(session, "app", "user-10")
        await identities.attach(
            session, other.customer_id, identities.MEMBER, "M-10", reason="r", actor="t", keep_owner=False
        )
    body = {"customer_id": web.customer_id, "phone": "+86 139 0000 1111", "member_id": "M-10"}
    _, resp = await client.post("/api/admin/identities/attach", json=body, headers=staff["admin"])
    assert resp.status == 200, resp.text
    assert resp.json["id"] == web.customer_id  # the named customer is kept; M-10's holder merged in
    _, resp = await client.get("/api/customers", params={"phone": "13900001111"}, headers=staff["agent"])
    assert resp.status == 200 and resp.json["id"] == web.customer_id
    _, resp = await client.get("/api/customers", params={"conversation_id": other.id}, headers=staff["agent"])
    assert resp.json["id"] == web.customer_id
    _, resp = await client.get("/api/customers", params={"member_id": "nobody"}, headers=staff["agent"])
    assert resp.status == 404 and resp.json["error"]["code"] == "customer_not_found"


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        (
            "/api/admin/identities/link",
            {"customer_id": "a", "other_customer_id": "a", "reason": "r"},
            "same_customer",
        ),
        ("/api/admin/identities/link", {"customer_id": "a", "other_customer_id": "b"}, "invalid_reason"),
        (
            "/api/admin/identities/link",
            {"customer_id": "a b", "other_customer_id": "b", "reason": "r"},
            "invalid_customer_id",
        ),
        ("/api/admin/identities/attach", {"customer_id": "a"}, "nothing_to_attach"),
        ("/api/admin/identities/attach", {"customer_id": "a", "phone": "hello"}, "invalid_phone"),
    ],
)
async def test_bad_requests_get_a_stable_code(
    client: SanicASGITestClient, staff: dict[str, Headers], path: str, body: dict[str, str], code: str
) -> None:
    _, resp = await client.post(path, json=body, headers=staff["admin"])
    assert resp.status == 422 and resp.json["error"]["code"] == code


async def test_roles_and_missing_customers(client: SanicASGITestClient, staff: dict[str, Headers]) -> None:
    _, resp = await client.get("/api/customers/nobody")
    assert resp.status == 401
    _, resp = await client.get("/api/customers/nobody", headers=staff["editor"])
    assert resp.status == 403
    _, resp = await client.get("/api/customers/nobody", headers=staff["agent"])
    assert resp.status == 404 and resp.json["error"]["code"] == "customer_not_found"
    body = {"customer_id": "nobody", "other_customer_id": "ghost", "reason": "r"}
    _, resp = await client.post("/api/admin/identities/link", json=body, headers=staff["admin"])
    assert resp.status == 404
