"""The bot behind a small Protocol; one adapter for Rasa's REST channel."""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import quote

import aiohttp

from conversations.http import LazySession
from core.errors import Unavailable
from core.types import BotReply


class BotClient(Protocol):
    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[BotReply]: ...

    async def in_form(self, sender: str) -> bool:
        """Whether this bot conversation has a form running (the bot expects the next message
        to answer it); True when that cannot be told."""
        ...

    async def healthy(self) -> bool: ...


def parse_rest_replies(payload: Any) -> list[BotReply]:
    """Turn Rasa's REST webhook answer into typed replies; unknown shapes are skipped."""
    if not isinstance(payload, list):
        return []
    replies = []
    for item in payload:
        if not isinstance(item, dict):
            continue
        buttons = tuple(
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in item.get("buttons") or []
            if isinstance(b, dict)
        )
        custom = item.get("custom") if isinstance(item.get("custom"), dict) else None
        text = item.get("text") if isinstance(item.get("text"), str) else None
        if text is None and custom is None and not buttons:
            continue
        replies.append(BotReply(text=text, buttons=buttons, custom=custom))
    return replies


def active_loop(state: Any) -> str | None:
    """The running form's name in a tracker state from Rasa's HTTP API (``{}`` when none);
    an answer of an unknown shape counts as a form running."""
    if not isinstance(state, dict) or not isinstance(state.get("active_loop", {}), dict):
        return "unknown"
    name = state.get("active_loop", {}).get("name")
    return str(name) if name else None


class RasaClient:
    """Talks to ``rasa run --enable-api --auth-token`` over its REST channel.

    Rasa checks ``?token=`` on its HTTP API (``/status``) but not on channel webhooks; the token
    goes on both, and Rasa listens on 127.0.0.1 only (docs/architecture.md, "Decisions")."""

    def __init__(self, http: LazySession, base_url: str, timeout: float, token: str = "") -> None:
        self._session = http  # shared with the other outgoing calls; closed by its owner
        self._base = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._params = {"token": token} if token else {}

    async def send(self, sender: str, text: str, metadata: dict[str, Any]) -> list[BotReply]:
        body = {"sender": sender, "message": text, "metadata": metadata}
        headers = {"X-Request-Id": metadata["request_id"]} if "request_id" in metadata else None
        try:
            async with self._session.post(
                f"{self._base}/webhooks/rest/webhook",
                json=body,
                params=self._params,
                timeout=self._timeout,
                headers=headers,
            ) as resp:
                if resp.status != 200:
                    raise Unavailable(f"the bot answered HTTP {resp.status}", code="bot_unavailable")
                return parse_rest_replies(await resp.json(content_type=None))
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Unavailable("the bot is not reachable", code="bot_unavailable") from exc

    async def in_form(self, sender: str) -> bool:
        """Rasa's tracker without its events: ``active_loop`` names the running form."""
        try:
            async with self._session.get(
                f"{self._base}/conversations/{quote(sender, safe='')}/tracker",
                params={**self._params, "include_events": "NONE"},
                timeout=self._timeout,
            ) as resp:
                if resp.status != 200:
                    return True
                state = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return True
        return active_loop(state) is not None

    async def healthy(self) -> bool:
        try:
            async with self._session.get(
                f"{self._base}/status", params=self._params, timeout=aiohttp.ClientTimeout(total=3)
            ) as resp:
                if resp.status != 200:
                    return False
                data = await resp.json(content_type=None)
                return bool(data.get("model_file"))
        except (aiohttp.ClientError, TimeoutError, ValueError):
            return False
