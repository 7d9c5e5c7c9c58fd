"""Sanic blueprints for the WeCom callback URLs: /wecom/kf/callback and /wecom/app/callback.

GET is Tencent's URL check: verify the signature over echostr, answer the decrypted text.
POST verifies and decrypts the envelope. A kf callback only says "sync": it is answered
"success" at once (Tencent retries after 5 s) and the sync runs in a background task. A
self-built app callback carries the message itself: it is handled before the answer, marked
seen only once handled, and a failure is answered 503 so that Tencent's retry brings it again
(at least once; the msgid and the switchboard's client message id keep it once). A handler
still busy after ``APP_ANSWER_WITHIN`` seconds is left to finish in the background and the
callback answered "success". A bad signature is a 403 and nothing is decrypted or processed;
so is a stale timestamp, and a repeated one is answered but not handled again
(``connectors.wecom.replay``), except the retry of an app callback whose handling failed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from sanic import Blueprint, Request
from sanic.response import HTTPResponse, json, text

from connectors.wecom.crypto import WeComCrypto
from connectors.wecom.errors import WeComCryptoError, WeComPayloadError
from connectors.wecom.ingest import WeComAppIngest, WeComKfIngest
from connectors.wecom.replay import ReplayGuard
from connectors.wecom.xml import AppTextMessage, Callback, KfEvent, parse_callback, parse_envelope
from core.errors import KefuError
from core.types import InboundMessage

log = logging.getLogger(__name__)

OnInbound = Callable[[InboundMessage], Awaitable[None]]
Handler = Callable[[Request], Coroutine[Any, Any, HTTPResponse]]


def _arg(request: Request, name: str) -> str:
    value = request.args.get(name)
    if not isinstance(value, str) or not value:
        raise WeComPayloadError(f"the query parameter {name} is missing", code=f"missing_{name}")
    return value


def open_callback(crypto: WeComCrypto, request: Request) -> Callback:
    """Verify and decrypt a callback POST into a typed callback."""
    envelope = parse_envelope(request.body)
    plaintext = crypto.open(
        _arg(request, "msg_signature"), _arg(request, "timestamp"), _arg(request, "nonce"), envelope.encrypt
    )
    return parse_callback(plaintext)


async def open_fresh_callback(crypto: WeComCrypto, guard: ReplayGuard, request: Request) -> Callback | None:
    """``open_callback``, then the replay check: None for a callback received before."""
    callback = open_callback(crypto, request)
    if not await guard.first_time(_arg(request, "timestamp"), _arg(request, "nonce")):
        log.info("a WeCom callback arrived again (a retry or a replay); not handled twice")
        return None
    return callback


def _verify_url(crypto: WeComCrypto) -> Handler:
    async def verify_url(request: Request) -> HTTPResponse:
        # Base64 has no spaces: a "+" that arrived un-escaped was decoded as a space.
        echostr = _arg(request, "echostr").replace(" ", "+")
        plaintext = crypto.open(
            _arg(request, "msg_signature"), _arg(request, "timestamp"), _arg(request, "nonce"), echostr
        )
        return text(plaintext)

    return verify_url


async def _error(request: Request, exc: Exception) -> HTTPResponse:
    assert isinstance(exc, KefuError)
    return json({"error": {"code": exc.code, "message": exc.message}}, status=exc.status)


async def deliver(messages: list[InboundMessage], on_inbound: OnInbound) -> None:
    for message in messages:
        try:
            await on_inbound(message)
        except Exception:
            log.exception("handling WeCom message %s failed", message.channel_message_id)


async def run_kf_sync(ingest: WeComKfIngest, on_inbound: OnInbound, event: KfEvent) -> None:
    try:
        await ingest.pull(event, handle=on_inbound)
    except Exception:
        # Nothing after the failed message was marked or passed by the cursor: the next
        # callback (WeCom retries, and every new customer message sends one) pulls it again.
        log.exception("kf sync for %s stopped; it resumes on the next callback", event.open_kfid)


APP_ANSWER_WITHIN = 4.0  # Tencent waits 5 s for "success"


async def run_app_message(ingest: WeComAppIngest, on_inbound: OnInbound, msg: AppTextMessage) -> None:
    """Handle one app message and then mark it; raises (nothing marked) when handling failed."""
    inbound = await ingest.accept(msg)
    if inbound is None:
        return
    await on_inbound(inbound)
    await ingest.done(msg)


async def answer_app_message(ingest: WeComAppIngest, on_inbound: OnInbound, msg: AppTextMessage) -> bool:
    """True when the message is handled (or still being handled after the answer budget)."""
    task = asyncio.ensure_future(run_app_message(ingest, on_inbound, msg))
    done, _ = await asyncio.wait({task}, timeout=APP_ANSWER_WITHIN)
    if not done:
        task.add_done_callback(_log_late_failure(msg.msg_id))
        return True
    if task.exception() is not None:
        log.error(
            "handling WeCom app message %s failed; WeCom will retry", msg.msg_id, exc_info=task.exception()
        )
        return False
    return True


def _log_late_failure(msg_id: str) -> Callable[[asyncio.Future[None]], None]:
    def report(task: asyncio.Future[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("handling WeCom app message %s failed late", msg_id, exc_info=task.exception())

    return report


def _blueprint(name: str, prefix: str, crypto: WeComCrypto, receive: Handler) -> Blueprint:
    bp = Blueprint(name, url_prefix=prefix)
    bp.add_route(_verify_url(crypto), "/callback", methods=["GET"], name="verify_url")
    bp.add_route(receive, "/callback", methods=["POST"], name="receive")
    bp.exception(WeComCryptoError, WeComPayloadError)(_error)
    return bp


def create_kf_blueprint(
    crypto: WeComCrypto, ingest: WeComKfIngest, on_inbound: OnInbound, guard: ReplayGuard
) -> Blueprint:
    async def receive(request: Request) -> HTTPResponse:
        callback = await open_fresh_callback(crypto, guard, request)
        if isinstance(callback, KfEvent):
            request.app.add_task(run_kf_sync(ingest, on_inbound, callback))
        return text("success")

    return _blueprint("wecom_kf", "/wecom/kf", crypto, receive)


def create_app_blueprint(
    crypto: WeComCrypto, ingest: WeComAppIngest, on_inbound: OnInbound, guard: ReplayGuard
) -> Blueprint:
    async def receive(request: Request) -> HTTPResponse:
        callback = await open_fresh_callback(crypto, guard, request)
        if isinstance(callback, AppTextMessage) and not await answer_app_message(
            ingest, on_inbound, callback
        ):
            # Not handled: WeCom's retry of this very callback must be taken, not refused.
            await guard.forget(_arg(request, "timestamp"), _arg(request, "nonce"))
            return json({"error": {"code": "handling_failed", "message": "try again"}}, status=503)
        return text("success")

    return _blueprint("wecom_app", "/wecom/app", crypto, receive)
