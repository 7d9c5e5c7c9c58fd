"""The agent console and the finished widget in real headless Chromium against the running
system (Rasa, action server, two service replicas): customers in the widget on one replica,
agents in the console on the other."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, ViewportSize, expect

from core.settings import ROOT
from tests.support import visitors
from tests.support.stack import STAFF_PASSWORD, Stack

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SHOTS = ROOT / "docs" / "screenshots"
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 780}
BOT_WAIT = 60_000
LABELS = {"en": ("Username", "Password", "Log in"), "zh": ("用户名", "密码", "登录")}
# Every WebSocket the page opens is kept in window.__sockets, so a test can cut them.
TRACK_SOCKETS = """
(() => {
  const Native = window.WebSocket;
  window.__sockets = [];
  function Tracked(url, protocols) {
    const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
    window.__sockets.push(ws);
    return ws;
  }
  Tracked.prototype = Native.prototype;
  for (const name of ["CONNECTING", "OPEN", "CLOSING", "CLOSED"]) Tracked[name] = Native[name];
  window.WebSocket = Tracked;
})();
"""


def add_agent(stack: Stack, name: str, display_name: str, skills: str = "general", seats: int = 5) -> None:
    added = stack.kefu(
        "agents", "add", name, "--role", "agent", "--skills", skills, "--max-concurrent", str(seats),
        "--display-name", display_name, "--password-stdin", stdin=f"{STAFF_PASSWORD}\n",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr


def new_context(browser: Browser, lang: str, viewport: ViewportSize, **kw: Any) -> BrowserContext:
    context = browser.new_context(locale="en-US" if lang == "en" else "zh-CN", viewport=viewport, **kw)
    context.add_init_script(TRACK_SOCKETS)
    return context


def console(browser: Browser, stack: Stack, name: str, lang: str) -> Page:
    """An agent signed in to the console on replica 1 (online at once)."""
    page = new_context(browser, lang, DESKTOP).new_page()
    page.goto(f"{stack.service_urls[1]}/console?lang={lang}")
    user, password, button = LABELS[lang]
    page.get_by_label(user).fill(name)
    page.get_by_label(password).fill(STAFF_PASSWORD)
    page.get_by_role("button", name=button).click()
    expect(page.get_by_test_id("presence")).to_have_value("online", timeout=15_000)
    return page


def widget(browser: Browser, stack: Stack, lang: str, viewport: ViewportSize = DESKTOP, **kw: Any) -> Page:
    page = new_context(browser, lang, viewport, **kw).new_page()
    page.goto(f"{stack.service_urls[0]}/?lang={lang}")
    return page


def say(page: Page, text: str) -> None:
    page.get_by_test_id("input").fill(text)
    page.get_by_test_id("send").click()


def conversation_of(page: Page) -> str:
    conv = page.evaluate("window.localStorage.getItem('kefu.conversation_id')")
    assert isinstance(conv, str) and conv
    return conv


def item(page: Page, conv: str) -> Any:
    return page.locator(f"[data-testid=conversation-item][data-id='{conv}']")


def cut_sockets(page: Page) -> None:
    page.context.set_offline(True)
    page.evaluate("window.__sockets.forEach((ws) => ws.close())")


def staff_get(page: Page, path: str) -> Any:
    """A GET of the staff API with the signed-in console's own token."""
    return page.evaluate(
        """async (path) => {
             const token = JSON.parse(sessionStorage.getItem('kefu.session')).token;
             const resp = await fetch(path, { headers: { Authorization: 'Bearer ' + token } });
             return resp.json();
           }""",
        path,
    )


def log_out(page: Page) -> None:
    """Offline first (as an agent ends a shift), then log out."""
    with page.expect_response(lambda r: r.url.endswith("/api/agent/status") and r.ok):
        page.get_by_test_id("presence").select_option("offline")
    page.get_by_test_id("logout").click()
    expect(page.get_by_test_id("login-form")).to_be_visible()
    page.context.close()


def test_declined_customer_to_agent_suggestion_note_transfer_close_and_rating(
    browser: Browser, stack: Stack
) -> None:
    add_agent(stack, "console-anna", "Anna 安娜")
    add_agent(stack, "console-ben", "Ben 本")
    customer = widget(browser, stack, "zh")
    say(customer, "帮我写一首诗")
    expect(customer.get_by_test_id("state")).to_contain_text(
        "排队", timeout=BOT_WAIT
    )  # declined into the queue
    conv = conversation_of(customer)

    anna = console(browser, stack, "console-anna", "en")
    item(anna, conv).click()  # assigned when she came online; opened from her list
    expect(anna.get_by_test_id("line-customer").first.get_by_test_id("line-text")).to_have_text(
        "帮我写一首诗"
    )
    expect(anna.get_by_test_id("line-bot").first).to_be_visible()  # the bot part of the transcript
    expect(anna.get_by_test_id("handoff-reason")).to_be_visible()
    expect(customer.get_by_test_id("state")).to_have_text("人工客服 · Anna 安娜", timeout=15_000)

    anna.get_by_test_id("insert-suggestion").first.click(timeout=180_000)  # the first use loads the models
    suggested = anna.get_by_label("Message").input_value()
    assert suggested
    anna.get_by_label("Message").press("Enter")
    expect(customer.get_by_test_id("msg-agent").filter(has_text=suggested[:12])).to_have_count(
        1, timeout=15_000
    )

    anna.get_by_test_id("note-box").fill("客户语气着急，优先处理")
    anna.get_by_test_id("add-note").click()
    expect(anna.get_by_test_id("line-note").filter(has_text="优先处理")).to_be_visible()

    customer.get_by_test_id("input").fill("还")  # typing is shown to the agent
    expect(anna.get_by_test_id("customer-typing")).to_be_visible(timeout=10_000)
    hostile = '<img src=x onerror="window.__pwned=1"><b>bold</b>'
    customer.get_by_test_id("input").fill(hostile)
    customer.get_by_test_id("send").click()
    expect(anna.get_by_test_id("line-customer").last.get_by_test_id("line-text")).to_have_text(hostile)
    assert anna.evaluate("window.__pwned === undefined")
    assert anna.locator("[data-testid=transcript] b, [data-testid=transcript] img").count() == 0
    anna.screenshot(path=str(SHOTS / "console-en.png"))

    ben = console(browser, stack, "console-ben", "zh")
    anna.get_by_test_id("transfer").click()
    anna.get_by_test_id("transfer-target").select_option("console-ben")
    anna.get_by_test_id("transfer-note").fill("客户想退款，请跟进")
    anna.get_by_test_id("confirm-transfer").click()
    expect(item(anna, conv)).to_have_count(0, timeout=15_000)
    item(ben, conv).click(timeout=15_000)  # appeared live in Ben's list
    expect(ben.get_by_test_id("line-note").filter(has_text="请跟进")).to_be_visible()
    expect(ben.get_by_test_id("customer-tier")).to_be_visible()
    expect(ben.get_by_test_id("suggestion").first).to_be_visible(timeout=30_000)
    ben.screenshot(path=str(SHOTS / "console-zh.png"))
    ben.get_by_test_id("close").click()
    expect(ben.get_by_test_id("pane-info")).to_be_visible()

    expect(customer.get_by_test_id("csat")).to_be_visible(timeout=15_000)
    assert customer.get_by_test_id("msg-system").filter(has_text="优先处理").count() == 0  # notes stay inside
    customer.get_by_test_id("star-4").click()
    customer.get_by_test_id("csat-comment").fill("回复很快")
    customer.get_by_test_id("csat-send").click()
    expect(customer.get_by_test_id("csat")).to_have_attribute("data-rated", "4")
    customer.screenshot(path=str(SHOTS / "widget-zh-desktop.png"))
    panel = staff_get(ben, f"/api/agent/conversations/{conv}/customer")
    assert [(r["rating"], r["comment"]) for r in panel["ratings"]] == [(4, "回复很快")]
    log_out(anna)
    log_out(ben)
    customer.context.close()


def test_a_vip_jumps_the_queue(browser: Browser, stack: Stack) -> None:
    add_agent(stack, "console-vip", "Vivian 薇薇", skills="general,vip", seats=1)
    normal = uuid.uuid4().hex
    resp = httpx.post(
        f"{stack.service_url}/api/web/messages",
        json={"visitor_id": normal, "text": "帮我写一首诗", "lang": "zh"},
        timeout=60,
    )
    assert resp.json()["state"] == "queued"
    vip = widget(browser, stack, "zh", PHONE, is_mobile=True, has_touch=True)
    say(vip, "你好")
    expect(vip.get_by_test_id("msg-bot").last).to_be_visible(timeout=BOT_WAIT)
    visitor = vip.evaluate("window.localStorage.getItem('kefu.visitor_id')")
    stack.sql(  # an admin's doing
        "UPDATE customers SET tier = 'S', display_name = '金卡 王女士' WHERE id IN "
        "(SELECT customer_id FROM channel_identities WHERE channel_user_id = :visitor)",
        visitor=visitor,
    )
    vip.get_by_test_id("talk-to-human").click()
    expect(vip.get_by_test_id("state")).to_contain_text("排队", timeout=BOT_WAIT)

    agent = console(browser, stack, "console-vip", "en")  # one seat: it goes to the VIP, who came later
    expect(agent.get_by_test_id("conversation-item")).to_have_count(1, timeout=15_000)
    expect(item(agent, conversation_of(vip)).get_by_test_id("tier")).to_have_text("VIP S")
    expect(vip.get_by_test_id("state")).to_have_text("人工客服 · Vivian 薇薇", timeout=15_000)
    vip.screenshot(path=str(SHOTS / "widget-zh-phone.png"))
    waiting = httpx.get(
        f"{stack.service_url}/api/web/conversations/{resp.json()['conversation_id']}/messages",
        headers={visitors.HEADER: resp.json()["visitor_token"]},
        timeout=10,
    ).json()
    assert waiting["state"] == "queued" and waiting["queue_position"] == 1
    log_out(agent)
    vip.context.close()


def test_taken_at_once_and_reconnects_lose_and_repeat_nothing(browser: Browser, stack: Stack) -> None:
    add_agent(stack, "console-cara", "Cara 卡拉")
    agent = console(browser, stack, "console-cara", "en")
    customer = widget(browser, stack, "en")
    say(customer, "帮我写一首诗")
    expect(customer.get_by_test_id("state")).to_have_text("Agent · Cara 卡拉", timeout=BOT_WAIT)
    conv = conversation_of(customer)
    # Taken at once: the customer is never told a place in a queue.
    expect(customer.get_by_test_id("msg-system").filter(has_text="queue")).to_have_count(0)
    item(agent, conv).click(timeout=15_000)

    cut_sockets(customer)  # the customer's network drops; the agent writes meanwhile
    agent.get_by_label("Message").fill("Are you still there?")
    agent.get_by_label("Message").press("Enter")
    expect(agent.get_by_test_id("delivery").last).to_have_text("delivered", timeout=15_000)
    customer.wait_for_timeout(1500)
    customer.context.set_offline(False)
    said = customer.get_by_test_id("msg-agent").filter(has_text="Are you still there?")
    expect(said).to_have_count(1, timeout=40_000)
    customer.wait_for_timeout(4000)  # a poll and the new socket later: still once
    expect(said).to_have_count(1)

    cut_sockets(agent)  # now the agent's network drops; the customer writes meanwhile
    say(customer, "Yes, I am here")
    agent.wait_for_timeout(1500)
    agent.context.set_offline(False)
    expect(agent.get_by_test_id("reconnecting")).to_have_count(0, timeout=30_000)
    heard = agent.get_by_test_id("line-customer").filter(has_text="Yes, I am here")
    expect(heard).to_have_count(1, timeout=15_000)
    agent.wait_for_timeout(2000)
    expect(heard).to_have_count(1)

    agent.get_by_test_id("view-canned").click()  # a canned reply of her own, used with /
    agent.get_by_label("Shortcut").fill("wait")
    agent.get_by_label("Text", exact=True).fill("Thank you for waiting!")
    agent.get_by_role("button", name="Add", exact=True).click()
    expect(agent.get_by_test_id("canned-view")).to_contain_text("/wait")
    agent.get_by_test_id("view-conversations").click()
    agent.get_by_label("Message").fill("/wa")
    expect(agent.get_by_test_id("canned-matches")).to_contain_text("Thank you for waiting!")
    agent.get_by_label("Message").press("Enter")  # takes the canned reply
    expect(agent.get_by_label("Message")).to_have_value("Thank you for waiting!")
    agent.get_by_label("Message").press("Enter")  # sends it
    expect(customer.get_by_test_id("msg-agent").filter(has_text="Thank you for waiting!")).to_have_count(1)
    customer.screenshot(path=str(SHOTS / "widget-en-desktop.png"))

    agent.get_by_test_id("create-ticket").click()
    expect(agent.get_by_test_id("pane-info")).to_contain_text("Ticket T")
    agent.get_by_test_id("view-tickets").click()
    expect(agent.get_by_test_id("ticket-row").first).to_be_visible()
    expect(agent.get_by_test_id("sla").first).to_contain_text("due in")
    agent.get_by_test_id("view-conversations").click()
    agent.get_by_test_id("close").click()
    log_out(agent)
    customer.context.close()


def test_the_widget_fits_a_phone(browser: Browser, stack: Stack) -> None:
    page = widget(browser, stack, "en", PHONE, is_mobile=True, has_touch=True)
    say(page, "how long does a refund take")
    expect(page.get_by_test_id("msg-bot").last).to_contain_text("business day", timeout=BOT_WAIT)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    expect(page.get_by_test_id("talk-to-human")).to_be_in_viewport()
    expect(page.get_by_test_id("send")).to_be_in_viewport()
    page.screenshot(path=str(SHOTS / "widget-en-phone.png"))
    page.context.close()
