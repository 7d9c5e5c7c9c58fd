"""A web conversation is bound to a signed visitor token, not to the client-chosen visitor_id
(finding 7): the first message gets a token, everything after needs it, and knowing a visitor
id (as staff could) is not enough to read, write, rate or listen as that visitor."""

from __future__ import annotations

from typing import Any

from sanic_testing.testing import SanicASGITestClient

from connectors.visitor_token import HEADER, VisitorTokens
from service.deps import Deps
from tests.service.visitors import visitor_headers


async def first_message(client: SanicASGITestClient, visitor: str) -> dict[str, Any]:
    _, resp = await client.post("/api/web/messages", json={"visitor_id": visitor, "text": "hello"})
    assert resp.status == 200, resp.text
    body: dict[str, Any] = resp.json
    return body


def refused(resp: Any) -> bool:
    return bool(resp.status == 401 and resp.json["error"]["code"] == "invalid_visitor_token")


async def test_the_first_message_gets_a_token_and_later_ones_need_it(client: SanicASGITestClient) -> None:
    body = await first_message(client, "v-first")
    token = body["visitor_token"]
    assert token.startswith("v-first.") and token == visitor_headers(client, "v-first")[HEADER]
    # Someone who only knows the visitor id can neither write nor read as that visitor.
    _, resp = await client.post("/api/web/messages", json={"visitor_id": "v-first", "text": "me too"})
    assert refused(resp)
    conv = body["conversation_id"]
    _, resp = await client.get(f"/api/web/conversations/{conv}/messages", params={"visitor_id": "v-first"})
    assert refused(resp)
    # The visitor with the token can.
    _, resp = await client.post(
        "/api/web/messages", json={"visitor_id": "v-first", "text": "again"}, headers={HEADER: token}
    )
    assert resp.status == 200
    _, resp = await client.get(f"/api/web/conversations/{conv}/messages", headers={HEADER: token})
    assert resp.status == 200 and [m["text"] for m in resp.json["messages"] if m["sender"] == "customer"] == [
        "hello",
        "again",
    ]


async def test_a_first_message_sent_again_gets_the_token_its_lost_answer_carried(
    client: SanicASGITestClient,
) -> None:
    """Found by the soak: a first message stored before an error (its answer, and the token in it,
    lost) locked the visitor out, since every later message needed the token."""
    first = {"visitor_id": "v-retry", "text": "hello", "client_message_id": "c-first-1"}
    await client.post("/api/web/messages", json=first)  # the answer never reaches the widget
    _, again = await client.post("/api/web/messages", json=first)
    assert again.status == 200 and again.json["duplicate"] is True
    assert again.json["visitor_token"].startswith("v-retry.")
    # Any other message without the token is still refused: only the same first message passes.
    _, other = await client.post(
        "/api/web/messages", json={**first, "client_message_id": "c-other", "text": "hi"}
    )
    assert refused(other)
    token = {HEADER: again.json["visitor_token"]}
    await client.post(
        "/api/web/messages", json={**first, "client_message_id": "c-2", "text": "x"}, headers=token
    )
    _, late = await client.post("/api/web/messages", json=first)  # no longer the newest, still first
    assert late.status == 200


async def test_forged_and_borrowed_tokens_are_refused(client: SanicASGITestClient, deps: Deps) -> None:
    body = await first_message(client, "victim")
    conv = body["conversation_id"]
    forged = VisitorTokens("another-secret").issue("victim")
    for token in (forged, "victim.", "victim", "victim.AAAA", "x" * 300):
        _, resp = await client.get(f"/api/web/conversations/{conv}/messages", headers={HEADER: token})
        assert refused(resp), token
    # A valid token of another visitor does not open this conversation, nor speak as "victim".
    thief = visitor_headers(client, "thief")
    _, resp = await client.get(f"/api/web/conversations/{conv}/messages", headers=thief)
    assert resp.status == 404
    _, resp = await client.get(
        f"/api/web/conversations/{conv}/messages", params={"visitor_id": "victim"}, headers=thief
    )
    assert refused(resp)
    _, resp = await client.post(
        "/api/web/messages", json={"visitor_id": "victim", "text": "hi"}, headers=thief
    )
    assert refused(resp)
    _, resp = await client.post(
        f"/api/web/conversations/{conv}/csat", json={"visitor_id": "victim", "rating": 1}
    )
    assert refused(resp)


async def test_staff_views_do_not_show_web_visitor_ids(client: SanicASGITestClient, deps: Deps) -> None:
    from tests.service.staff_app import staff_tokens

    body = await first_message(client, "v-secret-id")
    tokens = await staff_tokens(deps, client, ("supervisor",))
    _, headers = tokens["supervisor"]
    _, resp = await client.get(
        "/api/customers", params={"conversation_id": body["conversation_id"]}, headers=headers
    )
    assert resp.status == 200, resp.text
    assert "v-secret-id" not in resp.text
