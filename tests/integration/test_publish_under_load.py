"""A publish and a rollback while web customers keep talking to the bot.

Eight web customers (new visitors one after another on each seat, half on each replica) ask FAQ
questions at a steady pace. Meanwhile an editor changes one entry's answer, publishes through the
API (the build runs inside a service replica, beside the customers' requests) and, once the
customers' answers carry the change, rolls back to the version before. Every customer message
must get exactly one answer (no failure, no 5xx, stored once with exactly the replies the
customer got), the answers must switch to the new version after the publish and back after the
rollback, and the conversations stay with the bot.

The version is told apart by the changed answer rather than by a question only the new version
answers: the old version would hand every customer who asked such a question to a person, and
the shared stack's queues would keep them for later tests."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.support import publishing
from tests.support.customers import Customers, Question
from tests.support.stack import Stack

pytestmark = pytest.mark.integration

CHANGED = "gift-wrapping-zh"
PROBE = Question("zh", "可以提供礼品包装吗？")  # CHANGED's own question
QUESTIONS = [
    PROBE,
    PROBE,
    Question("zh", "退款多久能到账？"),
    Question("zh", "怎么开发票？"),
    Question("en", "How long does a refund take?"),
]
QUIET_TURNS = 16  # answered before the publish starts


@pytest.fixture
def editor(stack: Stack) -> dict[str, str]:
    return stack.staff(f"publish-load-{uuid.uuid4().hex[:6]}", role="editor")


@pytest.fixture
def changed_answer(stack: Stack, editor: dict[str, str]) -> Iterator[str]:
    # the stack is shared: later tests ask the knowledge base as the demo data left it
    with publishing.changed_answer(stack.service_url, editor, CHANGED) as marker:
        yield marker


def test_a_publish_and_a_rollback_under_load_fail_no_customer(
    stack: Stack, editor: dict[str, str], changed_answer: str
) -> None:
    marker, url = changed_answer, stack.service_url
    before = publishing.versions(url, editor)["active"]
    with Customers(stack.service_urls, QUESTIONS, seats=8, turns=3, think=(2.0, 4.0)) as load:
        assert load.wait_for(QUIET_TURNS, 300), "the customers never got going"
        published = publishing.publish(url, editor)
        assert published.progress, "the versions list never showed the publish's progress"
        new = publishing.wait_for_answer(load.turns, PROBE, marker, present=True, after=published.done)
        assert new is not None, "the customers' answers never switched to the new version"
        rollback = publishing.activate(url, editor, before)
        old = publishing.wait_for_answer(load.turns, PROBE, marker, present=False, after=rollback)
        assert old is not None, "the customers' answers never switched back after the rollback"
        load.wait_for(len(load.turns()) + 8, 60)  # a few more turns on the old version
    turns = load.turns()
    probes = [t for t in turns if t.question == PROBE]

    failed = [(t.question.text, t.statuses) for t in turns if not t.ok or t.server_errors]
    assert not failed, failed
    problems = publishing.transcript_problems(stack, turns)
    assert not problems, problems[:10]
    handed_off = [(t.question.text, t.state) for t in turns if t.state != "bot"]
    assert not handed_off, handed_off
    # the new version answers from when a customer first saw it until the rollback, the old one
    # before the publish and from when a customer first saw it again
    assert not publishing.mixed_answers(probes, marker, present=False, start=0, end=published.asked)
    assert not publishing.mixed_answers(probes, marker, present=True, start=new.answered, end=rollback)
    assert not publishing.mixed_answers(probes, marker, present=False, start=old.answered, end=float("inf"))
    during = [t for t in turns if published.asked <= t.sent < published.done]
    assert during, "no customer turn ran while the publish was building"
