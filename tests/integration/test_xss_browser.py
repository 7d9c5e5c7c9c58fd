"""Stored XSS tried through every field a page shows (issue 14).

One fixture plants a hostile value (tests/support/hostile.py: a marker, then HTML tags with
handlers, a script break-out, a Vue template expression, a ``javascript:`` URL) in every
user-controlled field some page renders, through the real public and staff APIs: customer
messages (web and app channel), the customer's name, a left message and the ticket it makes,
ticket subjects, replies and notes, agents' display names, group display names, routing rule
fields, business-hours announcements, FAQ entries (key, question, similar question, answer, tags),
unanswered questions, canned replies, internal notes, transfer notes, CSAT comments, forbidden
words (and the alerts and quality hits they raise), quality override comments, alert webhook URLs.

Each page is then opened as the role that sees those fields (the widget, the console, the editor,
the supervisor dashboard) in a browser context with the page's CSP switched off, so the escaping
itself is under test, not the CSP behind it. On every page: no payload ran (``window.__xss``), no
dialog, no request to a payload's address, no tag or ``javascript:`` URL from a payload in the
DOM; and every value is shown as literal text (or as the value of its input) where it belongs, so
a field that silently stops being rendered fails too. One screenshot per page:
docs/screenshots/xss-<page>.png.

What no page can carry a payload in, because the API refuses the characters: usernames, skills,
group names, canned shortcuts, ticket tags (the console does not show them), timezones; holidays
are a calendar name ("cn"), not free text; a webhook URL must be http(s)."""

from __future__ import annotations

import json
import random
import re
import string
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from connectors.app.signing import sign
from core.settings import ROOT
from tests.integration.conftest import APP_ID, APP_SECRET
from tests.support import visitors
from tests.support.hostile import Probe, hostile
from tests.support.stack import STAFF_PASSWORD, Stack

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SHOTS = ROOT / "docs" / "screenshots"
RUN = "".join(random.choices(string.ascii_lowercase, k=6))  # no digits (tests/support/hostile.py)
GROUP = f"xss-{RUN}"
HANDOFF = "帮我写一首诗"  # out of scope: the bot hands the customer to a person
ALL_DAY = {d: ["00:00-24:00"] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
WAIT = 30_000


def h(name: str, room: int = 2000, *, slash: bool = True) -> str:
    return hostile(name, RUN, room, slash=slash)


# The planted values, by field. Lengths are each field's limit.
V = {
    "customer_name": h("cname", 64),
    "left_message": h("left", 2000),
    "web_text": "请问 " + h("web", 1990),
    "similar": "运费险怎么理赔 " + h("similar", 400),
    "app_text": h("app", 2000),
    "reply": h("reply", 1800),
    "note": h("note", 2000),
    "transfer_note": h("transfer", 2000),
    "subject": h("subject", 256),
    "ticket_reply": h("treply", 4000),
    "ticket_note": h("tnote", 4000),
    "csat": h("csat", 1000),
    "display_1": h("dname1", 64),
    "display_2": h("dname2", 64),
    "group_zh": h("gzh", 64),
    "group_en": h("gen", 64),
    "entry_point": h("entry", 64),
    "topic": h("topic", 64),
    "announcement": h("announce", 1000),
    "key": h("key", 128, slash=False),
    "question": "运费险怎么理赔 " + h("question", 480),
    "answer_before": h("answer0", 2000),
    "answer": h("answer", 4000),
    "tag": h("tag", 64),
    "canned": h("canned", 2000),
    "word": h("word", 128),
    "override": h("override", 2000),
    "webhook": "http://127.0.0.1:9/" + h("hook", 400).replace(" ", "%20"),
}


@dataclass
class Planted:
    web_visitor: str
    web_conversation: str  # the web customer's one thread: bot, rated, left a message, a person
    app_conversation: str
    alert_kind: str  # the alert rule with the hostile webhook URL
    ticket: str  # the agent made it; the left message joined it


def ok(resp: httpx.Response, *statuses: int) -> Any:
    assert resp.status_code in (statuses or (200, 201, 204)), f"{resp.request.url}: {resp.text}"
    return resp.json() if resp.content else None


class Api:
    """The staff API as one account, on one replica."""

    def __init__(self, stack: Stack, headers: dict[str, str]) -> None:
        self.url, self.headers = stack.service_url, headers

    def __call__(self, method: str, path: str, body: Any = None, *statuses: int) -> Any:
        resp = httpx.request(method, self.url + path, json=body, headers=self.headers, timeout=60)
        return ok(resp, *statuses)


def say(stack: Stack, visitor: str, text: str, page: str = V["entry_point"]) -> dict[str, Any]:
    """A web customer's message; the page routes this run's customers to its group."""
    resp = httpx.post(
        f"{stack.service_url}/api/web/messages",
        json={"visitor_id": visitor, "text": text, "lang": "zh", "page": page},
        headers=visitors.headers(visitor),
        timeout=90,
    )
    answer: dict[str, Any] = visitors.remember(visitor, ok(resp, 200))
    return answer


def post_app(stack: Stack, user: str, text: str) -> dict[str, Any]:
    body = {"app_id": APP_ID, "user_id": user, "text": text, "message_id": uuid.uuid4().hex, "lang": "zh"}
    raw = json.dumps(body, ensure_ascii=False).encode()
    ts = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Kefu-App": APP_ID,
        "X-Kefu-Timestamp": ts,
        "X-Kefu-Signature": sign(APP_SECRET, ts, raw),
    }
    resp = httpx.post(f"{stack.service_url}/api/app/messages", content=raw, headers=headers, timeout=90)
    answer: dict[str, Any] = ok(resp, 200)
    return answer


def wait_until(check: Any, what: str, timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def online(agent: Api) -> None:
    """Online now: an agent without a console sends no heartbeats, so the presence sweep turns
    them away after a while; each handoff is preceded by this."""
    agent("PUT", "/api/agent/status", {"status": "online"})


def held_by(agent: Api, conversation: str) -> bool:
    mine = agent("GET", "/api/agent/conversations")["conversations"]
    return conversation in [c["id"] for c in mine]


# -- planting ----------------------------------------------------------------------------------


def plant_settings(admin: Api) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The group (display names, hours with an announcement), routing rules sending this run's
    customers to it, a forbidden word and an alert rule's webhook. Returns what to put back."""
    admin(
        "POST",
        "/api/supervisor/settings/groups",
        {"name": GROUP, "display_zh": V["group_zh"], "display_en": V["group_en"]},
    )
    admin(
        "PUT",
        f"/api/hours/{GROUP}",
        {"timezone": "Asia/Shanghai", "weekly": ALL_DAY, "announcement": V["announcement"]},
    )
    rules_before = admin("GET", "/api/supervisor/settings/routing-rules")["rules"]
    ours = [
        {"group": GROUP, "entry_point": V["entry_point"]},
        {"group": GROUP, "channel": "app", "entry_point": APP_ID, "topic": V["topic"]},
        {"group": GROUP, "channel": "app", "entry_point": APP_ID},
    ]
    kept = [
        {k: r[k] for k in ("group", "channel", "entry_point", "lang", "tier", "topic")} for r in rules_before
    ]
    admin("PUT", "/api/supervisor/settings/routing-rules", {"rules": ours + kept})
    admin("POST", "/api/supervisor/settings/words", {"kind": "forbidden", "word": V["word"], "lang": "zh"})
    rule = admin("GET", "/api/supervisor/settings/alert-rules")["rules"][0]
    refused = httpx.put(
        f"{admin.url}/api/supervisor/settings/alert-rules/{rule['id']}",
        json={"webhook_url": "javascript:window.__xss=1"},
        headers=admin.headers,
        timeout=10,
    )
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "invalid_webhook_url"
    admin("PUT", f"/api/supervisor/settings/alert-rules/{rule['id']}", {"webhook_url": V["webhook"]})
    return kept, rule


def plant_knowledge(admin: Api) -> int:
    """An FAQ entry (changed once, so its history has a before and an after), then a publish.
    Returns the version that was active before."""
    versions = admin("GET", "/api/knowledge/versions")["versions"]
    active = next(v["version"] for v in versions if v["active"])
    entry = {
        "key": V["key"],
        "lang": "zh",
        "question": V["question"],
        "similar": [V["similar"]],
        "answer": V["answer_before"],
        "tags": [V["tag"]],
    }
    admin("POST", "/api/knowledge/entries", entry)
    admin("PUT", f"/api/knowledge/entries/{quote(V['key'], safe='')}", {**entry, "answer": V["answer"]})
    admin("POST", "/api/knowledge/publish", None, 202)
    return int(active)


def wait_for_publish(stack: Stack, admin: Api, before: int) -> None:
    """Until the new version is the one both replicas answer from (the bot's action server
    swaps at the same time)."""

    def published() -> bool:
        state = admin("GET", "/api/knowledge/versions")
        newest = state["versions"][0]
        return not state["publishing"] and newest["active"] and newest["version"] != before

    def live(url: str) -> bool:
        resp = httpx.post(
            f"{url}/api/knowledge/try", json={"text": V["similar"]}, headers=admin.headers, timeout=30
        )
        return bool(ok(resp, 200)["decision"] == "answer")

    wait_until(published, "the publish", timeout=600)
    for url in stack.service_urls:
        wait_until(lambda url=url: live(url), "the new version to be live", timeout=120)


def wait_for_the_bot(stack: Stack, probes: list[str]) -> None:
    """Until the bot answers from the new version too (its action server swaps on its own
    schedule): a new visitor asks each time; whoever was handed off instead goes on ``probes``."""

    def answers() -> bool:
        answer = say(stack, uuid.uuid4().hex, V["similar"], page="")  # not to this run's agents
        probes.append(answer["conversation_id"])
        return any(V["answer"] in m["text"] for m in answer["replies"] if m["sender"] == "bot")

    wait_until(answers, "the bot to answer from the new version", timeout=180)


def add_agent(stack: Stack, admin: Api, name: str, display: str) -> Api:
    body = {
        "username": name,
        "password": STAFF_PASSWORD,
        "role": "agent",
        "display_name": display,
        "skills": [GROUP],
        "max_concurrent": 10,
    }
    admin("POST", "/api/admin/staff", body)
    login = httpx.post(
        f"{stack.service_url}/api/auth/login", json={"username": name, "password": STAFF_PASSWORD}, timeout=10
    )
    return Api(stack, {"Authorization": f"Bearer {ok(login, 200)['token']}"})


def with_the_bot(stack: Stack, visitor: str) -> str:
    """The customer asks the FAQ entry's similar question (and marks the answer unhelpful), then
    writes something the bot cannot answer (an unanswered question)."""
    answered = say(stack, visitor, V["similar"])
    conv: str = answered["conversation_id"]
    bot = [m for m in answered["replies"] if m["sender"] == "bot"]
    assert any(V["answer"] in m["text"] for m in bot), answered
    resp = httpx.post(
        f"{stack.service_url}/api/web/conversations/{conv}/messages/{bot[-1]['id']}/feedback",
        json={"visitor_id": visitor, "helpful": False},
        headers=visitors.headers(visitor),
        timeout=10,
    )
    ok(resp, 200)
    say(stack, visitor, V["web_text"])
    return conv


def with_a_person(stack: Stack, visitor: str, conv: str, first: Api, admin: Api) -> str:
    """A person takes over: a reply using the forbidden word (a quality hit and an alert), a note,
    a ticket with a subject, a reply to it and a note on it; closes. The customer rates with a
    comment, a supervisor overrides the score. Returns the ticket's number."""
    online(first)
    asked = say(stack, visitor, HANDOFF)
    assert asked["state"] in ("queued", "agent"), asked
    wait_until(lambda: held_by(first, conv), "the first agent to get the customer")
    first("POST", f"/api/agent/conversations/{conv}/messages", {"text": f"{V['reply']} {V['word']}"})
    first("POST", f"/api/agent/conversations/{conv}/notes", {"text": V["note"]})
    ticket = first("POST", f"/api/agent/conversations/{conv}/ticket", {"subject": V["subject"]})["ticket"]
    first("POST", f"/api/tickets/{ticket['number']}/replies", {"text": V["ticket_reply"]})
    first("POST", f"/api/tickets/{ticket['number']}/notes", {"text": V["ticket_note"]})
    first("POST", f"/api/agent/conversations/{conv}/close")
    resp = httpx.post(
        f"{stack.service_url}/api/web/conversations/{conv}/csat",
        json={"visitor_id": visitor, "rating": 2, "comment": V["csat"]},
        headers=visitors.headers(visitor),
        timeout=10,
    )
    ok(resp, 200)
    admin("PUT", f"/api/supervisor/quality/scores/{conv}/override", {"score": 40, "comment": V["override"]})
    number: str = ticket["number"]
    return number


def left_then_back(stack: Stack, visitor: str, conv: str, first: Api) -> None:
    """The customer leaves a message with their name (it joins the open ticket), then asks for a
    person again and gets the same agent."""
    left = httpx.post(
        f"{stack.service_url}/api/web/leave-message",
        json={"visitor_id": visitor, "text": V["left_message"], "name": V["customer_name"],
              "contact": "xss@example.com", "lang": "zh"},
        headers=visitors.headers(visitor),
        timeout=30,
    )  # fmt: skip
    ok(left, 201)
    online(first)
    say(stack, visitor, HANDOFF)
    wait_until(lambda: held_by(first, conv), "the first agent to get the customer back")


@pytest.fixture(scope="module")
def planted(stack: Stack) -> Iterator[Planted]:
    admin = Api(stack, stack.staff(f"xss-admin-{RUN}", role="admin"))
    previous = plant_knowledge(admin)  # the publish runs while the rest is planted
    rules, alert_rule = plant_settings(admin)
    first = add_agent(stack, admin, f"xss-first-{RUN}", V["display_1"])
    second = add_agent(stack, admin, f"xss-second-{RUN}", V["display_2"])
    second("POST", "/api/agent/canned", {"shortcut": f"xss{RUN}", "text": V["canned"], "lang": "zh"})
    visitor, app_user = uuid.uuid4().hex, f"xss-{RUN}"
    conversations: list[str] = []
    probes: list[str] = []
    try:
        post_app(stack, app_user, V["app_text"])
        online(first)
        conversations.append(post_app(stack, app_user, HANDOFF)["conversation_id"])
        wait_for_publish(stack, admin, previous)
        wait_for_the_bot(stack, probes)
        conversations.append(with_the_bot(stack, visitor))
        app_conv, web_conv = conversations
        ticket = with_a_person(stack, visitor, web_conv, first, admin)
        left_then_back(stack, visitor, web_conv, first)
        wait_until(lambda: held_by(first, app_conv), "the first agent to get the app customer")
        online(second)
        for conv, note in ((web_conv, V["transfer_note"]), (app_conv, "")):
            body = {"to_agent": f"xss-second-{RUN}", "note": note}
            first("POST", f"/api/agent/conversations/{conv}/transfer", body)
        say(stack, visitor, V["web_text"])  # the last message of each: the list's preview
        post_app(stack, app_user, V["app_text"])
        yield Planted(visitor, web_conv, app_conv, alert_rule["kind"], ticket)
    finally:  # the stack is shared: what this module changed goes back
        for conv in conversations + probes:
            admin("POST", f"/api/agent/conversations/{conv}/close", None, 200, 403, 404, 409, 422)
        for agent in (first, second):
            agent("PUT", "/api/agent/status", {"status": "offline"})
        admin("PUT", "/api/supervisor/settings/routing-rules", {"rules": rules})
        admin(
            "PUT",
            f"/api/supervisor/settings/alert-rules/{alert_rule['id']}",
            {"webhook_url": alert_rule["webhook_url"]},
        )
        for word in admin("GET", "/api/supervisor/settings/words")["words"]:
            if word["word"] == V["word"]:
                admin("DELETE", f"/api/supervisor/settings/words/{word['id']}")
        admin("DELETE", f"/api/knowledge/entries/{quote(V['key'], safe='')}")
        admin("POST", f"/api/knowledge/versions/{previous}/activate")


# -- pages -------------------------------------------------------------------------------------


def open_page(browser: Browser, url: str, init: str = "") -> tuple[Page, Probe]:
    context = browser.new_context(bypass_csp=True, locale="zh-CN", viewport={"width": 1400, "height": 900})
    if init:
        context.add_init_script(init)
    page = context.new_page()
    probe = Probe(page)
    page.goto(url)
    return page, probe


def log_in(page: Page, user: str) -> None:
    page.locator("#kefu-username").fill(user)
    page.locator("#kefu-password").fill(STAFF_PASSWORD)
    page.get_by_test_id("login-form").locator("button[type=submit]").click()


def shows(where: Locator, *names: str) -> None:
    for name in names:
        expect(where).to_contain_text(V[name], timeout=WAIT)


def test_the_widget_shows_the_customer_the_payloads_as_text(
    browser: Browser, stack: Stack, planted: Planted
) -> None:
    token = visitors.headers(planted.web_visitor)[visitors.HEADER]
    seed = (
        f"localStorage.setItem('kefu.visitor_id', {json.dumps(planted.web_visitor)});"
        f"localStorage.setItem('kefu.visitor_token', {json.dumps(token)});"
        f"localStorage.setItem('kefu.conversation_id', {json.dumps(planted.web_conversation)});"
    )
    page, probe = open_page(browser, f"{stack.service_urls[1]}/?lang=zh", seed)
    try:
        shows(page.locator("body"), "similar", "answer", "web_text", "reply", "ticket_reply")
        expect(page.get_by_test_id("state")).to_contain_text(V["display_2"], timeout=WAIT)
        page.screenshot(path=str(SHOTS / "xss-widget.png"), full_page=True)
        probe.assert_clean()
    finally:
        page.context.close()


def test_the_console_shows_an_agent_the_payloads_as_text(
    browser: Browser, stack: Stack, planted: Planted
) -> None:
    page, probe = open_page(browser, f"{stack.service_urls[1]}/console?lang=zh")
    try:
        log_in(page, f"xss-second-{RUN}")
        expect(page.get_by_test_id("presence")).to_have_value("online", timeout=WAIT)
        web = page.locator(f"[data-testid=conversation-item][data-id='{planted.web_conversation}']")
        app = page.locator(f"[data-testid=conversation-item][data-id='{planted.app_conversation}']")
        shows(web, "customer_name")
        for item, name in (
            (web, "web_text"),
            (app, "app_text"),
        ):  # the preview: the start of the last message
            expect(item.get_by_test_id("preview")).to_contain_text(V[name][:60])
        app.click()
        shows(page.get_by_test_id("transcript"), "app_text")
        web.click()
        shows(page.get_by_test_id("conversation-title"), "customer_name")
        shows(page.get_by_test_id("transcript"), "similar", "answer", "web_text", "reply", "note",
              "transfer_note", "display_1")  # fmt: skip
        shows(page.get_by_test_id("customer-panel"), "customer_name", "subject", "csat")
        page.get_by_test_id("reply-box").fill(f"/xss{RUN}")
        shows(page.get_by_test_id("canned-matches"), "canned")
        page.get_by_test_id("transfer").click()
        shows(page.get_by_test_id("transfer-target"), "display_1")
        page.screenshot(path=str(SHOTS / "xss-console.png"), full_page=True)
        probe.assert_clean()

        page.get_by_test_id("view-tickets").click()
        row = page.get_by_test_id("ticket-row").filter(has_text=planted.ticket)
        shows(row, "subject")
        row.get_by_role("button").click()
        shows(page.get_by_test_id("tickets-view"), "subject", "ticket_reply", "left_message")
        probe.assert_clean()

        page.get_by_test_id("view-canned").click()
        shows(page.get_by_test_id("canned-view"), "canned")
        probe.assert_clean()
    finally:
        page.context.close()


def test_the_editor_shows_the_payloads_as_text(browser: Browser, stack: Stack, planted: Planted) -> None:
    page, probe = open_page(browser, f"{stack.service_urls[1]}/editor?lang=zh")
    try:
        log_in(page, f"xss-admin-{RUN}")
        expect(page.get_by_test_id("editor-home")).to_be_visible(timeout=WAIT)
        page.get_by_test_id("entry-search").fill(f"XSS-question-{RUN}")
        row = page.locator("[data-testid=entry-list] tr").filter(has_text=f"XSS-key-{RUN}")
        shows(row, "question", "key")
        row.get_by_role("button").click()
        form = page.get_by_test_id("entry-form")
        expect(form.get_by_test_id("entry-key")).to_have_value(V["key"], timeout=WAIT)
        expect(form.get_by_test_id("entry-question")).to_have_value(V["question"])
        expect(form.get_by_test_id("entry-similar")).to_have_value(V["similar"])
        expect(form.get_by_test_id("entry-answer")).to_have_value(V["answer"])
        expect(form.get_by_test_id("entry-tags")).to_have_value(V["tag"])
        shows(page.get_by_test_id("entry-history"), "answer_before", "answer")
        page.get_by_test_id("try-input").fill(V["similar"])
        shows(page.get_by_test_id("try-candidates"), "question", "key")
        page.screenshot(path=str(SHOTS / "xss-editor.png"), full_page=True)
        probe.assert_clean()

        page.get_by_test_id("tab-unanswered").click()
        # the customers' unanswered texts cluster together (with those of any earlier run on the
        # same stack); a cluster shows a few samples, literally; its nearest entry is ours
        sample = re.compile(r"XSS-(web|app|similar)-[a-z0-9]+ <img src=/xss-probe/\w+ onerror=")
        expect(page.get_by_test_id("unanswered")).to_contain_text(sample, timeout=WAIT)
        shows(page.get_by_test_id("unanswered"), "question")
        probe.assert_clean()
        page.get_by_test_id("tab-review").click()
        shows(page.get_by_test_id("review"), "similar", "key")
        probe.assert_clean()
        page.get_by_test_id("tab-hot").click()
        shows(page.get_by_test_id("hot"), "key")
        probe.assert_clean()
        page.get_by_test_id("tab-versions").click()
        shows(page.get_by_test_id("version-list"), "key")
        probe.assert_clean()
    finally:
        page.context.close()


def test_the_supervisor_dashboard_shows_the_payloads_as_text(
    browser: Browser, stack: Stack, planted: Planted
) -> None:
    page, probe = open_page(browser, f"{stack.service_urls[1]}/supervisor?lang=zh")
    try:
        log_in(page, f"xss-admin-{RUN}")
        expect(page.get_by_test_id("floor")).to_be_visible(timeout=WAIT)
        page.get_by_test_id("tab-alerts").click()
        shows(page.get_by_test_id("alerts"), "word")
        probe.assert_clean()

        page.get_by_test_id("tab-quality").click()
        worst = (
            page.get_by_test_id("worst").locator("tbody tr").filter(has_text=planted.web_conversation[:10])
        )
        worst.locator("button").click()
        shows(page.get_by_test_id("quality"), "word", "override")
        probe.assert_clean()

        page.get_by_test_id("tab-reports").click()
        reports = page.get_by_test_id("reports")
        expect(reports.get_by_test_id("agent-table")).to_contain_text(f"xss-first-{RUN}", timeout=WAIT)
        for chart in page.get_by_test_id("chart").all():  # the tooltips are HTML
            box = chart.bounding_box()
            assert box is not None
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.wait_for_timeout(300)
        probe.assert_clean()

        page.get_by_test_id("tab-settings").click()
        staff = page.get_by_test_id(f"staff-row-xss-first-{RUN}")
        expect(staff.get_by_test_id("staff-display-name")).to_have_value(V["display_1"], timeout=WAIT)
        group = page.get_by_test_id(f"group-row-{GROUP}")
        expect(group.get_by_test_id("group-display-zh")).to_have_value(V["group_zh"])
        expect(group.get_by_test_id("group-display-en")).to_have_value(V["group_en"])
        rule = page.get_by_test_id("routing-rule").nth(1)
        expect(rule.get_by_test_id("routing-entry-point")).to_have_value(APP_ID)
        expect(rule.get_by_test_id("routing-topic")).to_have_value(V["topic"])
        expect(page.get_by_test_id("routing-rule").first.get_by_test_id("routing-entry-point")).to_have_value(
            V["entry_point"]
        )
        shows(page.get_by_test_id("routing-rule").first.get_by_test_id("routing-group"), "group_zh")
        shows(page.get_by_test_id("words-forbidden"), "word")
        webhook = page.get_by_test_id(f"rule-{planted.alert_kind}").locator("input[placeholder^='https://']")
        expect(webhook).to_have_value(V["webhook"])
        hours = page.get_by_test_id("hours-settings")
        hours.get_by_test_id("hours-group").select_option(GROUP)
        expect(hours.get_by_test_id("hours-announcement")).to_have_value(V["announcement"], timeout=WAIT)
        page.screenshot(path=str(SHOTS / "xss-supervisor.png"), full_page=True)
        probe.assert_clean()
    finally:
        page.context.close()
