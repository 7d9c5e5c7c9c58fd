from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.order_status import ActionAskOrderNo, ActionOrderStatus, ValidateOrderStatusForm
from actions.texts import TEXTS
from conversations.orders import SqlOrderLookup
from core.orders import OrderInfo
from core.types import Lang
from tests.actions.conftest import STRANGER, MakeTracker

RESET = [
    {"event": "slot", "timestamp": None, "name": "order_no", "value": None},
    {"event": "slot", "timestamp": None, "name": "order_attempts", "value": 0.0},
]


def slot_values(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def validate(
    orders: SqlOrderLookup, tracker: Any, domain: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await ValidateOrderStatusForm(orders).run(dispatcher, tracker, domain)
    return slot_values(events), dispatcher.messages


async def test_a_known_number_in_any_case_fills_the_slot(
    orders: SqlOrderLookup, make_tracker: MakeTracker, domain: dict[str, Any]
) -> None:
    text = "订单号是 yq20261101001"
    tracker = make_tracker(text, slot_events={"order_no": text}, active_loop="order_status_form")
    slots, messages = await validate(orders, tracker, domain)
    assert slots == {"order_no": "YQ20261101001"}
    assert messages == []


async def test_first_unknown_number_asks_again(
    orders: SqlOrderLookup, make_tracker: MakeTracker, domain: dict[str, Any]
) -> None:
    tracker = make_tracker("YQ20269999999", slot_events={"order_no": "YQ20269999999"})
    slots, messages = await validate(orders, tracker, domain)
    assert slots == {"order_no": None, "order_attempts": 1.0}
    assert [m["text"] for m in messages] == [
        "在您的账户下没有找到订单 YQ20269999999。请核对后重新输入，或点“转人工”请同事帮您查。"
    ]
    assert messages[0]["buttons"] == [{"title": "转人工", "payload": "转人工"}]


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_stranger_gets_not_found_for_you_and_a_person_never_the_details(
    orders: SqlOrderLookup, make_tracker: MakeTracker, domain: dict[str, Any], lang: Lang
) -> None:
    tracker = make_tracker(
        "YQ20261101001", lang=lang, slot_events={"order_no": "YQ20261101001"}, customer_id=STRANGER
    )
    slots, messages = await validate(orders, tracker, domain)
    assert slots == {"order_no": None, "order_attempts": 1.0}
    [message] = messages
    assert message["text"] == TEXTS["order_not_found"][lang].format(order_no="YQ20261101001")
    human = TEXTS["offer_human"][lang]
    assert message["buttons"] == [{"title": human, "payload": human}]
    for detail in ("SF Express", "SF1234567890", "2026-11-05"):
        assert detail not in str(messages)


async def test_a_message_without_a_customer_finds_no_order(
    orders: SqlOrderLookup, make_tracker: MakeTracker, domain: dict[str, Any]
) -> None:
    tracker = make_tracker("YQ20261101001", slot_events={"order_no": "YQ20261101001"}, customer_id=None)
    slots, _ = await validate(orders, tracker, domain)
    assert slots == {"order_no": None, "order_attempts": 1.0}


async def test_a_slot_filled_for_someone_else_is_not_shown_to_a_stranger(
    orders: SqlOrderLookup, make_tracker: MakeTracker, domain: dict[str, Any]
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("YQ20261101001", slots={"order_no": "YQ20261101001"}, customer_id=STRANGER)
    events = await ActionOrderStatus(orders).run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert "SF1234567890" not in message["text"]
    assert message["custom"] == {"kefu": {"handoff": {"reason": "form_failed", "candidates": []}}}
    assert events == RESET


async def test_text_without_a_number_says_what_a_number_looks_like(
    orders: SqlOrderLookup, make_tracker: MakeTracker, domain: dict[str, Any]
) -> None:
    tracker = make_tracker("I don't know it", slot_events={"order_no": "I don't know it"})
    slots, messages = await validate(orders, tracker, domain)
    assert slots == {"order_no": None, "order_attempts": 1.0}
    assert "YQ followed by 11 digits" in messages[0]["text"]


async def test_second_invalid_number_ends_the_form(
    orders: SqlOrderLookup, make_tracker: MakeTracker, domain: dict[str, Any]
) -> None:
    tracker = make_tracker(
        "YQ20268888888", slots={"order_attempts": 1.0}, slot_events={"order_no": "YQ20268888888"}
    )
    slots, messages = await validate(orders, tracker, domain)
    # requested_slot None is how a validation action ends a Rasa form.
    assert slots == {"order_no": None, "order_attempts": 2.0, "requested_slot": None}
    assert messages == []


async def test_ask_for_the_number_in_the_customers_language(
    make_tracker: MakeTracker, domain: dict[str, Any]
) -> None:
    dispatcher = CollectingDispatcher()
    await ActionAskOrderNo().run(dispatcher, make_tracker("where is my order"), domain)
    assert dispatcher.messages[0]["text"].startswith("Please give me your order number")


async def test_status_line_from_the_table(
    orders: SqlOrderLookup, make_tracker: MakeTracker, domain: dict[str, Any]
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("YQ20261101001", slots={"order_no": "YQ20261101001"})
    events = await ActionOrderStatus(orders).run(dispatcher, tracker, domain)
    assert [m["text"] for m in dispatcher.messages] == [
        "订单 YQ20261101001：已发货。承运商：SF Express，运单号：SF1234567890。预计送达：2026-11-05。"
    ]
    assert events == RESET


async def test_status_line_in_english_without_shipment(
    orders: SqlOrderLookup, make_tracker: MakeTracker, domain: dict[str, Any]
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("YQ20261101002", lang="en", slots={"order_no": "YQ20261101002"})
    await ActionOrderStatus(orders).run(dispatcher, tracker, domain)
    assert [m["text"] for m in dispatcher.messages] == ["Order YQ20261101002: paid, waiting to ship."]


async def test_no_valid_order_hands_off_with_form_failed(
    orders: SqlOrderLookup, make_tracker: MakeTracker, domain: dict[str, Any]
) -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("YQ20268888888", slots={"order_no": None, "order_attempts": 2.0})
    events = await ActionOrderStatus(orders).run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert "人工" in message["text"]
    assert message["custom"] == {"kefu": {"handoff": {"reason": "form_failed", "candidates": []}}}
    assert events == RESET


async def test_unknown_status_is_shown_as_stored(make_tracker: MakeTracker, domain: dict[str, Any]) -> None:
    class OneOrder:
        async def find(self, order_no: str, customer_id: str | None) -> OrderInfo | None:
            return OrderInfo(order_no, "customs_hold", eta="soon")

    dispatcher = CollectingDispatcher()
    tracker = make_tracker("x", lang="en", slots={"order_no": "YQ20261101003"})
    await ActionOrderStatus(OneOrder()).run(dispatcher, tracker, domain)
    assert dispatcher.messages[0]["text"] == "Order YQ20261101003: customs_hold. Estimated delivery: soon."
