"""What a connector needs from the core, as Protocols over the shared types only."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any, Protocol

from core.errors import ValidationFailed
from core.types import HandleResult, InboundMessage, Transcript


class InboundHandler(Protocol):
    async def handle(self, msg: InboundMessage) -> HandleResult: ...


class TranscriptReader(Protocol):
    async def for_customer(
        self, conversation_id: str, channel: str, channel_user_id: str, after: int
    ) -> Transcript: ...


class EventSource(Protocol):
    def subscribe(self, conversation_id: str) -> AsyncIterator[dict[str, Any]]: ...


ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def parse_json_object(body: bytes) -> dict[str, Any]:
    """The request body as a JSON object, or a 4xx with a stable code."""
    try:
        data = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed("the body is not valid JSON", code="invalid_json") from exc
    if not isinstance(data, dict):
        raise ValidationFailed("the body must be a JSON object", code="invalid_json")
    return data


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
