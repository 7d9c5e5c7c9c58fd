"""``action_ticket_status``: "我的工单怎么样了" answered from the ticket table.

The customer is ``metadata.customer_id`` of the latest message (the service sends it with every
message). A ticket number in the message ("T20261123-0001") asks after that ticket, which is
shown only to the customer it belongs to; otherwise the customer's latest ticket that is not
closed is shown. Times are given in Beijing time.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.lang import latest_text, reply_lang
from actions.texts import text, ticket_state
from core.clock import utc_now
from core.errors import Unavailable
from core.tickets import ACTIVE, TicketSummary
from core.types import Lang

log = logging.getLogger(__name__)

TICKET_NO = re.compile(r"(?<![A-Za-z0-9])T\d{8}-\d{4}(?!\d)", re.IGNORECASE)
LOCAL_TIME = ZoneInfo("Asia/Shanghai")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
SUBJECT_CHARS = 30
NO_SUBJECT = "(no subject)"  # what tickets.service stores for a conversation without text


def find_ticket_no(message: str) -> str | None:
    """The first ticket number in ``message``, upper-cased; None when there is none."""
    match = TICKET_NO.search(message)
    return match.group(0).upper() if match else None


class TicketLookup(Protocol):
    async def latest_open(self, customer_id: str) -> TicketSummary | None:
        """The customer's latest ticket that is not closed."""

    async def by_number(self, number: str, customer_id: str) -> TicketSummary | None:
        """Ticket ``number`` if it belongs to ``customer_id``, else None."""


def local_time(value: datetime, lang: Lang) -> str:
    """``11月24日 10:00`` / ``24 Nov 10:00`` in Beijing time."""
    at = value.astimezone(LOCAL_TIME)
    if lang == "zh":
        return f"{at.month}月{at.day}日 {at:%H:%M}"
    return f"{at.day} {MONTHS[at.month - 1]} {at:%H:%M}"


def _subject(ticket: TicketSummary) -> str:
    subject = ticket.subject.strip()
    if not subject or subject == NO_SUBJECT:
        return ""
    return subject if len(subject) <= SUBJECT_CHARS else subject[:SUBJECT_CHARS] + "…"


def describe(ticket: TicketSummary, lang: Lang, now: datetime) -> str:
    """Number, subject and status in words; while the first answer is due, when to expect it."""
    subject = _subject(ticket)
    key = "ticket_status_subject" if subject else "ticket_status"
    parts = [text(key, lang, number=ticket.number, subject=subject, status=ticket_state(ticket.status, lang))]
    due = ticket.first_response_due
    if ticket.status in ACTIVE and ticket.first_responded_at is None and due is not None:
        if due > now:
            parts.append(text("ticket_first_response_due", lang, due=local_time(due, lang)))
        else:
            parts.append(text("ticket_first_response_late", lang))
    return ("" if lang == "zh" else " ").join(parts)


def customer_id_of(tracker: Tracker) -> str | None:
    metadata = (tracker.latest_message or {}).get("metadata")
    value = metadata.get("customer_id") if isinstance(metadata, dict) else None
    return value if isinstance(value, str) and value else None


class ActionTicketStatus(Action):  # type: ignore[misc]
    def __init__(self, tickets: TicketLookup, clock: Callable[[], datetime] = utc_now) -> None:
        self._tickets = tickets
        self._clock = clock  # a module-level function: the executor is pickled into each worker

    def name(self) -> str:
        return "action_ticket_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = reply_lang(tracker)
        dispatcher.utter_message(text=await self._reply(tracker, lang))
        return []

    async def _reply(self, tracker: Tracker, lang: Lang) -> str:
        customer_id = customer_id_of(tracker)
        if customer_id is None:
            log.warning("ticket status asked without a customer_id in the message metadata")
            return text("ticket_lookup_failed", lang)
        number = find_ticket_no(latest_text(tracker))
        try:
            if number is not None:
                ticket = await self._tickets.by_number(number, customer_id)
            else:
                ticket = await self._tickets.latest_open(customer_id)
        except Unavailable as exc:
            log.warning("ticket lookup failed: %s", exc.message)
            return text("ticket_lookup_failed", lang)
        except Exception:
            # The customer gets an answer whatever the database does; the trace goes to the log.
            log.exception("ticket lookup failed")
            return text("ticket_lookup_failed", lang)
        if ticket is None:
            return text("ticket_not_found", lang, number=number) if number else text("ticket_none", lang)
        return describe(ticket, lang, self._clock())
