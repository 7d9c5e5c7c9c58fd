"""Turn WeCom callbacks into ``InboundMessage`` (key families kefu:wecom:kf:cursor and :sync-lock).

A kf callback only says "something new for open_kfid"; the messages are pulled with
kf/sync_msg from the saved cursor, one sync per open_kfid at a time, page by page while has_more.
With a ``CursorStore`` (SQL, ``core.cursors``) each page's cursor is written there first and
Redis only caches it, so after a Redis flush the sync resumes where it was rather than from
WeCom's oldest message (three days back); a page handled again after a crash is deduplicated by
the seen marks and, once those are flushed too, by the switchboard (one message per msgid).

Customer text messages (origin 3) not seen before become ``InboundMessage``. Text messages a
servicer typed in the WeCom client (origin 5, with a servicer_userid) go, each once, to
``on_servicer`` when one is given: Kefu keeps them in the transcript and sends nothing.

Handling a message only stores it (replies go out through the outbox), so one customer's
trouble never holds the cursor: a message whose handling failed ``max_failures`` times is
logged and passed, and the sync moves on. ``resync`` pulls every known account without a
callback token, on a timer, so a lost callback or a failed sync does not wait for the next one.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import LockError

from connectors.wecom import keys
from connectors.wecom.dedup import MessageDedup
from connectors.wecom.errors import WeComUnavailable
from connectors.wecom.models import KfMessage, Origin, SyncPage
from connectors.wecom.xml import AppTextMessage, KfEvent
from core.cursors import CursorStore
from core.types import Channel, InboundMessage

log = logging.getLogger(__name__)

MAX_PAGES = 1000  # a guard against a server that keeps saying has_more
MAX_FAILURES = 3  # handling attempts of one message before the sync passes it
FAILURES_TTL_SECONDS = 4 * 24 * 3600
CURSOR_CHANNEL = Channel.WECOM_KF.value  # the channel name cursors are saved under


class SyncSource(Protocol):
    async def sync_msg(
        self, open_kfid: str, token: str = "", cursor: str = "", limit: int = 1000
    ) -> SyncPage: ...


def kf_inbound(msg: KfMessage) -> InboundMessage | None:
    """The customer text message as an InboundMessage; None for anything else."""
    if msg.origin != Origin.CUSTOMER or msg.msgtype != "text" or not msg.text or not msg.external_userid:
        return None
    metadata: dict[str, object] = {"send_time": msg.send_time}
    if msg.menu_id:
        metadata["menu_id"] = msg.menu_id
    return InboundMessage(
        channel=Channel.WECOM_KF,
        channel_user_id=msg.external_userid,
        text=msg.text,
        channel_message_id=msg.msgid,
        entry_point=msg.open_kfid,
        metadata=metadata,
    )


def is_servicer_text(msg: KfMessage) -> bool:
    """A text a servicer typed in the WeCom client. Messages without a servicer_userid are not
    taken as such: they could be echoes of what Kefu itself sent through the API."""
    return (
        msg.origin == Origin.SERVICER
        and msg.msgtype == "text"
        and bool(msg.text)
        and bool(msg.external_userid and msg.servicer_userid)
    )


OnServicer = Callable[[KfMessage], Awaitable[object]]


class WeComKfIngest:
    def __init__(
        self,
        api: SyncSource,
        redis: aioredis.Redis,
        dedup: MessageDedup,
        *,
        limit: int = 1000,
        lock_timeout: float = 120.0,
        lock_wait: float = 60.0,
        on_servicer: OnServicer | None = None,
        max_failures: int = MAX_FAILURES,
        cursors: CursorStore | None = None,
    ) -> None:
        self._max_failures = max_failures
        self._cursors = cursors
        self._api = api
        self._on_servicer = on_servicer
        self._redis = redis
        self._dedup = dedup
        self._limit = limit
        self._lock_timeout = lock_timeout
        self._lock_wait = lock_wait

    async def pull(
        self, event: KfEvent, handle: Callable[[InboundMessage], Awaitable[object]] | None = None
    ) -> list[InboundMessage]:
        """Every new customer text message for ``event.open_kfid``, each at most once.

        With ``handle``, each message is handled before it is marked seen and before the cursor
        moves past its page, so a crash or a failed handler loses nothing: the next callback
        pulls it again (the switchboard itself is idempotent per message id).
        """
        await self._redis.sadd(keys.kf_accounts(), event.open_kfid)
        lock = self._redis.lock(
            keys.kf_sync_lock(event.open_kfid), timeout=self._lock_timeout, blocking_timeout=self._lock_wait
        )
        try:
            async with lock:
                return await self._sync(event, handle)
        except LockError as exc:
            raise WeComUnavailable("timed out waiting for another sync of this kf account") from exc

    async def resync(self, handle: Callable[[InboundMessage], Awaitable[object]]) -> None:
        """Pull every kf account a callback has named or a cursor is saved for (no callback token:
        a timer's sync)."""
        for open_kfid in await self._accounts():
            try:
                await self.pull(KfEvent("", 0, "", open_kfid), handle)
            except Exception:
                log.exception("timed kf sync for %s failed; the next one tries again", open_kfid)

    async def _accounts(self) -> list[str]:
        named = {
            raw.decode() if isinstance(raw, bytes) else str(raw)
            for raw in await self._redis.smembers(keys.kf_accounts())
        }
        saved = set(await self._cursors.accounts(CURSOR_CHANNEL)) if self._cursors is not None else set()
        return sorted(named | saved)

    async def _cursor(self, open_kfid: str) -> str:
        """Redis's cached cursor, else the saved one (cached again)."""
        cached = await self._redis.get(keys.kf_cursor(open_kfid))
        if cached:
            return cached.decode() if isinstance(cached, bytes) else str(cached)
        if self._cursors is None:
            return ""
        saved = await self._cursors.get(CURSOR_CHANNEL, open_kfid)
        if saved:
            await self._redis.set(keys.kf_cursor(open_kfid), saved)
        return saved

    async def _save_cursor(self, open_kfid: str, cursor: str) -> None:
        if self._cursors is not None:
            await self._cursors.put(CURSOR_CHANNEL, open_kfid, cursor)
        await self._redis.set(keys.kf_cursor(open_kfid), cursor)

    async def _sync(
        self, event: KfEvent, handle: Callable[[InboundMessage], Awaitable[object]] | None
    ) -> list[InboundMessage]:
        cursor = await self._cursor(event.open_kfid)
        found: list[InboundMessage] = []
        for _ in range(MAX_PAGES):
            page = await self._api.sync_msg(event.open_kfid, event.token, cursor, self._limit)
            found.extend(await self._new_messages(page, handle))
            if page.next_cursor:
                cursor = page.next_cursor
                await self._save_cursor(event.open_kfid, cursor)
            if not page.has_more:
                break
            if not page.next_cursor:
                log.warning("sync_msg said has_more without a next_cursor for %s", event.open_kfid)
                break
        return found

    async def _new_messages(
        self, page: SyncPage, handle: Callable[[InboundMessage], Awaitable[object]] | None
    ) -> list[InboundMessage]:
        found: list[InboundMessage] = []
        for msg in page.messages:
            if self._on_servicer is not None and is_servicer_text(msg):
                await self._servicer_message(self._on_servicer, msg)
                continue
            inbound = kf_inbound(msg)
            if inbound is None:
                continue
            if handle is None:
                if await self._dedup.first_time(msg.msgid):
                    found.append(inbound)
            elif not await self._dedup.seen(msg.msgid):
                if await self._handled(handle, inbound):
                    found.append(inbound)
                await self._dedup.mark(msg.msgid)
        return found

    async def _handled(
        self, handle: Callable[[InboundMessage], Awaitable[object]], msg: InboundMessage
    ) -> bool:
        """Handle one message. A failure is raised (not marked, cursor not moved: the next sync
        tries again) until it has failed ``max_failures`` times; then it is logged and passed."""
        try:
            await handle(msg)
        except Exception:
            key = keys.kf_failures(msg.channel_message_id)
            failures = int(await self._redis.incr(key))
            await self._redis.expire(key, FAILURES_TTL_SECONDS)
            if failures < self._max_failures:
                raise
            log.exception(
                "kf message %s failed %d times; passed so the sync moves on", msg.channel_message_id, failures
            )
            return False
        return True

    async def _servicer_message(self, handle: OnServicer, msg: KfMessage) -> None:
        if not await self._dedup.seen(msg.msgid):
            await handle(msg)  # raises: not marked, cursor not moved
            await self._dedup.mark(msg.msgid)


class WeComAppIngest:
    """Self-built app text messages arrive whole in the callback: at least once, deduplicated.

    ``accept`` only checks whether the message was handled; ``done`` records it after the
    handler stored it, so a handler that fails leaves the message for WeCom's retry."""

    def __init__(self, dedup: MessageDedup) -> None:
        self._dedup = dedup

    async def done(self, msg: AppTextMessage) -> None:
        await self._dedup.mark(msg.msg_id)

    async def accept(self, msg: AppTextMessage) -> InboundMessage | None:
        if not msg.content or await self._dedup.seen(msg.msg_id):
            return None
        return InboundMessage(
            channel=Channel.WECOM_APP,
            channel_user_id=msg.from_user,
            text=msg.content,
            channel_message_id=msg.msg_id,
            entry_point=msg.agent_id,
            metadata={"send_time": msg.create_time},
        )
