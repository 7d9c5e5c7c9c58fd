"""The knowledge editor in real headless Chromium against the running system (real Rasa, two
service replicas): an editor adds an entry, tries it, publishes, and the widget answers it; a
rollback makes the widget decline it again; a cluster of declined questions becomes an entry.
Screenshots of the page in zh and en go to docs/screenshots/."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.stack import STAFF_PASSWORD, Stack

pytestmark = [pytest.mark.integration, pytest.mark.browser]

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
QUESTION = "你们的仓库可以参观吗？"
ANSWER = "仓库暂不对外开放参观，感谢您的关注。"
POEM = "帮我写一首关于春天的诗"


def editor_page(browser: Browser, stack: Stack, lang: str) -> Page:
    page = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800}).new_page()
    page.goto(f"{stack.service_url}/editor?lang={lang}")
    page.locator("#kefu-username").fill("editor-pw")
    page.locator("#kefu-password").fill(STAFF_PASSWORD)
    page.locator("#kefu-password").press("Enter")
    expect(page.get_by_test_id("editor-home")).to_be_visible(timeout=15_000)
    return page


def ask_widget(browser: Browser, stack: Stack, text: str, replica: int = 1) -> Page:
    """A new customer (own browser context) asks one question on the widget of one replica."""
    page = browser.new_context(locale="zh-CN").new_page()
    page.goto(stack.service_urls[replica] + "/")
    page.get_by_test_id("input").fill(text)
    page.get_by_test_id("send").click()
    expect(page.get_by_test_id("msg-bot").last).to_be_visible(timeout=30_000)
    return page


def ask_until(browser: Browser, stack: Stack, text: str, answered: bool) -> Page:
    """The action server loads a newly activated version in the background and keeps answering
    from the one it has meanwhile (no search waits): ask new customers until it has switched."""
    for _ in range(12):
        page = ask_widget(browser, stack, text)
        page.wait_for_timeout(1000)
        got = ANSWER in page.get_by_test_id("messages").inner_text()
        if got == answered:
            return page
        page.context.close()
        time.sleep(5)
    raise AssertionError(f"the widget never {'answered' if answered else 'declined'} {text!r}")


def publish(page: Page, stack: Stack, headers: dict[str, str]) -> int:
    page.get_by_test_id("tab-versions").click()
    page.get_by_test_id("publish").click()
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        state = httpx.get(f"{stack.service_url}/api/knowledge/versions", headers=headers, timeout=10).json()
        if not state["publishing"] and state["versions"] and state["versions"][0]["active"]:
            version: int = state["versions"][0]["version"]
            expect(page.get_by_test_id(f"version-{version}")).to_be_visible(timeout=15_000)
            return version
        time.sleep(1)
    raise AssertionError("the publish did not finish")


def test_editor_adds_publishes_rolls_back_and_turns_a_cluster_into_an_entry(
    browser: Browser, stack: Stack
) -> None:
    headers = stack.staff("editor-pw", role="editor")
    try:
        edit_publish_roll_back_and_resolve_a_cluster(browser, stack, headers)
    finally:  # the stack is shared: a later publish by another test must not pick these up
        for key in ("warehouse-visit", "poems"):
            httpx.delete(f"{stack.service_url}/api/knowledge/entries/{key}", headers=headers, timeout=10)


def edit_publish_roll_back_and_resolve_a_cluster(
    browser: Browser, stack: Stack, headers: dict[str, str]
) -> None:
    before = httpx.get(f"{stack.service_url}/api/knowledge/versions", headers=headers, timeout=10).json()
    first_version = before["active"]
    page = editor_page(browser, stack, "zh")

    # create an entry
    page.get_by_test_id("entry-new").click()
    page.get_by_test_id("entry-key").fill("warehouse-visit")
    page.get_by_test_id("entry-question").fill(QUESTION)
    page.get_by_test_id("entry-similar").fill("能去仓库参观吗\n仓库开放参观吗\n可以预约参观仓库吗")
    page.get_by_test_id("entry-answer").fill(ANSWER)
    page.get_by_test_id("entry-save").click()
    expect(page.get_by_test_id("entry-saved")).to_be_visible()
    expect(page.get_by_test_id("entry-history")).to_contain_text("editor-pw")

    # try it against the draft, live as the editor types
    page.get_by_test_id("try-draft").check()
    page.get_by_test_id("try-input").fill("仓库能参观吗")
    expect(page.get_by_test_id("try-candidates").locator("li").first).to_have_attribute(
        "data-key", "warehouse-visit", timeout=900_000
    )
    page.screenshot(path=str(SHOTS / "editor-entries-zh.png"))

    # publish; the widget (on the other replica) answers
    publish(page, stack, headers)
    widget = ask_until(browser, stack, QUESTION, answered=True)
    expect(widget.get_by_test_id("msg-bot").last).to_contain_text(ANSWER)
    widget.get_by_test_id("feedback-yes").last.click()
    expect(widget.get_by_test_id("feedback").last).to_contain_text("谢谢")
    widget.context.close()

    # roll back to the version before: the widget declines the question again
    page.get_by_test_id(f"activate-{first_version}").click()
    expect(page.get_by_test_id("versions-message")).to_be_visible()
    page.screenshot(path=str(SHOTS / "editor-versions-zh.png"))
    widget = ask_until(browser, stack, QUESTION, answered=False)
    expect(widget.get_by_test_id("state")).to_have_attribute("data-state", "queued", timeout=30_000)
    widget.context.close()

    # two customers ask the same out-of-scope question; the editor turns the cluster into an entry
    for _ in range(2):
        ask_widget(browser, stack, POEM, replica=0).context.close()
    page.get_by_test_id("tab-unanswered").click()
    cluster = page.get_by_test_id("cluster").filter(has_text=POEM)
    expect(cluster).to_be_visible(timeout=15_000)
    # both asks are in it (other tests' customers on this shared stack may have asked alike)
    expect(cluster.get_by_test_id("cluster-count")).to_have_text(
        re.compile(r"^([2-9]|\d\d+)$"), timeout=15_000
    )
    cluster.get_by_test_id("cluster-create").click()
    cluster.get_by_test_id("cluster-new-key").fill("poems")
    cluster.get_by_test_id("cluster-new-answer").fill("抱歉，我们只解答购物相关的问题。")
    page.screenshot(path=str(SHOTS / "editor-unanswered-zh.png"))
    cluster.get_by_test_id("cluster-new-save").click()
    expect(page.get_by_test_id("cluster-message")).to_be_visible()
    created = httpx.get(
        f"{stack.service_url}/api/knowledge/entries/poems", headers=headers, timeout=10
    ).json()
    assert POEM in created["entry"]["similar"]

    english = editor_page(browser, stack, "en")
    english.get_by_test_id("entry-search").fill("warehouse")
    expect(english.get_by_test_id("entry-row-warehouse-visit")).to_be_visible()
    english.get_by_test_id("try-input").fill("can I visit the warehouse")
    expect(english.get_by_test_id("try-decision")).to_be_visible(timeout=60_000)
    english.screenshot(path=str(SHOTS / "editor-entries-en.png"))
    english.get_by_test_id("tab-versions").click()
    expect(english.get_by_test_id("version-list")).to_contain_text("Active")
    english.screenshot(path=str(SHOTS / "editor-versions-en.png"))
