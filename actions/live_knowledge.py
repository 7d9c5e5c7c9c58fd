"""``knowledge.live.LiveIndex`` opened lazily: on the first search, in the worker that searches.

rasa_sdk pickles the executor into each Sanic worker, so nothing may be loaded at registration.
``LiveIndex`` itself follows newly published knowledge versions without a restart.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

from actions.knowledge import KnowledgeUnavailable
from core.errors import KefuError
from core.types import Lang
from knowledge.config import IndexConfig
from knowledge.live import LiveIndex
from knowledge.types import SearchResult

log = logging.getLogger(__name__)


class LazyLiveIndex:
    def __init__(self, root: Path, config: IndexConfig | None = None) -> None:
        self._root = root
        self._config = config
        self._index: LiveIndex | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        return {"_root": self._root, "_config": self._config}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["_root"], state["_config"])  # type: ignore[misc]
        self.warm_up()  # unpickled inside a Sanic worker: load there, before the first customer

    def warm_up(self) -> threading.Thread:
        """Load the index and its encoders in the background, so the first real question does not
        wait for model loading (which can take longer than Rasa is willing to wait)."""

        def load() -> None:
            try:
                self.search("你好", None, 1)
            except KnowledgeUnavailable:
                log.warning("knowledge warm-up: no index yet; it loads on the first search")

        thread = threading.Thread(target=load, name="knowledge-warm-up", daemon=True)
        thread.start()
        return thread

    def search(self, text: str, lang: Lang | None = None, k: int = 5) -> SearchResult:
        try:
            result: SearchResult = self._live().search(text, lang=lang, k=k)
        except (KefuError, OSError, ValueError) as exc:
            raise KnowledgeUnavailable(f"the knowledge index cannot be searched: {exc}") from exc
        return result

    def _live(self) -> LiveIndex:
        with self._lock:
            if self._index is None:
                self._index = LiveIndex(self._root, self._config or IndexConfig())
            return self._index
