"""Orders as the bot sees them: a small Protocol, the order type, and order-number parsing.

Order numbers look like ``YQ20261101001``: "YQ" and 11 digits, in any letter case. Numbers are
guessable, so an order is found only for the customer who owns it: the customer holding the
order's owner identity (``conversations.orders.SqlOrderLookup``). Anyone else gets the same "not found"
as for a number that does not exist, so a lookup never tells whether an order exists.
"""

from __future__ import annotations

import re
from typing import Protocol

from core.orders import OrderInfo

ORDER_NO = re.compile(r"(?<![A-Za-z0-9])YQ\d{11}(?!\d)", re.IGNORECASE)


def find_order_no(text: str) -> str | None:
    """The first order number in ``text``, upper-cased; None when there is none."""
    match = ORDER_NO.search(text)
    return match.group(0).upper() if match else None


class OrderLookup(Protocol):
    async def find(self, order_no: str, customer_id: str | None) -> OrderInfo | None:
        """The order if ``customer_id`` owns it; None for a missing order or another's."""
        ...
