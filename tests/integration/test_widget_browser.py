"""The customer web widget in real headless Chromium against the running system."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.support.stack import Stack

pytestmark = [pytest.mark.integration, pytest.mark.browser]


@pytest.fixture
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN")
    opened = context.new_page()
    opened.goto(stack.service_url + "/")
    yield opened
    context.close()


def send(page: Page, text: str) -> None:
    page.get_by_test_id("input").fill(text)
    page.get_by_test_id("send").click()


def test_customer_asks_in_chinese_and_gets_the_faq_answer(page: Page) -> None:
    send(page, "退款多久能到账？")
    expect(page.get_by_test_id("msg-customer").last).to_have_text("退款多久能到账？")
    expect(page.get_by_test_id("msg-bot").last).to_contain_text("工作日", timeout=30_000)


def test_out_of_scope_goes_to_a_human_and_the_badge_says_so(page: Page) -> None:
    send(page, "帮我写一首诗")
    expect(page.get_by_test_id("msg-bot").last).to_contain_text("人工", timeout=30_000)
    expect(page.get_by_test_id("state")).to_contain_text("排队", timeout=10_000)


def test_english_ui_and_answer(page: Page) -> None:
    page.get_by_test_id("lang-toggle").click()
    send(page, "how long does a refund take")
    expect(page.get_by_test_id("msg-bot").last).to_contain_text("business day", timeout=30_000)


def test_markup_typed_by_a_customer_is_shown_as_text(page: Page) -> None:
    hostile = '<img src=x onerror="window.__pwned=1"><b>bold</b>'
    send(page, hostile)
    expect(page.get_by_test_id("msg-customer").last).to_have_text(hostile)
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned === undefined")
    assert page.locator("[data-testid=msg-customer] b").count() == 0
