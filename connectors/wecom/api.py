"""An aiohttp client for the WeCom server API: gettoken, kf messages, app messages.

The base URL is configurable (settings WECOM_API_BASE) so tests point it at the fake.
Access tokens live in Redis (``tokens.AccessTokens``); a call answered with 40001/40014/42001
drops the failing token, fetches a new one and is retried once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import aiohttp
import redis.asyncio as aioredis

from connectors.wecom import keys
from connectors.wecom.errors import (
    SendQuotaExceeded,
    SendWindowClosed,
    WeComApiError,
    WeComAuthError,
    WeComRateLimited,
    WeComSendRuleError,
    WeComUnavailable,
)
from connectors.wecom.models import (
    MSGID_PATTERN,
    MenuItem,
    ServiceState,
    SyncPage,
    parse_sync_page,
    split_text,
)
from connectors.wecom.tokens import AccessTokens, IssuedToken

log = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://qyapi.weixin.qq.com"

TOKEN_ERRCODES = frozenset({40001, 40014, 42001})  # invalid credential, invalid token, expired token
AUTH_ERRCODES = TOKEN_ERRCODES | {40013, 41001, 41004, 48002, 60020, 95017}
RATE_ERRCODES = frozenset({45009, 45033})  # frequency limit, concurrency limit
SEND_RULE_ERRCODES = frozenset({95001, 95002, 95013, 95018})
# kf/send_msg with a msgid WeCom has already accepted (Kefu's msgids are well-formed, so for
# them this answer means "sent before"): the message is delivered, not failed.
REPEATED_MSGID = 40035


def raise_for_errcode(api: str, data: dict[str, Any]) -> None:
    errcode = data.get("errcode", 0)
    if not isinstance(errcode, int):
        raise WeComUnavailable(f"WeCom {api} answered without a numeric errcode")
    if errcode == 0:
        return
    errmsg = str(data.get("errmsg", ""))
    if errcode == 95001:
        raise SendQuotaExceeded(errcode, errmsg, api=api)
    if errcode == 95002:
        raise SendWindowClosed(errcode, errmsg, api=api)
    if errcode in SEND_RULE_ERRCODES:
        raise WeComSendRuleError(errcode, errmsg, api=api)
    if errcode in RATE_ERRCODES:
        raise WeComRateLimited(errcode, errmsg, api=api)
    if errcode in AUTH_ERRCODES:
        raise WeComAuthError(errcode, errmsg, api=api)
    raise WeComApiError(errcode, errmsg, api=api)


class WeComClient:
    """One (corp id, secret) pair: its access token and authenticated calls."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        redis: aioredis.Redis,
        corp_id: str,
        secret: str,
        *,
        base_url: str = DEFAULT_API_BASE,
        timeout_seconds: float = 10.0,
        token_margin_seconds: int = 300,
    ) -> None:
        self._session = session
        self._corp_id = corp_id
        self._secret = secret
        self._base = base_url.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self.tokens = AccessTokens(
            redis, keys.credential_id(corp_id, secret), self._gettoken, margin_seconds=token_margin_seconds
        )

    async def call(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST ``payload`` to ``/cgi-bin/<path>``; the answer when errcode is 0, else a typed error."""
        token = await self.tokens.get()
        data = await self._request("POST", path, {"access_token": token}, payload)
        if data.get("errcode") in TOKEN_ERRCODES:
            await self.tokens.invalidate(token)
            token = await self.tokens.get()
            data = await self._request("POST", path, {"access_token": token}, payload)
        raise_for_errcode(path, data)
        return data

    async def _gettoken(self) -> IssuedToken:
        data = await self._request("GET", "gettoken", {"corpid": self._corp_id, "corpsecret": self._secret})
        if data.get("errcode", 0) in (40001, 40013, 41002, 41004):
            raise WeComAuthError(int(data["errcode"]), str(data.get("errmsg", "")), api="gettoken")
        raise_for_errcode("gettoken", data)
        token, expires_in = data.get("access_token"), data.get("expires_in")
        if not isinstance(token, str) or not token or not isinstance(expires_in, int):
            raise WeComUnavailable("WeCom gettoken answered without a token")
        return IssuedToken(token, expires_in)

    async def _request(
        self, method: str, path: str, params: dict[str, str], payload: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        url = f"{self._base}/cgi-bin/{path}"
        try:
            async with self._session.request(
                method, url, params=params, json=payload, timeout=self._timeout
            ) as resp:
                if resp.status != 200:
                    raise WeComUnavailable(f"WeCom {path} answered HTTP {resp.status}")
                data = await resp.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError, ValueError) as exc:
            # `from None`: aiohttp's messages can hold the URL, and the URL holds the token.
            raise WeComUnavailable(f"WeCom {path} could not be reached ({type(exc).__name__})") from None
        if not isinstance(data, dict):
            raise WeComUnavailable(f"WeCom {path} answered something other than a JSON object")
        return data


def piece_msgids(msgid: str, count: int) -> list[str]:
    """Client msgids for the pieces of one split message; empty lets WeCom choose."""
    if not msgid:
        return [""] * count
    if not MSGID_PATTERN.match(msgid):
        raise ValueError("msgid must be 1-32 characters of 0-9 A-Z a-z _ -")
    if count == 1:
        return [msgid]
    return [f"{msgid[:28]}-{i}" for i in range(count)]


class KfApi:
    """微信客服: read messages, send messages, move sessions between states."""

    def __init__(self, client: WeComClient) -> None:
        self._client = client

    async def sync_msg(
        self, open_kfid: str, token: str = "", cursor: str = "", limit: int = 1000
    ) -> SyncPage:
        payload: dict[str, Any] = {"open_kfid": open_kfid, "limit": limit, "voice_format": 0}
        if cursor:
            payload["cursor"] = cursor
        if token:
            payload["token"] = token
        return parse_sync_page(await self._client.call("kf/sync_msg", payload))

    async def send_text(self, touser: str, open_kfid: str, text: str, msgid: str = "") -> list[str]:
        """Send ``text``, split into 2048-byte pieces; the msgids WeCom acknowledged, in order."""
        pieces = split_text(text)
        sent: list[str] = []
        for piece, piece_id in zip(pieces, piece_msgids(msgid, len(pieces)), strict=True):
            body = {"msgtype": "text", "text": {"content": piece}}
            sent.append(await self._send(touser, open_kfid, piece_id, body))
        return sent

    async def send_menu(
        self,
        touser: str,
        open_kfid: str,
        head: str,
        items: Sequence[MenuItem],
        tail: str = "",
        msgid: str = "",
    ) -> str:
        menu: dict[str, Any] = {
            "head_content": head,
            "list": [{"type": "click", "click": {"id": i.id, "content": i.content}} for i in items],
        }
        if tail:
            menu["tail_content"] = tail
        return await self._send(
            touser, open_kfid, piece_msgids(msgid, 1)[0], {"msgtype": "msgmenu", "msgmenu": menu}
        )

    async def trans_service_state(
        self, open_kfid: str, external_userid: str, state: ServiceState, servicer_userid: str = ""
    ) -> str:
        payload: dict[str, Any] = {
            "open_kfid": open_kfid,
            "external_userid": external_userid,
            "service_state": int(state),
        }
        if servicer_userid:
            payload["servicer_userid"] = servicer_userid
        data = await self._client.call("kf/service_state/trans", payload)
        return str(data.get("msg_code", ""))

    async def _send(self, touser: str, open_kfid: str, msgid: str, body: dict[str, Any]) -> str:
        payload: dict[str, Any] = {"touser": touser, "open_kfid": open_kfid, **body}
        if msgid:
            payload["msgid"] = msgid
        try:
            data = await self._client.call("kf/send_msg", payload)
        except WeComApiError as exc:
            if msgid and exc.errcode == REPEATED_MSGID:
                log.info("kf/send_msg: msgid %s was sent before; counted as delivered", msgid)
                return msgid
            raise
        return str(data.get("msgid", msgid))


class AppApi:
    """The self-built app: message/send to employees."""

    def __init__(self, client: WeComClient, agent_id: int) -> None:
        self._client = client
        self._agent_id = agent_id

    async def send_text(self, touser: str, text: str) -> list[str]:
        sent: list[str] = []
        for piece in split_text(text):
            payload = {
                "touser": touser,
                "msgtype": "text",
                "agentid": self._agent_id,
                "text": {"content": piece},
            }
            data = await self._client.call("message/send", payload)
            if data.get("invaliduser"):
                raise WeComApiError(81013, "the user is not reachable by this app", api="message/send")
            sent.append(str(data.get("msgid", "")))
        return sent
