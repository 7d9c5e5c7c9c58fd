"""A fake WeCom server API (aiohttp) that speaks the real protocol, for tests.

Faithful where our code depends on it: gettoken with expires_in and expiry on a controllable
clock; errcodes 40013 (bad corpid), 40001 (bad secret), 41001 (no token), 40014 (invalid
token), 42001 (expired token), 45009 (frequency limit per token); kf/sync_msg with opaque
cursors, next_cursor, has_more, limit and the 10-minute callback token (95007 when invalid);
kf/send_msg with the 48-hour window (95002), 5 messages per customer message (95001), text
at most 2048 bytes (45002), session state rules (95018: only sessions in state 0 or 1 accept
kf/send_msg); kf/service_state/trans (95014 for state 3 without a servicer_userid, or with one
that is not a reception servicer when ``servicers`` is given; 95016 for a transition the state
table forbids); message/send for a self-built app. ``fail_sends`` makes the next kf/send_msg
calls answer -1 (system busy) without sending, as a flaky WeCom does.

Test-side helpers build the encrypted, signed callbacks Tencent would POST; ``servicer_says``
plays a servicer answering in the WeCom client (sync_msg origin 5 with servicer_userid).
Guesses (not confirmed from Tencent's docs): 40035 for a bad or duplicate msgid and an unknown
cursor; a customer message to a session in state 4 (ended) opening a new session in state 0
(the docs say an ended session restarts when the customer writes, not which state it enters);
3 -> 3 to the servicer already holding the session being accepted.
"""

from __future__ import annotations

import json
import re
import secrets as secrets_module
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from connectors.wecom.crypto import WeComCrypto
from connectors.wecom.xml import build_app_text, build_envelope, build_kf_event

WINDOW_SECONDS = 48 * 3600
MESSAGES_PER_CUSTOMER_MESSAGE = 5
CALLBACK_TOKEN_SECONDS = 600
HISTORY_SECONDS = 3 * 24 * 3600
MAX_TEXT_BYTES = 2048
MSGID = re.compile(r"^[0-9A-Za-z_-]{1,32}$")
# service_state/trans: which states each state may move to.
TRANSITIONS: dict[int, frozenset[int]] = {
    0: frozenset({1, 2, 3, 4}),
    1: frozenset({2, 3, 4}),
    2: frozenset({3, 4}),
    3: frozenset({3, 4}),
    4: frozenset(),
}


class FakeClock:
    def __init__(self, now: float = 1_763_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class SignedCallback:
    """A callback exactly as Tencent POSTs it: query parameters and the XML envelope."""

    params: dict[str, str]
    body: str
    plaintext: str
    token: str = ""


@dataclass(frozen=True)
class SentMessage:
    touser: str
    msgid: str
    msgtype: str
    content: str
    payload: dict[str, Any]
    open_kfid: str = ""


@dataclass
class _Token:
    secret: str
    expires_at: float
    revoked: bool = False
    window_start: float = 0.0
    calls_in_window: int = 0


@dataclass
class _Customer:
    last_message_at: float
    sent_since: int = 0
    state: int = 0
    servicer: str = ""


@dataclass
class _Account:
    messages: list[dict[str, Any]] = field(default_factory=list)
    customers: dict[str, _Customer] = field(default_factory=dict)
    sent_msgids: set[str] = field(default_factory=set)


def _error(errcode: int, errmsg: str) -> web.Response:
    return web.json_response({"errcode": errcode, "errmsg": errmsg})


def _ok(**extra: Any) -> web.Response:
    return web.json_response({"errcode": 0, "errmsg": "ok", **extra})


class FakeWeCom:
    def __init__(
        self,
        corp_id: str,
        secrets: Iterable[str],
        token: str,
        aes_key: str,
        *,
        agent_id: int = 1000002,
        clock: FakeClock | None = None,
        token_ttl: int = 7200,
        rate_limit: int = 1000,
        rate_window: float = 60.0,
        servicers: Iterable[str] | None = None,
        callback_clock: Callable[[], float] = time.time,
    ) -> None:
        self.corp_id = corp_id
        # The corp's reception servicers (接待人员); None accepts any userid.
        self.servicers = None if servicers is None else set(servicers)
        self.secrets = set(secrets)
        self.agent_id = agent_id
        self.clock = clock or FakeClock()
        # Tencent stamps callbacks with the wall clock, which the receiver checks for freshness.
        self.callback_clock = callback_clock
        self.crypto = WeComCrypto(token, aes_key, corp_id)
        self.token_ttl = token_ttl
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.sent_messages: list[SentMessage] = []
        self.app_messages: list[SentMessage] = []
        self.state_changes: list[dict[str, Any]] = []
        self.gettoken_calls = 0
        self.sync_requests: list[dict[str, Any]] = []
        self.fail_sends = 0
        self._tokens: dict[str, _Token] = {}
        self._accounts: dict[str, _Account] = {}
        self._callback_tokens: dict[str, tuple[str, float]] = {}
        self._seq = 0
        self.app = web.Application()
        self.app.router.add_get("/cgi-bin/gettoken", self._gettoken)
        self.app.router.add_post("/cgi-bin/kf/sync_msg", self._authed(self._sync_msg))
        self.app.router.add_post("/cgi-bin/kf/send_msg", self._authed(self._send_msg))
        self.app.router.add_post("/cgi-bin/kf/service_state/trans", self._authed(self._trans))
        self.app.router.add_post("/cgi-bin/message/send", self._authed(self._message_send))

    # ---- test-side helpers -------------------------------------------------------------

    def customer_says(self, open_kfid: str, external_userid: str, text: str) -> SignedCallback:
        """Enqueue a customer's text message; return the kf_msg_or_event callback for it."""
        account = self._accounts.setdefault(open_kfid, _Account())
        customer = account.customers.get(external_userid)
        if customer is None:
            customer = account.customers[external_userid] = _Customer(self.clock())
        customer.last_message_at, customer.sent_since = self.clock(), 0
        if customer.state == 4:  # an ended session: the customer's message opens a new one
            customer.state, customer.servicer = 0, ""
        self._append(open_kfid, external_userid, 3, {"msgtype": "text", "text": {"content": text}})
        return self.kf_callback(open_kfid)

    def servicer_says(
        self, open_kfid: str, external_userid: str, text: str, servicer: str = "agent1"
    ) -> None:
        """A reception agent replied inside WeCom (origin 5): sync_msg returns it too
        (``servicer=""`` leaves servicer_userid out)."""
        body: dict[str, Any] = {"msgtype": "text", "text": {"content": text}}
        if servicer:
            body["servicer_userid"] = servicer
        self._append(open_kfid, external_userid, 5, body)

    def system_event(self, open_kfid: str, external_userid: str, event_type: str) -> None:
        body = {"msgtype": "event", "event": {"event_type": event_type, "external_userid": external_userid}}
        self._append(open_kfid, external_userid, 4, body)

    def kf_callback(self, open_kfid: str) -> SignedCallback:
        token = "ENC" + secrets_module.token_urlsafe(24)
        self._callback_tokens[token] = (open_kfid, self.clock() + CALLBACK_TOKEN_SECONDS)
        plaintext = build_kf_event(self.corp_id, int(self.clock()), token, open_kfid)
        return self._sign(plaintext, agent_id="", token=token)

    def employee_says(self, userid: str, text: str) -> SignedCallback:
        """A text message to the self-built app, as its callback."""
        plaintext = build_app_text(
            self.corp_id, userid, int(self.clock()), text, str(10**15 + self._next()), str(self.agent_id)
        )
        return self._sign(plaintext, agent_id=str(self.agent_id))

    def url_check(self, echo: str) -> dict[str, str]:
        """Query parameters of Tencent's GET that checks a callback URL."""
        timestamp, nonce = str(int(self.callback_clock())), _nonce()
        sealed = self.crypto.seal(echo, timestamp, nonce)
        return {
            "msg_signature": sealed.msg_signature,
            "timestamp": timestamp,
            "nonce": nonce,
            "echostr": sealed.encrypt,
        }

    def revoke_tokens(self) -> None:
        """Invalidate every issued access_token (calls then get 40014)."""
        for record in self._tokens.values():
            record.revoked = True

    def service_state(self, open_kfid: str, external_userid: str) -> int:
        return self._accounts[open_kfid].customers[external_userid].state

    def servicer_of(self, open_kfid: str, external_userid: str) -> str:
        """The servicer holding a session in state 3; "" otherwise."""
        return self._accounts[open_kfid].customers[external_userid].servicer

    # ---- plumbing ----------------------------------------------------------------------

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def _append(self, open_kfid: str, external_userid: str, origin: int, body: dict[str, Any]) -> None:
        account = self._accounts.setdefault(open_kfid, _Account())
        account.messages.append(
            {
                "msgid": f"m{self._next():06d}{secrets_module.token_hex(8)}",
                "open_kfid": open_kfid,
                "external_userid": external_userid,
                "send_time": int(self.clock()),
                "origin": origin,
                **body,
            }
        )

    def _sign(self, plaintext: str, *, agent_id: str, token: str = "") -> SignedCallback:
        timestamp, nonce = str(int(self.callback_clock())), _nonce()
        sealed = self.crypto.seal(plaintext, timestamp, nonce)
        params = {"msg_signature": sealed.msg_signature, "timestamp": timestamp, "nonce": nonce}
        body = build_envelope(self.corp_id, sealed.encrypt, agent_id)
        return SignedCallback(params, body, plaintext, token)

    async def _gettoken(self, request: web.Request) -> web.Response:
        self.gettoken_calls += 1
        if request.query.get("corpid") != self.corp_id:
            return _error(40013, "invalid corpid")
        secret = request.query.get("corpsecret", "")
        if secret not in self.secrets:
            return _error(40001, "invalid credential")
        now = self.clock()
        for value, record in self._tokens.items():
            if record.secret == secret and not record.revoked and record.expires_at > now:
                return _ok(access_token=value, expires_in=int(record.expires_at - now))
        value = secrets_module.token_urlsafe(48)
        self._tokens[value] = _Token(secret, now + self.token_ttl, window_start=now)
        return _ok(access_token=value, expires_in=self.token_ttl)

    def _authed(self, handler: Any) -> Any:
        async def wrapped(request: web.Request) -> web.Response:
            value = request.query.get("access_token")
            if not value:
                return _error(41001, "access_token missing")
            record = self._tokens.get(value)
            if record is None or record.revoked:
                return _error(40014, "invalid access_token")
            now = self.clock()
            if now >= record.expires_at:
                return _error(42001, "access_token expired")
            if now - record.window_start >= self.rate_window:
                record.window_start, record.calls_in_window = now, 0
            record.calls_in_window += 1
            if record.calls_in_window > self.rate_limit:
                return _error(45009, "api freq out of limit")
            try:
                body = json.loads(await request.read() or b"{}")
            except ValueError:
                return _error(47001, "data format error")
            if not isinstance(body, dict):
                return _error(47001, "data format error")
            result: web.Response = await handler(body)
            return result

        return wrapped

    async def _sync_msg(self, body: dict[str, Any]) -> web.Response:
        self.sync_requests.append(body)
        open_kfid = body.get("open_kfid", "")
        account = self._accounts.get(open_kfid)
        if account is None:
            return _error(95000, "invalid open_kfid")
        token = body.get("token", "")
        if token:
            owner = self._callback_tokens.get(token)
            if owner is None or owner[0] != open_kfid or owner[1] <= self.clock():
                return _error(95007, "invalid msg token")
        limit = body.get("limit", 1000)
        if not isinstance(limit, int) or not 1 <= limit <= 1000:
            return _error(40035, "invalid limit")
        start = _cursor_index(body.get("cursor", ""))
        if start is None or start > len(account.messages):
            return _error(40035, "invalid cursor")
        end = min(start + limit, len(account.messages))
        oldest = self.clock() - HISTORY_SECONDS
        page = [m for m in account.messages[start:end] if m["send_time"] >= oldest]
        has_more = 1 if end < len(account.messages) else 0
        return _ok(next_cursor=_cursor(end), has_more=has_more, msg_list=page)

    async def _send_msg(self, body: dict[str, Any]) -> web.Response:
        if self.fail_sends > 0:
            self.fail_sends -= 1
            return _error(-1, "system busy")
        open_kfid, touser = body.get("open_kfid", ""), body.get("touser", "")
        account = self._accounts.get(open_kfid)
        if account is None:
            return _error(95000, "invalid open_kfid")
        customer = account.customers.get(touser)
        if customer is None:
            return _error(40096, "invalid external userid")
        msgid = body.get("msgid") or f"s{self._next():06d}{secrets_module.token_hex(8)}"
        if not isinstance(msgid, str) or not MSGID.match(msgid) or msgid in account.sent_msgids:
            return _error(40035, "invalid msgid")
        content, problem = _content(body)
        if problem is not None:
            return problem
        if customer.state not in (0, 1):
            return _error(95018, "send msg session status invalid")
        if self.clock() - customer.last_message_at > WINDOW_SECONDS:
            return _error(95002, "send msg time limit")
        if customer.sent_since >= MESSAGES_PER_CUSTOMER_MESSAGE:
            return _error(95001, "send msg count limit")
        customer.sent_since += 1
        account.sent_msgids.add(msgid)
        self.sent_messages.append(SentMessage(touser, msgid, body["msgtype"], content, body, open_kfid))
        return _ok(msgid=msgid)

    async def _trans(self, body: dict[str, Any]) -> web.Response:
        account = self._accounts.get(body.get("open_kfid", ""))
        if account is None:
            return _error(95000, "invalid open_kfid")
        customer = account.customers.get(body.get("external_userid", ""))
        if customer is None:
            return _error(40096, "invalid external userid")
        state = body.get("service_state")
        if not isinstance(state, int) or state not in TRANSITIONS:
            return _error(40035, "invalid service_state")
        servicer = body.get("servicer_userid") or ""
        if state == 3 and (not servicer or (self.servicers is not None and servicer not in self.servicers)):
            return _error(95014, "user is not servicer")
        if state not in TRANSITIONS[customer.state]:
            return _error(95016, "service state transition not allowed")
        customer.state = state
        customer.servicer = servicer if state == 3 else ""
        self.state_changes.append(body)
        return _ok(msg_code=secrets_module.token_hex(12))

    async def _message_send(self, body: dict[str, Any]) -> web.Response:
        if body.get("agentid") != self.agent_id:
            return _error(40056, "invalid agentid")
        touser = body.get("touser", "")
        if not isinstance(touser, str) or not touser:
            return _error(81013, "user & party & tag all invalid")
        content, problem = _content(body, truncate=True)
        if problem is not None:
            return problem
        msgid = secrets_module.token_urlsafe(24)
        self.app_messages.append(SentMessage(touser, msgid, "text", content, body))
        return _ok(invaliduser="", msgid=msgid)


def _content(body: dict[str, Any], *, truncate: bool = False) -> tuple[str, web.Response | None]:
    """The text of a text or msgmenu message, or the errcode answer for a bad one."""
    msgtype = body.get("msgtype")
    if msgtype == "msgmenu" and not truncate:
        menu = body.get("msgmenu")
        items = menu.get("list") if isinstance(menu, dict) else None
        if not isinstance(items, list) or not items:
            return "", _error(40035, "invalid msgmenu")
        if len(items) > 10:
            return "", _error(95008, "too many menu items")
        return str(menu.get("head_content", "")) if isinstance(menu, dict) else "", None
    if msgtype != "text":
        return "", _error(40008, "invalid message type")
    text = body.get("text")
    content = text.get("content") if isinstance(text, dict) else None
    if not isinstance(content, str) or not content:
        return "", _error(44004, "empty content")
    raw = content.encode("utf-8")
    if len(raw) > MAX_TEXT_BYTES:
        if not truncate:
            return "", _error(45002, "content size out of limit")
        content = raw[:MAX_TEXT_BYTES].decode("utf-8", "ignore")
    return content, None


def _cursor(index: int) -> str:
    return f"C{index:08x}"


def _cursor_index(cursor: object) -> int | None:
    if cursor in ("", None):
        return 0
    if not isinstance(cursor, str) or not re.fullmatch(r"C[0-9a-f]{8}", cursor):
        return None
    return int(cursor[1:], 16)


def _nonce() -> str:
    """Random, as Tencent's: callbacks from different fakes in the same second never collide."""
    return str(10**9 + secrets_module.randbelow(9 * 10**9))


def create_fake_wecom(
    corp_id: str, secrets: Iterable[str], token: str, aes_key: str, **options: Any
) -> FakeWeCom:
    """The fake; serve ``fake.app`` (e.g. with aiohttp.test_utils.TestServer)."""
    return FakeWeCom(corp_id, secrets, token, aes_key, **options)
