"""An order as the bot tells a customer about it (read by ``conversations.orders``, shown by
``actions.order_status``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OrderInfo:
    order_no: str
    status: str
    carrier: str = ""
    tracking_no: str = ""
    eta: str = ""
