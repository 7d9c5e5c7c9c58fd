"""Follow the published index version without a restart.

``root/versions/<N>/`` hold artifacts; ``root/CURRENT`` holds the current version number and is
replaced atomically (``write_current``). ``LiveIndex`` checks CURRENT at most once per second and
loads a new version in a background thread, then swaps it in; searches keep using the old
version meanwhile, so they neither fail nor wait (only the very first load is synchronous).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from core.errors import Unavailable
from core.types import Lang
from knowledge.config import IndexConfig
from knowledge.index import KnowledgeIndex, load_index
from knowledge.types import SearchResult

log = logging.getLogger(__name__)
CHECK_EVERY = 1.0


class NoKnowledgeVersion(Unavailable):
    code = "knowledge_not_published"


def current_file(root: Path) -> Path:
    return root / "CURRENT"


def version_dir(root: Path, version: int) -> Path:
    return root / "versions" / str(version)


def read_current(root: Path) -> int | None:
    try:
        text = current_file(root).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return int(text) if text.isdigit() else None


def published_version(root: Path) -> int | None:
    """The current version, if its artifact directory is actually there."""
    version = read_current(root)
    return version if version is not None and version_dir(root, version).is_dir() else None


def write_current(root: Path, version: int) -> None:
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".CURRENT.{os.getpid()}.{threading.get_ident()}"
    tmp.write_text(f"{version}\n", encoding="utf-8")
    os.replace(tmp, current_file(root))


def next_version_dir(root: Path, after: int = 0) -> tuple[int, Path]:
    """The next free version number above ``after`` (the newest in the database) and its (newly
    created) directory."""
    versions = root / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    numbers = [int(p.name) for p in versions.iterdir() if p.name.isdigit()]
    version = max([*numbers, after]) + 1
    while True:
        path = versions / str(version)
        try:
            path.mkdir()
            return version, path
        except FileExistsError:
            version += 1


class LiveIndex:
    def __init__(
        self,
        root: Path,
        config: IndexConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        check_every: float = CHECK_EVERY,
    ) -> None:
        self._root = root
        self._config = config
        self._clock = clock
        self._check_every = check_every
        self._index: KnowledgeIndex | None = None
        self._version: int | None = None
        self._next_check = float("-inf")
        self._loading: int | None = None
        self._lock = threading.Lock()
        self._load_lock = threading.Lock()

    @property
    def version(self) -> int | None:
        return self._version

    @property
    def ready(self) -> bool:
        return self._index is not None

    def search(self, text: str, lang: Lang | None = None, k: int = 5) -> SearchResult:
        return self.search_versioned(text, lang, k)[1]

    def search_versioned(
        self, text: str, lang: Lang | None = None, k: int = 5
    ) -> tuple[int | None, SearchResult]:
        """``search``, with the version that answered (read together with the index it names)."""
        self._maybe_refresh()
        with self._lock:
            index, version = self._index, self._version
        if index is None:
            index = self._load_first()
            with self._lock:
                index, version = self._index or index, self._version
        return version, index.search(text, lang=lang, k=k)

    def _maybe_refresh(self) -> None:
        now = self._clock()
        with self._lock:
            if now < self._next_check:
                return
            self._next_check = now + self._check_every
            wanted = read_current(self._root)
            if wanted is None or wanted == self._version or wanted == self._loading or self._index is None:
                return
            self._loading = wanted
        threading.Thread(target=self._load_background, args=(wanted,), daemon=True).start()

    def _load_first(self) -> KnowledgeIndex:
        with self._load_lock:
            if self._index is not None:
                return self._index
            wanted = read_current(self._root)
            if wanted is None:
                raise NoKnowledgeVersion("no knowledge version is published yet")
            self._swap(wanted, load_index(version_dir(self._root, wanted), self._config))
            assert self._index is not None
            return self._index

    def _load_background(self, version: int) -> None:
        try:
            index = load_index(version_dir(self._root, version), self._config)
        except Exception:  # keep serving the old version; retry on a later check
            log.exception("loading knowledge version %s failed", version)
            with self._lock:
                self._loading = None
            return
        with self._load_lock:
            self._swap(version, index)

    def _swap(self, version: int, index: KnowledgeIndex) -> None:
        with self._lock:
            if self._version is None or version > self._version or read_current(self._root) == version:
                self._index, self._version = index, version
            if self._loading == version:
                self._loading = None
