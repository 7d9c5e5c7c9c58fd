"""Trying a question against the draft: the entries as they are in SQL now, not yet published.

The draft is built like a version (learned questions merged) but with a lighter calibration, into
``root/drafts/<fingerprint>/``; it is rebuilt only when the entries change, so typing in the try
box reuses it; like a publish it encodes only the texts no build on this host encoded before
(``knowledge.saved_vectors``). One draft is kept; older ones are removed. The build runs in a
background thread (``ready``): a try box asks again until the draft is there, so no request
waits for a build.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from knowledge.config import IndexConfig
from knowledge.index import KnowledgeIndex, build_index, load_index
from knowledge.saved_vectors import SavedVectors
from knowledge.types import FaqEntry

DRAFT_CV_QUERIES = 600
log = logging.getLogger(__name__)


def fingerprint(entries: Sequence[FaqEntry]) -> str:
    body = json.dumps([[e.key, e.lang, e.question, e.similar, e.answer, e.tags, e.enabled] for e in entries])
    return hashlib.sha256(body.encode("utf-8")).hexdigest()[:16]


class Drafts:
    def __init__(self, root: Path, config: IndexConfig) -> None:
        self._root = root / "drafts"
        self._knowledge_dir = root
        self._config = replace(
            config, cv_folds=2, cv_max_queries=min(config.cv_max_queries, DRAFT_CV_QUERIES)
        )
        self._lock = threading.Lock()  # guards the fields below, held only briefly
        self._build_lock = threading.Lock()
        self._loaded: tuple[str, KnowledgeIndex] | None = None
        self._building: str | None = None

    def ready(self, entries: Sequence[FaqEntry]) -> KnowledgeIndex | None:
        """The draft index of ``entries`` if it is built; otherwise start building it (once) and
        answer None."""
        key = fingerprint(entries)
        with self._lock:
            if self._loaded is not None and self._loaded[0] == key:
                return self._loaded[1]
            if self._building == key:
                return None
            self._building = key
        threading.Thread(
            target=self._build, args=(list(entries),), name="knowledge-draft", daemon=True
        ).start()
        return None

    def _build(self, entries: list[FaqEntry]) -> None:
        try:
            self.index(entries)
        except Exception:  # the next try starts another build
            log.exception("building the knowledge draft failed")
        finally:
            with self._lock:
                self._building = None

    def index(self, entries: Sequence[FaqEntry]) -> KnowledgeIndex:
        """The draft index of ``entries`` (blocking: built on first use, then reused)."""
        key = fingerprint(entries)
        with self._build_lock:  # one build at a time; ``ready`` never waits for it
            with self._lock:
                if self._loaded is not None and self._loaded[0] == key:
                    return self._loaded[1]
            out = self._root / key
            if not (out / "manifest.json").exists():
                shutil.rmtree(out, ignore_errors=True)
                build_index(entries, out, self._config, saved=SavedVectors.of(self._knowledge_dir))
            index = load_index(out, self._config)
            for old in self._root.iterdir():
                if old.name != key:
                    shutil.rmtree(old, ignore_errors=True)
            with self._lock:
                self._loaded = (key, index)
            return index
