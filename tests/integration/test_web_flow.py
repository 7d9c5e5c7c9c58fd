"""A customer on the web channel, end to end through the real service, Rasa, actions and index."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.support import visitors
from tests.support.stack import Stack

pytestmark = pytest.mark.integration


def ask(stack: Stack, text: str, lang: str | None = None, visitor: str | None = None) -> dict[str, Any]:
    visitor = visitor or uuid.uuid4().hex
    body: dict[str, Any] = {"visitor_id": visitor, "text": text}
    if lang:
        body["lang"] = lang
    resp = httpx.post(
        f"{stack.service_url}/api/web/messages", json=body, headers=visitors.headers(visitor), timeout=60
    )
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = visitors.remember(visitor, resp.json())
    return data


def reply_text(result: dict[str, Any]) -> str:
    return "\n".join(r["text"] for r in result["replies"])


def test_health_is_green(stack: Stack) -> None:
    resp = httpx.get(f"{stack.service_url}/healthz", timeout=10)
    assert resp.status_code == 200
    assert set(resp.json()["components"].values()) == {"up"}


@pytest.mark.parametrize(
    ("question", "lang", "expected"),
    [
        ("退款多久能到账？", "zh", "工作日"),
        ("how long does a refund take", "en", "business day"),
        ("你们周末上班吗", "zh", "周末"),
    ],
)
def test_faq_questions_are_answered(stack: Stack, question: str, lang: str, expected: str) -> None:
    result = ask(stack, question, lang)
    assert result["state"] == "bot", result
    assert expected in reply_text(result), result


def test_out_of_scope_is_handed_to_a_human(stack: Stack) -> None:
    result = ask(stack, "帮我写一首诗", "zh")
    assert result["state"] == "queued", result
    assert "人工" in reply_text(result)


def test_new_faq_is_answered_after_publish_without_restart(stack: Stack, tmp_path: Path) -> None:
    entry = {
        "id": "drone-license",
        "lang": "zh",
        "question": "买无人机需要实名登记吗？",
        "similar": ["无人机要不要登记", "无人机实名制怎么弄", "买了无人机要去哪里注册"],
        "answer": "需要。起飞重量 250 克以上的无人机须在民航局系统实名登记，订单页有登记指引。",
        "tags": ["drone"],
    }
    editor = stack.staff("web-flow-editor", role="editor")
    versions = f"{stack.service_url}/api/knowledge/versions"
    active = httpx.get(versions, headers=editor, timeout=10).json()["active"]
    try:
        publish_and_ask(stack, tmp_path, entry)
    finally:  # the stack is shared: later tests ask the knowledge base as the demo data left it
        httpx.delete(f"{stack.service_url}/api/knowledge/entries/drone-license", headers=editor, timeout=10)
        httpx.post(f"{versions}/{active}/activate", headers=editor, timeout=30)
        # the action servers swap back in the background; later tests must not see the publish
        # (it also took in the wordings that earlier tests taught through agents' replies)
        assert answered_within(stack, "无人机需要实名登记吗", "民航局", present=False), (
            "the rollback never took effect"
        )


def publish_and_ask(stack: Stack, tmp_path: Path, entry: Mapping[str, object]) -> None:
    before = ask(stack, "无人机需要实名登记吗", "zh")
    assert "民航局" not in reply_text(before)
    path = tmp_path / "extra.yaml"
    path.write_text(yaml.safe_dump([entry], allow_unicode=True), encoding="utf-8")
    imported = stack.kefu("knowledge", "import", str(path))
    assert imported.returncode == 0, imported.stderr
    published = stack.kefu("knowledge", "publish")
    assert published.returncode == 0, published.stderr
    # the action server swaps the index in the background
    assert answered_within(stack, "无人机需要实名登记吗", "民航局", present=True), (
        "the publish never took effect"
    )


def answered_within(stack: Stack, question: str, marker: str, *, present: bool, seconds: int = 60) -> bool:
    """Whether, within ``seconds``, the bot's answer to ``question`` comes to contain ``marker``
    (``present``) or comes to lack it."""
    for _ in range(seconds):
        if (marker in reply_text(ask(stack, question, "zh"))) == present:
            return True
        time.sleep(1)
    return False


def test_bad_input_gets_a_clear_error(stack: Stack) -> None:
    resp = httpx.post(
        f"{stack.service_url}/api/web/messages", json={"visitor_id": "v", "text": ""}, timeout=10
    )
    assert resp.status_code == 422
    assert resp.json()["error"]["code"] == "invalid_text"


def test_one_request_id_is_followed_into_the_action_server(stack: Stack) -> None:
    """An operator greps one id and sees the message in the service's and the action server's logs."""
    request_id = f"it-{uuid.uuid4().hex[:12]}"
    visitor = uuid.uuid4().hex
    resp = httpx.post(
        f"{stack.service_url}/api/web/messages",
        json={"visitor_id": visitor, "text": "退款多久到账", "lang": "zh"},
        headers={**visitors.headers(visitor), "X-Request-Id": request_id},
        timeout=60,
    )
    assert resp.status_code == 200 and resp.headers["x-request-id"] == request_id
    visitors.remember(visitor, resp.json())
    action_lines = [  # actions.log, and actions-restarted.log once a test restarted it
        json.loads(line)
        for log in stack.workdir.glob("actions*.log")
        for line in log.read_text(encoding="utf-8").splitlines()
        if request_id in line
    ]
    assert any(line["message"].startswith("running action_") for line in action_lines), action_lines
