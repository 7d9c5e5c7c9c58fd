"""Turn a verified app request body into an ``InboundMessage``; the core never sees the raw JSON."""

from __future__ import annotations

import re
from typing import Any

from connectors.app.users import scoped_user
from connectors.base import optional_lang, require_id, require_text
from core.errors import ValidationFailed
from core.types import Channel, InboundMessage

TIERS = ("S", "A", "normal")
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 -]{2,30}$")


def _customer(value: object) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValidationFailed("customer must be an object", code="invalid_customer")
    customer: dict[str, str] = {}
    phone, member_id = value.get("phone"), value.get("member_id")
    if phone is not None:
        if not isinstance(phone, str) or not PHONE_PATTERN.match(phone):
            raise ValidationFailed("customer.phone must be a phone number", code="invalid_customer")
        customer["phone"] = phone
    if member_id is not None:
        customer["member_id"] = require_id(member_id, "customer")
    return customer


def _tier(value: object) -> str | None:
    if value is None:
        return None
    if value not in TIERS:
        raise ValidationFailed('tier must be "S", "A" or "normal"', code="invalid_tier")
    return str(value)


def parse_app_message(data: dict[str, Any], app_id: str) -> InboundMessage:
    """Validate the body of an already authenticated request from app ``app_id``."""
    body_app = require_id(data.get("app_id"), "app_id")
    if body_app != app_id:
        raise ValidationFailed("app_id in the body does not match the signing app", code="app_id_mismatch")
    metadata: dict[str, Any] = {"app_id": app_id}
    customer = _customer(data.get("customer"))
    if customer:
        metadata["customer"] = customer
    tier = _tier(data.get("tier"))
    if tier is not None:
        metadata["tier"] = tier
    return InboundMessage(
        channel=Channel.APP,
        channel_user_id=scoped_user(app_id, require_id(data.get("user_id"), "user_id")),
        text=require_text(data.get("text")),
        channel_message_id=require_id(data.get("message_id"), "message_id"),
        lang=optional_lang(data.get("lang")),
        entry_point=app_id,
        metadata=metadata,
    )
