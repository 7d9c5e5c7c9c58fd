"""A service replica SIGKILLed in the middle of 50 concurrent conversations.

Fifty web customers talk to the bot at once, half of them through each replica; after the
first twenty messages are accepted, replica 0 is killed (no shutdown code runs). A customer
whose request fails (or finds the conversation busy: the killed replica held its lock) tries
again with the same ``client_message_id`` on the other replica, as the widget behind a load
balancer does. Afterwards every customer's messages are stored once,
in order, and each one has its bot answer exactly once (read from the database itself)."""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support import visitors
from tests.support.stack import Stack

pytestmark = pytest.mark.integration

CUSTOMERS = 50
TEXTS = ("退款多久到账", "运费怎么算", "你们几点下班")
KILL_AFTER = 20  # accepted messages


def busy(resp: httpx.Response) -> bool:
    return resp.status_code == 409 and resp.json().get("error", {}).get("code") == "conversation_busy"


class Run:
    def __init__(self, stack: Stack) -> None:
        self.replicas = stack.service_urls
        self.accepted: list[tuple[str, str, int]] = []  # visitor, conversation, message id
        self.lock = threading.Lock()
        self.enough = threading.Event()
        self.retries = 0

    def converse(self, index: int, visitor: str) -> None:
        for n, text in enumerate(TEXTS):
            body = {"visitor_id": visitor, "text": text, "lang": "zh", "client_message_id": f"m{n}-{visitor}"}
            deadline = time.monotonic() + 180  # a dead replica's customer lock lapses within 60 s
            attempt = 0
            while True:
                url = self.replicas[(index + attempt) % len(self.replicas)]
                try:
                    resp = httpx.post(
                        f"{url}/api/web/messages", json=body, headers=visitors.headers(visitor), timeout=60
                    )
                except httpx.TransportError:
                    resp = None
                if resp is not None and resp.status_code == 200:
                    answer = visitors.remember(visitor, resp.json())
                    with self.lock:
                        self.accepted.append((visitor, answer["conversation_id"], answer["message_id"]))
                        if len(self.accepted) >= KILL_AFTER:
                            self.enough.set()
                    break
                # busy: the killed replica held this customer's lock; the widget retries that too
                retryable = resp is None or resp.status_code in (502, 503) or busy(resp)
                assert retryable, resp.text if resp is not None else ""
                assert time.monotonic() < deadline, f"{visitor}: {text!r} was never accepted"
                attempt += 1
                with self.lock:
                    self.retries += 1
                time.sleep(1)


def test_a_replica_killed_under_50_conversations_loses_and_repeats_nothing(stack: Stack) -> None:
    run = Run(stack)
    customers = [uuid.uuid4().hex for _ in range(CUSTOMERS)]
    try:
        with ThreadPoolExecutor(CUSTOMERS) as pool:
            futures = [pool.submit(run.converse, i, visitor) for i, visitor in enumerate(customers)]
            assert run.enough.wait(300), "the customers never got going"
            stack.kill_service(0)
            for future in futures:
                future.result()
    finally:
        stack.restart_service(0)

    assert len(run.accepted) == CUSTOMERS * len(TEXTS)
    for visitor in customers:
        conversations = {conv for v, conv, _ in run.accepted if v == visitor}
        assert len(conversations) == 1, (visitor, conversations)
        [conv] = conversations
        said = stack.sql(
            "SELECT id, text FROM messages WHERE conversation_id = :conv AND sender = 'customer' ORDER BY id",
            conv=conv,
        )
        assert [text for _, text in said] == list(TEXTS), (visitor, said)  # once each, in order
        for message_id, text in said:
            answers = [
                row[0]
                for row in stack.sql(
                    "SELECT text FROM messages WHERE conversation_id = :conv AND sender = 'bot'"
                    " AND reply_to = :message",
                    conv=conv,
                    message=message_id,
                )
            ]
            assert answers, (visitor, text)  # answered
            assert max(Counter(answers).values()) == 1, (visitor, text, answers)  # not twice
