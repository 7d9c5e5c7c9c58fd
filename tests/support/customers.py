"""Web customers talking to the bot at a steady pace while a test or a benchmark does something
else to the system (publishes knowledge, rolls it back, ...).

Each seat is one widget after another: a new visitor asks ``turns`` questions with a think time
between them and leaves; the next visitor takes the seat. Every message carries its
``client_message_id``; a retryable answer (409 ``conversation_busy``, 502/503) or a transport
error is retried with the same id after a second, as the widget does. Every turn is recorded
with when it was sent and answered and every status it met, so a caller can split the turns by
what happened meanwhile and check them against the stored transcript."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import httpx

from tests.support import visitors

RETRY_FOR = 120.0  # seconds a turn keeps retrying before it counts as failed
REQUEST_TIMEOUT = 60.0
RETRYABLE = (502, 503)


@dataclass(frozen=True)
class Question:
    lang: str
    text: str


@dataclass(frozen=True)
class Turn:
    seat: int
    visitor: str
    question: Question
    sent: float  # time.monotonic() of the first attempt
    answered: float  # time.monotonic() when the last attempt ended
    statuses: tuple[int, ...]  # every attempt's status, 0 for a transport error
    conversation: str  # "" unless answered
    message_id: int  # the stored customer message, 0 unless answered
    replies: tuple[tuple[int, str], ...]  # (message id, text) of each reply the customer got
    state: str = ""  # the conversation's state the answer reported

    @property
    def ok(self) -> bool:
        return self.statuses[-1] == 200

    @property
    def server_errors(self) -> int:
        return sum(1 for s in self.statuses if s >= 500)

    @property
    def latency_ms(self) -> float:
        return (self.answered - self.sent) * 1000

    @property
    def reply_text(self) -> str:
        return "\n".join(text for _, text in self.replies)


def busy(resp: httpx.Response) -> bool:
    if resp.status_code != 409:
        return False
    body: Any = resp.json()
    return isinstance(body, dict) and body.get("error", {}).get("code") == "conversation_busy"


class Customers:
    """``with Customers(urls, questions) as load: ...``: seats talk until the block ends (each
    finishes the turn it is in); ``load.turns()`` is what happened so far."""

    def __init__(
        self,
        urls: Sequence[str],
        questions: Sequence[Question],
        *,
        seats: int = 8,
        turns: int = 3,
        think: tuple[float, float] = (1.0, 3.0),
        seed: int = 0,
    ) -> None:
        self._urls = list(urls)
        self._questions = list(questions)
        self._seats = seats
        self._turns = turns
        self._think = think
        self._seed = seed
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._done: list[Turn] = []
        self._threads: list[threading.Thread] = []

    def __enter__(self) -> Customers:
        for seat in range(self._seats):
            thread = threading.Thread(target=self._seat, args=(seat,), name=f"customer-{seat}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(RETRY_FOR + REQUEST_TIMEOUT)

    def turns(self) -> list[Turn]:
        with self._lock:
            return sorted(self._done, key=lambda t: t.sent)

    def wait_for(self, count: int, timeout: float) -> bool:
        """Whether ``count`` turns were answered within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.turns()) >= count:
                return True
            time.sleep(0.5)
        return False

    def _seat(self, seat: int) -> None:
        rng = random.Random(self._seed * 100_003 + seat)
        url = self._urls[seat % len(self._urls)]
        low, high = self._think
        self._stop.wait(rng.uniform(0, high))  # the seats start spread out
        with httpx.Client(timeout=REQUEST_TIMEOUT) as http:
            while not self._stop.is_set():
                visitor = uuid.uuid4().hex
                for _ in range(self._turns):
                    if self._stop.is_set():
                        break
                    turn = self._ask(http, url, seat, visitor, rng.choice(self._questions))
                    with self._lock:
                        self._done.append(turn)
                    if not turn.ok:
                        break  # this visitor's widget is in trouble: the next one takes the seat
                    self._stop.wait(rng.uniform(low, high))

    def _ask(self, http: httpx.Client, url: str, seat: int, visitor: str, question: Question) -> Turn:
        body = {
            "visitor_id": visitor,
            "text": question.text,
            "lang": question.lang,
            "client_message_id": uuid.uuid4().hex,
        }
        sent = time.monotonic()
        statuses: list[int] = []
        while True:
            try:
                resp: httpx.Response | None = http.post(
                    f"{url}/api/web/messages", json=body, headers=visitors.headers(visitor)
                )
            except httpx.TransportError:
                resp = None
            statuses.append(resp.status_code if resp is not None else 0)
            retryable = resp is None or resp.status_code in RETRYABLE or busy(resp)
            if not retryable or time.monotonic() - sent > RETRY_FOR:
                break
            time.sleep(1)
        answered = time.monotonic()
        if resp is None or resp.status_code != 200:
            return Turn(seat, visitor, question, sent, answered, tuple(statuses), "", 0, ())
        data = visitors.remember(visitor, resp.json())
        replies = tuple((int(r["id"]), str(r["text"])) for r in data["replies"])
        return Turn(
            seat,
            visitor,
            question,
            sent,
            answered,
            tuple(statuses),
            str(data["conversation_id"]),
            int(data["message_id"]),
            replies,
            str(data["state"]),
        )
