"""The order-status form: ask for the order number, check it against the order table, answer.

After ``max_attempts`` numbers that are not orders the form ends without one and
``action_order_status`` hands the conversation to a human (reason ``form_failed``).

Only the customer's own orders are found: the service puts its customer id in the metadata of
every message it sends to Rasa, and the lookup checks the order's owner against it. A number
that is someone else's order reads exactly like one that does not exist.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.lang import reply_lang
from actions.orders import OrderLookup, find_order_no
from actions.replies import BotSays, handoff, send
from actions.texts import order_state, text
from core.errors import Unavailable
from core.orders import OrderInfo
from core.types import HandoffReason, Lang

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 2


def customer_id(tracker: Tracker) -> str | None:
    """The Kefu customer behind the latest message (from the service's metadata), if any."""
    metadata = (tracker.latest_message or {}).get("metadata")
    value = metadata.get("customer_id") if isinstance(metadata, dict) else None
    return value if isinstance(value, str) and value else None


def attempts(tracker: Tracker) -> int:
    return int(tracker.get_slot("order_attempts") or 0)


def describe(order: OrderInfo, lang: Lang) -> str:
    """The status line: state, then carrier and tracking number, then ETA, when known."""
    parts = [text("order_status", lang, order_no=order.order_no, status=order_state(order.status, lang))]
    if order.carrier or order.tracking_no:
        parts.append(
            text("order_shipment", lang, carrier=order.carrier or "-", tracking_no=order.tracking_no or "-")
        )
    if order.eta:
        parts.append(text("order_eta", lang, eta=order.eta))
    return ("" if lang == "zh" else " ").join(parts)


def not_found(order_no: str, lang: Lang) -> BotSays:
    """Not found for this customer (missing or someone else's), with a button to a person."""
    human = text("offer_human", lang)
    return BotSays(
        text("order_not_found", lang, order_no=order_no), buttons=({"title": human, "payload": human},)
    )


class ValidateOrderStatusForm(FormValidationAction):  # type: ignore[misc]
    def __init__(self, orders: OrderLookup, max_attempts: int = MAX_ATTEMPTS) -> None:
        self._orders = orders
        self._max_attempts = max_attempts

    def name(self) -> str:
        return "validate_order_status_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: dict[str, Any],
    ) -> list[str]:
        # No slot left to ask for ends the form; action_order_status then hands off.
        return [] if attempts(tracker) >= self._max_attempts else domain_slots

    async def validate_order_no(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        lang = reply_lang(tracker)
        order_no = find_order_no(str(value or ""))
        try:
            order = await self._orders.find(order_no, customer_id(tracker)) if order_no else None
        except Unavailable as exc:
            log.warning("order lookup failed: %s", exc.message)
            return {"order_no": None, "order_attempts": float(self._max_attempts)}
        if order is not None:
            return {"order_no": order.order_no}
        failed = attempts(tracker) + 1
        if failed < self._max_attempts:
            if order_no is None:
                dispatcher.utter_message(text=text("order_not_a_number", lang))
            else:
                send(dispatcher, not_found(order_no, lang))
        return {"order_no": None, "order_attempts": float(failed)}


class ActionAskOrderNo(Action):  # type: ignore[misc]
    def name(self) -> str:
        return "action_ask_order_no"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(text=text("ask_order_no", reply_lang(tracker)))
        return []


class ActionOrderStatus(Action):  # type: ignore[misc]
    """Runs when the form ends: the order's status, or a handoff when there is no valid order."""

    def __init__(self, orders: OrderLookup) -> None:
        self._orders = orders

    def name(self) -> str:
        return "action_order_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        lang = reply_lang(tracker)
        order = await self._lookup(tracker.get_slot("order_no"), customer_id(tracker))
        if order is None:
            send(dispatcher, handoff(HandoffReason.FORM_FAILED, lang))
        else:
            dispatcher.utter_message(text=describe(order, lang))
        # The next question about an order starts a fresh form.
        return [SlotSet("order_no", None), SlotSet("order_attempts", 0.0)]

    async def _lookup(self, order_no: object, customer: str | None) -> OrderInfo | None:
        if not isinstance(order_no, str) or not order_no:
            return None
        try:
            return await self._orders.find(order_no, customer)
        except Unavailable as exc:
            log.warning("order lookup failed: %s", exc.message)
            return None
