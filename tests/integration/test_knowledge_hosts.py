"""Knowledge versions reach processes on other hosts through the database: the second replica
and the action server keep knowledge folders of their own (tests/support/stack.py), empty when
they started, so everything they answer came to them as an artifact from the database."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from knowledge.live import read_current, version_dir
from tests.support.stack import Stack, own_knowledge_dir

pytestmark = pytest.mark.integration

ENTRY: dict[str, Any] = {
    "key": "kite-repair",
    "lang": "zh",
    "question": "风筝线断了可以修吗？",
    "similar": ["风筝坏了能修吗", "风筝线断了怎么办", "风筝可以保修吗"],
    "answer": "风筝线断了可免费更换一次，请在订单页申请风筝售后。",
    "tags": ["kite"],
    "enabled": True,
}
MARKER = "风筝售后"


def answers_from(url: str, editor: dict[str, str]) -> tuple[int | None, str]:
    """The version that answers the try box on one replica, and its best answer."""
    question = {"text": "风筝线断了能修吗"}
    resp = httpx.post(f"{url}/api/knowledge/try", json=question, headers=editor, timeout=30)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    return body["version"], (body["candidates"][0]["answer"] if body["candidates"] else "")


def wait_for(check: Any, what: str, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(1)
    raise AssertionError(f"{what} within {timeout}s")


def test_a_replica_on_another_host_serves_a_publish_and_follows_a_rollback(stack: Stack) -> None:
    editor = stack.staff("kb-hosts-editor", role="editor")
    publisher, other = stack.service_urls[0], stack.service_urls[1]
    other_dir = own_knowledge_dir(stack.workdir, "service1")
    versions = f"{publisher}/api/knowledge/versions"
    before: int = httpx.get(versions, headers=editor, timeout=10).json()["active"]
    # both started with an empty folder and installed the active version from the database
    assert read_current(other_dir) is not None
    assert read_current(own_knowledge_dir(stack.workdir, "actions")) is not None
    wait_for(lambda: answers_from(other, editor)[0] == before, "the other replica serves the active version")

    created = httpx.post(f"{publisher}/api/knowledge/entries", json=ENTRY, headers=editor, timeout=10)
    assert created.status_code == 201, created.text
    try:
        assert httpx.post(f"{publisher}/api/knowledge/publish", headers=editor, timeout=10).status_code == 202

        def published() -> int | None:
            state = httpx.get(versions, headers=editor, timeout=10).json()
            return None if state["publishing"] or state["active"] == before else int(state["active"])

        new = wait_for(published, "the publish finished", timeout=600)
        _, answer = wait_for(
            lambda: (found := answers_from(other, editor))[0] == new and found,
            "the other replica serves the new version",
        )
        assert MARKER in answer
        assert version_dir(other_dir, new).is_dir()  # unpacked from the artifact in the database
        [(sha256, size)] = stack.sql("SELECT sha256, size FROM knowledge_artifacts WHERE version = :v", v=new)
        assert len(sha256) == 64 and size > 0

        rolled = httpx.post(f"{versions}/{before}/activate", headers=editor, timeout=30)
        assert rolled.status_code == 200, rolled.text
        _, answer = wait_for(
            lambda: (found := answers_from(other, editor))[0] == before and found,
            "the other replica follows the rollback",
        )
        assert MARKER not in answer
        assert read_current(other_dir) == before
    finally:  # the stack is shared: later tests ask the knowledge base as the demo data left it
        httpx.delete(f"{publisher}/api/knowledge/entries/{ENTRY['key']}", headers=editor, timeout=10)
        httpx.post(f"{versions}/{before}/activate", headers=editor, timeout=30)
