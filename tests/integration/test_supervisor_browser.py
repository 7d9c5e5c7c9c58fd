"""The supervisor dashboard in real headless Chromium against the running system: the floor
changes when a customer queues, a rule change takes effect, a report renders its charts and
exports CSV, an admin adds and disables a staff account. Screenshots (zh, en) go to
docs/screenshots/."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.stack import STAFF_PASSWORD, Stack

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SUPERVISOR = "floor-watcher"
ADMIN = "staff-keeper"


@pytest.fixture(scope="module")
def supervisor(stack: Stack) -> dict[str, str]:
    return stack.staff(SUPERVISOR, role="supervisor")


def open_dashboard(browser: Browser, stack: Stack, lang: str, user: str = SUPERVISOR) -> Page:
    context = browser.new_context(
        locale="zh-CN" if lang == "zh" else "en-US", viewport={"width": 1280, "height": 800}
    )
    page = context.new_page()
    page.goto(f"{stack.service_url}/supervisor?lang={lang}")
    log_in(page, user)
    expect(page.get_by_test_id("floor")).to_be_visible(timeout=15_000)
    expect(page.get_by_test_id("total-queued")).to_be_visible(timeout=15_000)
    return page


def log_in(page: Page, user: str, password: str = STAFF_PASSWORD) -> None:
    page.locator("#kefu-username").fill(user)
    page.locator("#kefu-password").fill(password)
    page.get_by_test_id("login-form").locator("button[type=submit]").click()


def queue_a_customer(stack: Stack) -> str:
    resp = httpx.post(
        f"{stack.service_urls[-1]}/api/web/messages",
        json={"visitor_id": uuid.uuid4().hex, "text": "帮我写一首诗", "lang": "zh"},
        timeout=60,
    )
    assert resp.status_code == 200 and resp.json()["state"] == "queued", resp.text
    conversation_id: str = resp.json()["conversation_id"]
    return conversation_id


@pytest.fixture
def page_zh(browser: Browser, stack: Stack, supervisor: dict[str, str]) -> Iterator[Page]:
    page = open_dashboard(browser, stack, "zh")
    yield page
    page.context.close()


@pytest.fixture
def page_en(browser: Browser, stack: Stack, supervisor: dict[str, str]) -> Iterator[Page]:
    page = open_dashboard(browser, stack, "en")
    yield page
    page.context.close()


def test_the_floor_changes_when_a_customer_queues(page_zh: Page, stack: Stack) -> None:
    queued = page_zh.get_by_test_id("total-queued")
    before = int(queued.inner_text())
    queue_a_customer(stack)  # on the other replica: the change travels over Redis
    expect(queued).to_have_text(str(before + 1), timeout=10_000)
    expect(page_zh.get_by_test_id("group-general").get_by_test_id("queue-length")).not_to_have_text("0")
    page_zh.screenshot(path=str(SHOTS / "supervisor-floor-zh.png"))


def test_a_rule_change_takes_effect(page_en: Page, stack: Stack, supervisor: dict[str, str]) -> None:
    queue_a_customer(stack)
    page_en.get_by_test_id("tab-settings").click()
    rule = page_en.get_by_test_id("rule-queue_length")
    rule.get_by_test_id("rule-threshold").fill("0")
    rule.get_by_test_id("rule-save").click()
    expect(page_en.get_by_test_id("settings-notice")).to_have_text("Saved")
    page_en.screenshot(path=str(SHOTS / "supervisor-settings-en.png"))
    page_en.get_by_test_id("tab-floor").click()
    alert = page_en.get_by_test_id("alert").filter(has_text="Queue general")
    expect(alert.first).to_contain_text("(limit 0)", timeout=15_000)  # pushed over the socket
    page_en.screenshot(path=str(SHOTS / "supervisor-floor-en.png"))
    rules = httpx.get(
        f"{stack.service_url}/api/supervisor/settings/alert-rules", headers=supervisor, timeout=10
    )
    [queue_rule] = [r for r in rules.json()["rules"] if r["kind"] == "queue_length"]
    assert queue_rule["threshold"] == 0.0
    httpx.put(
        f"{stack.service_url}/api/supervisor/settings/alert-rules/{queue_rule['id']}",
        json={"threshold": 10},
        headers=supervisor,
        timeout=10,
    )


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_report_renders_its_charts_and_exports_csv(
    browser: Browser,
    stack: Stack,
    supervisor: dict[str, str],
    lang: str,
) -> None:
    queue_a_customer(stack)  # at least one conversation today
    page = open_dashboard(browser, stack, lang)
    try:
        page.get_by_test_id("tab-reports").click()
        expect(page.get_by_test_id("figure-conversations").locator("strong")).not_to_have_text(
            "0", timeout=15_000
        )
        charts = page.get_by_test_id("chart")
        expect(charts).to_have_count(3)
        for index in range(3):
            expect(charts.nth(index).locator("canvas")).to_have_count(1)
        page.wait_for_timeout(600)  # the charts' entry animation
        page.screenshot(path=str(SHOTS / f"supervisor-reports-{lang}.png"))
        with page.expect_download() as download:
            page.get_by_test_id("report-csv").click()
        text = Path(download.value.path()).read_text(encoding="utf-8-sig")
        assert text.startswith("section,key,conversations,")
    finally:
        page.context.close()


def close_a_conversation_with_a_forbidden_word(stack: Stack) -> str:
    """An agent replies with a forbidden word and closes: the conversation is scored at close."""
    word = f"滚{uuid.uuid4().hex[:4]}"
    added = stack.kefu("quality", "words", "add", "forbidden", word, "--lang", "zh")
    assert added.returncode == 0, added.stderr
    agent = stack.staff(f"rude-{uuid.uuid4().hex[:6]}", skills="general", max_concurrent=50)
    url = stack.service_url
    conv = queue_a_customer(stack)
    try:
        httpx.put(f"{url}/api/agent/status", json={"status": "online"}, headers=agent, timeout=30)
        mine = httpx.get(f"{url}/api/agent/conversations", headers=agent, timeout=10).json()
        assert conv in [c["id"] for c in mine["conversations"]]
        sent = httpx.post(
            f"{url}/api/agent/conversations/{conv}/messages",
            json={"text": f"你给我{word}"},
            headers=agent,
            timeout=10,
        )
        assert sent.status_code == 200, sent.text
        closed = httpx.post(f"{url}/api/agent/conversations/{conv}/close", headers=agent, timeout=10)
        assert closed.status_code == 200, closed.text
    finally:
        httpx.put(f"{url}/api/agent/status", json={"status": "offline"}, headers=agent, timeout=30)
    return conv


def test_the_quality_view_lists_the_worst_conversations(page_zh: Page, stack: Stack) -> None:
    conv = close_a_conversation_with_a_forbidden_word(stack)
    page_zh.get_by_test_id("tab-quality").click()
    worst = page_zh.get_by_test_id("worst").locator("tbody tr").filter(has_text=conv[:10])
    expect(worst).to_be_visible(timeout=10_000)
    worst.locator("button").click()
    expect(page_zh.get_by_test_id("quality")).to_contain_text("禁用词")
    page_zh.screenshot(path=str(SHOTS / "supervisor-quality-zh.png"))


@pytest.fixture(scope="module")
def admin(stack: Stack) -> dict[str, str]:
    return stack.staff(ADMIN, role="admin")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_staff_settings_add_an_agent_who_logs_in_and_disabling_signs_them_out(
    browser: Browser, stack: Stack, admin: dict[str, str], lang: str
) -> None:
    hire = f"hire-{lang}-{uuid.uuid4().hex[:6]}"
    page = open_dashboard(browser, stack, lang, ADMIN)
    agent_page = browser.new_context(locale="zh-CN" if lang == "zh" else "en-US").new_page()
    try:
        page.get_by_test_id("tab-settings").click()
        expect(page.get_by_test_id("staff-settings")).to_be_visible()
        expect(page.get_by_test_id(f"staff-row-{ADMIN}").get_by_test_id("staff-enabled")).to_be_disabled()
        page.get_by_test_id("staff-add-username").fill(hire)
        page.get_by_test_id("staff-add-display-name").fill("小新" if lang == "zh" else "Newbie")
        page.get_by_test_id("staff-add-role").select_option("agent")
        page.get_by_test_id("staff-add-skills").fill("training, onboarding")
        page.get_by_test_id("staff-add-max").fill("3")
        page.get_by_test_id("staff-add-password").fill("short")
        page.get_by_test_id("staff-add").click()  # the browser's own minlength check refuses it
        expect(page.get_by_test_id(f"staff-row-{hire}")).to_have_count(0)
        page.get_by_test_id("staff-add-password").fill(STAFF_PASSWORD)
        page.get_by_test_id("staff-add").click()
        expect(page.get_by_test_id("staff-notice")).to_contain_text(hire)
        row = page.get_by_test_id(f"staff-row-{hire}")
        expect(row.get_by_test_id("staff-skills")).to_have_value("training, onboarding")
        expect(row.get_by_test_id("staff-max")).to_have_value("3")
        page.screenshot(path=str(SHOTS / f"supervisor-staff-{lang}.png"), full_page=True)

        # The new agent (in groups no customer of the shared stack waits in) signs in to the
        # console on the other replica.
        agent_page.goto(f"{stack.service_urls[1]}/console?lang={lang}")
        log_in(agent_page, hire)
        expect(agent_page.get_by_test_id("presence")).to_be_visible(timeout=15_000)
        expect(agent_page.get_by_test_id("who")).to_have_text(hire)

        # Disabled by the admin: the console is signed out by itself and may not sign in again.
        row.get_by_test_id("staff-enabled").uncheck()
        row.get_by_test_id("staff-save").click()
        expect(page.get_by_test_id("staff-notice")).to_contain_text(hire)
        expect(row).to_have_class("off")
        expect(agent_page.get_by_test_id("login-form")).to_be_visible(timeout=30_000)
        log_in(agent_page, hire)
        expect(agent_page.get_by_test_id("login-error")).to_be_visible()
        refused = httpx.post(
            f"{stack.service_url}/api/auth/login",
            json={"username": hire, "password": STAFF_PASSWORD},
            timeout=10,
        )
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "account_disabled"
        entries = httpx.get(f"{stack.service_url}/api/admin/audit", headers=admin, timeout=10).json()
        done = [(e["actor"], e["action"], e["data"]) for e in entries["entries"] if e["target"] == hire]
        assert done[:2] == [
            (ADMIN, "staff.change", {"enabled": False}),
            (
                ADMIN,
                "staff.add",
                {
                    "display_name": "小新" if lang == "zh" else "Newbie",
                    "role": "agent",
                    "skills": ["training", "onboarding"],
                    "max_concurrent": 3,
                },
            ),
        ]
    finally:
        agent_page.context.close()
        page.context.close()


GROUPS = "/api/supervisor/settings/groups"
RULES = "/api/supervisor/settings/routing-rules"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def test_a_routing_rule_sends_english_customers_to_their_group(
    browser: Browser, stack: Stack, supervisor: dict[str, str]
) -> None:
    """The supervisor adds the group ``english`` (open around the clock) and a rule sending
    English-speaking customers there, in the page of one replica; a customer asking for a human
    in English on the widget of the other replica waits in that group's queue."""
    url = stack.service_url
    rules_before = httpx.get(f"{url}{RULES}", headers=supervisor, timeout=10).json()["rules"]
    page = open_dashboard(browser, stack, "en")
    widget = None
    conversation = None
    try:
        page.get_by_test_id("tab-settings").click()
        page.get_by_test_id("group-new-name").fill("english")
        page.get_by_test_id("group-new-zh").fill("英语")
        page.get_by_test_id("group-new-en").fill("English")
        page.get_by_test_id("group-add").click()
        expect(page.get_by_test_id("group-row-english")).to_be_visible()

        hours = page.get_by_test_id("hours-settings")
        hours.get_by_test_id("hours-group").select_option("english")
        expect(hours.get_by_test_id("hours-status")).to_contain_text("default hours")
        for day in DAYS:
            hours.get_by_test_id(f"hours-{day}").fill("00:00-24:00")
        hours.get_by_test_id("hours-save").click()
        expect(hours.get_by_test_id("hours-notice")).to_have_text("Saved")

        routing = page.get_by_test_id("routing-settings")
        routing.get_by_test_id("routing-add").click()
        first = routing.get_by_test_id("routing-rule").first
        first.get_by_test_id("routing-lang").select_option("en")
        first.get_by_test_id("routing-group").select_option("english")
        routing.get_by_test_id("routing-save").click()
        expect(routing.get_by_test_id("routing-notice")).to_have_text("Saved")
        routing.scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / "supervisor-routing-en.png"), full_page=True)

        widget = browser.new_context(locale="en-US").new_page()
        widget.goto(f"{stack.service_urls[-1]}/?lang=en")  # the other replica
        widget.get_by_test_id("input").fill("i want to talk to a human")
        widget.get_by_test_id("send").click()
        expect(widget.get_by_test_id("state")).to_contain_text("queue", timeout=30_000)
        conversation = widget.evaluate("window.localStorage.getItem('kefu.conversation_id')")

        page.get_by_test_id("tab-floor").click()
        english = page.get_by_test_id("group-english")
        expect(english.get_by_test_id("queue-length")).to_have_text("1", timeout=15_000)
        floor = httpx.get(f"{url}/api/supervisor/floor", headers=supervisor, timeout=10).json()
        [group] = [g for g in floor["groups"] if g["group"] == "english"]
        assert group["queued"] == 1

        zh = open_dashboard(browser, stack, "zh")
        try:
            zh.get_by_test_id("tab-settings").click()
            expect(zh.get_by_test_id("routing-rule").first.get_by_test_id("routing-group")).to_have_value(
                "english"
            )
            zh.get_by_test_id("routing-settings").scroll_into_view_if_needed()
            zh.screenshot(path=str(SHOTS / "supervisor-routing-zh.png"), full_page=True)
        finally:
            zh.context.close()
    finally:
        # The stack is shared: the waiting customer moves to general, the rules and groups go back.
        if conversation:
            httpx.post(
                f"{url}/api/agent/conversations/{conversation}/transfer",
                json={"to_group": "general"},
                headers=supervisor,
                timeout=10,
            )
        restored = httpx.put(f"{url}{RULES}", json={"rules": rules_before}, headers=supervisor, timeout=10)
        assert restored.status_code == 200, restored.text
        httpx.delete(f"{url}{GROUPS}/english", headers=supervisor, timeout=10)
        if widget is not None:
            widget.context.close()
        page.context.close()
    assert httpx.get(f"{url}{RULES}", headers=supervisor, timeout=10).json()["rules"] == rules_before
