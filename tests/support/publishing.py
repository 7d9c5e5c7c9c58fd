"""An editor publishing and rolling back knowledge through the API, and what customers' turns
say about it: which version answered (told by a marker only the new version's answer carries)
and whether each turn is stored exactly as the customer got it."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.customers import Question, Turn
from tests.support.stack import Stack

POLL_SECONDS = 1.0


@dataclass(frozen=True)
class Published:
    version: int
    asked: float  # time.monotonic() of the POST
    done: float  # when the versions list first named the new version active
    progress: tuple[dict[str, Any], ...]  # every distinct progress body the versions list showed


def versions(url: str, editor: dict[str, str]) -> dict[str, Any]:
    resp = httpx.get(f"{url}/api/knowledge/versions", headers=editor, timeout=30)
    resp.raise_for_status()
    body: dict[str, Any] = resp.json()
    return body


def publish(url: str, editor: dict[str, str], timeout: float = 1800) -> Published:
    """``POST /api/knowledge/publish`` and wait until the new version is active."""
    before = versions(url, editor)["active"]
    asked = time.monotonic()
    resp = httpx.post(f"{url}/api/knowledge/publish", headers=editor, timeout=30)
    assert resp.status_code == 202, resp.text
    seen: list[dict[str, Any]] = []
    while time.monotonic() - asked < timeout:
        body = versions(url, editor)
        if body["progress"] and body["progress"] not in seen:
            seen.append(body["progress"])
        if not body["publishing"] and body["active"] != before:
            return Published(int(body["active"]), asked, time.monotonic(), tuple(seen))
        assert body["publishing"], f"the publish ended without a new version: {body}"
        time.sleep(POLL_SECONDS)
    raise AssertionError(f"the publish did not finish within {timeout} s")


def activate(url: str, editor: dict[str, str], version: int) -> float:
    """Roll back (or forward) to ``version``; when it was asked (time.monotonic())."""
    asked = time.monotonic()
    resp = httpx.post(f"{url}/api/knowledge/versions/{version}/activate", headers=editor, timeout=30)
    assert resp.status_code == 200, resp.text
    return asked


@contextmanager
def changed_answer(url: str, editor: dict[str, str], key: str) -> Iterator[str]:
    """The entry ``key``'s answer gains a marker (yielded) for the next publish; afterwards the
    entry and the active version are as before."""
    entry_url = f"{url}/api/knowledge/entries/{key}"
    original: dict[str, Any] = httpx.get(entry_url, headers=editor, timeout=10).json()["entry"]
    active = versions(url, editor)["active"]
    marker = f"（编号 {uuid.uuid4().hex[:8]}）"
    changed = {**original, "answer": original["answer"] + marker}
    resp = httpx.put(entry_url, json=changed, headers=editor, timeout=10)
    assert resp.status_code == 200, resp.text
    try:
        yield marker
    finally:
        httpx.put(entry_url, json=original, headers=editor, timeout=10).raise_for_status()
        if versions(url, editor)["active"] != active:
            activate(url, editor, active)


def first_answer(
    turns: Sequence[Turn], probe: Question, marker: str, *, present: bool, after: float
) -> Turn | None:
    """The first turn asking ``probe`` sent after ``after`` whose answer carries (or lacks)
    ``marker`` (only the probe's answer ever carries it: any other answer lacks it)."""
    return next(
        (t for t in turns if t.question == probe and t.sent >= after and (marker in t.reply_text) == present),
        None,
    )


def wait_for_answer(
    turns: Any, probe: Question, marker: str, *, present: bool, after: float, timeout: float = 120
) -> Turn | None:
    """Wait until ``turns()`` holds such a turn (``first_answer``)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = first_answer(turns(), probe, marker, present=present, after=after)
        if found is not None:
            return found
        time.sleep(POLL_SECONDS)
    return None


def mixed_answers(
    turns: Sequence[Turn], marker: str, *, present: bool, start: float, end: float
) -> list[Turn]:
    """Turns sent in [start, end) whose answer does not agree with ``present``."""
    return [t for t in turns if start <= t.sent < end and (marker in t.reply_text) != present]


def transcript_problems(stack: Stack, turns: Sequence[Turn]) -> list[str]:
    """Every answered turn must be stored as the customer got it: the customer's message once,
    marked done, and exactly the replies the customer got as the bot's answers to it."""
    answered = [t for t in turns if t.ok]
    if not answered:
        return ["no turn was answered"]
    first = min(t.message_id for t in answered)
    rows = stack.sql(
        "SELECT id, conversation_id, sender, reply_to, text, bot_status FROM messages WHERE id >= :first",
        first=first,
    )
    conversations = {t.conversation for t in answered}
    mine = [r for r in rows if r[1] in conversations]
    by_message = {r[0]: r for r in mine}
    replies: dict[int, list[tuple[int, str]]] = {}
    for row in mine:
        if row[2] == "bot" and row[3] is not None:
            replies.setdefault(int(row[3]), []).append((int(row[0]), str(row[4])))
    said = Counter(r[1] for r in mine if r[2] == "customer")
    asked = Counter(t.conversation for t in answered)
    problems = [
        f"{conv}: {said[conv]} customer messages stored for {n} turns"
        for conv, n in asked.items()
        if said[conv] != n
    ]
    for turn in answered:
        stored_as = by_message.get(turn.message_id)
        if stored_as is None or stored_as[5] != "done":
            problems.append(f"message {turn.message_id} ({turn.question.text}): stored as {stored_as}")
        stored = sorted(replies.get(turn.message_id, []))
        if not stored or stored != sorted(turn.replies):
            problems.append(f"message {turn.message_id}: got {turn.replies}, stored {stored}")
    return problems
