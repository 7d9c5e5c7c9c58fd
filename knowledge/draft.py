"""Trying a question against the draft: the entries as they are in SQL now, not yet published.

The draft is built like a version (learned questions merged) but with a lighter calibration, into
``root/drafts/<fingerprint>/``; it is rebuilt only when the entries change, so typing in the try
box reuses it. One draft is kept; older ones are removed.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from knowledge.config import IndexConfig
from knowledge.index import KnowledgeIndex, build_index, load_index
from knowledge.types import FaqEntry

DRAFT_CV_QUERIES = 600


def fingerprint(entries: Sequence[FaqEntry]) -> str:
    body = json.dumps([[e.key, e.lang, e.question, e.similar, e.answer, e.tags, e.enabled] for e in entries])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]


class Drafts:
    def __init__(self, root: Path, config: IndexConfig) -> None:
        self._root = root / "drafts"
        self._config = replace(
            config, cv_folds=2, cv_max_queries=min(config.cv_max_queries, DRAFT_CV_QUERIES)
        )
        self._lock = threading.Lock()
        self._loaded: tuple[str, KnowledgeIndex] | None = None

    def index(self, entries: Sequence[FaqEntry]) -> KnowledgeIndex:
        """The draft index of ``entries`` (blocking: built on first use, then reused)."""
        key = fingerprint(entries)
        with self._lock:
            if self._loaded is not None and self._loaded[0] == key:
                return self._loaded[1]
            out = self._root / key
            if not (out / "manifest.json").exists():
                shutil.rmtree(out, ignore_errors=True)
                build_index(entries, out, self._config)
            index = load_index(out, self._config)
            for old in self._root.iterdir():
                if old.name != key:
                    shutil.rmtree(old, ignore_errors=True)
            self._loaded = (key, index)
            return index
