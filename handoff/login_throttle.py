"""Login throttle: at most N failed logins per account and per IP address in a window (Redis).

Every attempt counts before the password is checked, so a flood of parallel guesses is cut off
at the limit rather than after all of them ran scrypt; a successful login takes its own count
back (and clears the account's). Over the limit, ``RateLimited`` carries the seconds until the
window ends, which the service sends as ``Retry-After``. Key family ``kefu:throttle:login:*``
is written only here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import redis.asyncio as aioredis

from core.errors import RateLimited
from handoff import keys

ACCOUNT = "account"
IP = "ip"


@dataclass(frozen=True)
class LoginLimits:
    per_account: int = 5
    per_ip: int = 20
    window_seconds: int = 15 * 60


def _key(scope: str, subject: str) -> str:
    # Hashed: usernames and addresses are the client's text, never a raw part of a key.
    return keys.login_failures(scope, hashlib.sha256(subject.encode()).hexdigest()[:32])


class LoginThrottle:
    def __init__(self, redis: aioredis.Redis, limits: LoginLimits = LoginLimits()) -> None:
        self._redis = redis
        self._limits = limits

    async def attempt(self, username: str, ip: str) -> None:
        """Count one attempt; ``RateLimited`` when the account or the address is over its limit."""
        account, address = _key(ACCOUNT, username.lower()), _key(IP, ip)
        window = self._limits.window_seconds
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in (account, address):
                pipe.incr(key)
                pipe.expire(key, window, nx=True)
                pipe.ttl(key)
            account_count, _, account_ttl, address_count, _, address_ttl = await pipe.execute()
        for count, ttl, limit in (
            (account_count, account_ttl, self._limits.per_account),
            (address_count, address_ttl, self._limits.per_ip),
        ):
            if int(count) > limit:
                raise RateLimited(
                    "too many failed logins, try again later",
                    retry_after=int(ttl) if int(ttl) > 0 else window,
                )

    async def succeeded(self, username: str, ip: str) -> None:
        """A right password: the account starts afresh and the address gets this attempt back."""
        address = _key(IP, ip)
        async with self._redis.pipeline(transaction=True) as pipe:
            # expire NX: a count whose window ended meanwhile never stays without one.
            pipe.delete(_key(ACCOUNT, username.lower()))
            pipe.decr(address)
            pipe.expire(address, self._limits.window_seconds, nx=True)
            await pipe.execute()
