"""Which WeCom servicer holds a 微信客服 session (key family kefu:wecom:kf:servicer).

A session Kefu answers through the API stays in state 0/1. When an agent with a WeCom servicer
user id takes a conversation, ``hand_to`` moves the session to state 3 (人工接待) with
kf/service_state/trans and records the servicer here; ``end`` moves it to 4 (已结束) and forgets
it. While a servicer holds the session WeCom refuses kf/send_msg (95018), so senders ask
``holder`` first. ``refused`` records a 95018 for a session Kefu did not hand over (someone moved
it in the WeCom client, or a trans call timed out after WeCom had applied it) as held by an
unknown servicer, ``UNKNOWN_SERVICER``.

A failed trans call is logged (errcode and WeCom's errmsg, never a token) and reported as False:
the caller keeps answering through the API.
"""

from __future__ import annotations

import logging
from typing import Protocol

import redis.asyncio as aioredis

from connectors.wecom import keys
from connectors.wecom.models import ServiceState
from core.errors import KefuError

log = logging.getLogger(__name__)

UNKNOWN_SERVICER = "?"
# A session is served within WeCom's 48-hour window; a record that outlives a forgotten close by
# far is dropped, and a 95018 after that records the session again (``refused``).
RECORD_TTL_SECONDS = 14 * 24 * 3600


class StateApi(Protocol):
    async def trans_service_state(
        self, open_kfid: str, external_userid: str, state: ServiceState, servicer_userid: str = ""
    ) -> str: ...


class ServicerSessions:
    """The only writer of kefu:wecom:kf:servicer."""

    def __init__(self, api: StateApi, redis: aioredis.Redis, ttl_seconds: int = RECORD_TTL_SECONDS) -> None:
        self._api = api
        self._redis = redis
        self._ttl = ttl_seconds

    async def holder(self, open_kfid: str, external_userid: str) -> str:
        """The servicer userid holding the session; "" when Kefu answers through the API."""
        value = await self._redis.get(keys.kf_servicer(open_kfid, external_userid))
        if isinstance(value, bytes):
            return value.decode()
        return str(value) if value else ""

    async def hand_to(self, open_kfid: str, external_userid: str, servicer_userid: str) -> bool:
        """Move the session to state 3 with ``servicer_userid``; False (logged) when WeCom refused."""
        if not servicer_userid or servicer_userid == UNKNOWN_SERVICER:
            raise ValueError("hand_to needs a servicer userid")
        if not await self._trans(open_kfid, external_userid, ServiceState.AGENT, servicer_userid):
            return False
        await self._redis.set(keys.kf_servicer(open_kfid, external_userid), servicer_userid, ex=self._ttl)
        return True

    async def end(self, open_kfid: str, external_userid: str) -> bool:
        """Move a held session to state 4; True when nothing was held. The record goes either way:
        a session WeCom kept open can still be ended by its servicer in the WeCom client."""
        if not await self.holder(open_kfid, external_userid):
            return True
        ended = await self._trans(open_kfid, external_userid, ServiceState.CLOSED)
        await self._redis.delete(keys.kf_servicer(open_kfid, external_userid))
        return ended

    async def refused(self, open_kfid: str, external_userid: str) -> None:
        """WeCom answered 95018 (session not with the API): remember it unless already known."""
        await self._redis.set(
            keys.kf_servicer(open_kfid, external_userid), UNKNOWN_SERVICER, ex=self._ttl, nx=True
        )

    async def _trans(
        self, open_kfid: str, external_userid: str, state: ServiceState, servicer_userid: str = ""
    ) -> bool:
        try:
            await self._api.trans_service_state(open_kfid, external_userid, state, servicer_userid)
        except KefuError as exc:
            errcode = getattr(exc, "errcode", None)
            log.warning(
                "kf/service_state/trans to %d on %s failed (%s, errcode %s): %s",
                int(state),
                open_kfid,
                exc.code,
                errcode,
                exc.message,
            )
            return False
        return True
