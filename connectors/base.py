"""What a connector needs from the core, as Protocols over the shared types only."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from core.errors import ValidationFailed
from core.types import HandleResult, InboundMessage, Transcript


class InboundHandler(Protocol):
    async def handle(self, msg: InboundMessage) -> HandleResult: ...


class TranscriptReader(Protocol):
    async def for_customer(
        self, conversation_id: str, channel: str, channel_user_id: str, after: int
    ) -> Transcript: ...


class VisitorDirectory(Protocol):
    async def known(self, channel: str, channel_user_id: str, retrying: str = "") -> bool:
        """Whether this channel user has written before: has a conversation whose first message
        is not ``retrying`` (the client id of a first message sent again because its answer,
        and the visitor token in it, was lost)."""
        ...


class SocketSlots(Protocol):
    def socket(self, visitor_id: str) -> AbstractAsyncContextManager[None]:
        """Held while a visitor's socket is open; raises ``RateLimited`` over the cap."""
        ...


class EventSource(Protocol):
    def subscribe(self, conversation_id: str) -> AsyncIterator[dict[str, Any]]: ...


ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_JSON_DEPTH = 16  # objects and arrays inside each other; no request of the API needs more


def parse_json_object(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object, or a 4xx with a stable code.

    Besides invalid JSON (``invalid_json``), refused are nesting deeper than ``MAX_JSON_DEPTH``
    (``json_too_deep``) and strings holding NUL or a lone surrogate (``invalid_characters``):
    neither can be stored (PostgreSQL refuses NUL in text, UTF-8 has no lone surrogates).
    """
    try:
        data = json.loads(body or b"null")
    except RecursionError as exc:
        raise ValidationFailed("the body is nested too deeply", code="json_too_deep") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed("the body is not valid JSON", code="invalid_json") from exc
    if not isinstance(data, dict):
        raise ValidationFailed("the body must be a JSON object", code="invalid_json")
    _check_values(data)
    return data


def _check_values(data: object) -> None:
    """Depth and characters of every string (keys too), without recursion."""
    pending: list[tuple[object, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            _check_string(value)
        elif isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise ValidationFailed(
                    f"the body is nested more than {MAX_JSON_DEPTH} levels deep", code="json_too_deep"
                )
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            pending.extend((item, depth + 1) for item in items)


def _check_string(value: str) -> None:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationFailed("text must not hold lone surrogates", code="invalid_characters") from exc
    if "\x00" in value:
        raise ValidationFailed("text must not hold NUL characters", code="invalid_characters")


def require_id(value: object, field: str, pattern: re.Pattern[str] = ID_PATTERN) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise ValidationFailed(f"{field} must be 1-64 characters of A-Z a-z 0-9 _ -", code=f"invalid_{field}")
    return value


def require_text(value: object, field: str = "text", max_len: int = 2000) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationFailed(f"{field} must be a non-empty string", code=f"invalid_{field}")
    if len(value) > max_len:
        raise ValidationFailed(f"{field} must be at most {max_len} characters", code=f"{field}_too_long")
    return value.strip()


def optional_lang(value: object) -> Any:
    if value is None:
        return None
    if value not in ("zh", "en"):
        raise ValidationFailed('lang must be "zh" or "en"', code="invalid_lang")
    return value
