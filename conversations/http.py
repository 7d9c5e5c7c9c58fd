"""An aiohttp session opened on first use, inside the running loop, and closed with the app."""

from __future__ import annotations

from typing import Any

import aiohttp


class LazySession:
    def __init__(self, timeout: float = 10.0) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    def _get(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    def request(self, method: str, url: str, **kwargs: Any) -> Any:
        return self._get().request(method, url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> Any:
        return self._get().post(url, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self._get().get(url, **kwargs)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
