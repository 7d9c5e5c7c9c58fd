"""Vectors of the texts an earlier publish on this host encoded, so the next publish encodes only
what changed (a 10,000-entry knowledge base is 50,000 texts; e5 takes about 20 ms a text here).

One file per encoder under ``<knowledge dir>/vectors/``, ``<fingerprint digest>.npz``, holding
``keys`` (the 16-byte BLAKE2b digest of each text, one row each) and ``vectors``; it is replaced
whole, so a reader sees one publish's pair or the other's. The fingerprint names the encoder and
the version of the package carrying its weights, so vectors of another model are never mixed
in. Each publish rewrites the file with exactly the texts it used, so it stays the size of one
knowledge base. The files are a cache on this host: missing, unreadable or of another shape, they
are ignored and rebuilt; every other host's first publish encodes everything.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

DIGEST = 16
FOLDER = "vectors"  # in the knowledge directory


def digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=DIGEST).digest()


class SavedVectors:
    """Vectors by exact text, per encoder fingerprint, kept in ``directory`` between publishes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._loaded: dict[str, dict[bytes, np.ndarray]] = {}
        self._used: dict[str, dict[bytes, np.ndarray]] = {}

    @classmethod
    def of(cls, knowledge_dir: Path) -> SavedVectors:
        """The saved vectors of this host's knowledge directory (publishes and drafts share them)."""
        return cls(knowledge_dir / FOLDER)

    def encode(
        self,
        fingerprint: str,
        texts: Sequence[str],
        encode: Callable[[list[str]], np.ndarray],
    ) -> np.ndarray:
        """Vectors of ``texts``: saved ones where the text was encoded before, ``encode`` (called
        once, with the new texts in order) for the rest."""
        saved = self._load(fingerprint)
        keys = [digest(t) for t in texts]
        new = {k: t for t, k in zip(texts, keys, strict=True) if k not in saved}  # first seen order
        fresh = dict(zip(new, encode(list(new.values())), strict=True)) if new else {}
        used = self._used.setdefault(fingerprint, {})
        rows = []
        for key in keys:
            vector = fresh[key] if key in fresh else saved[key]
            used[key] = vector
            rows.append(vector)
        if not rows:
            return encode([])
        return np.ascontiguousarray(np.vstack(rows), dtype=np.float32)

    def save(self) -> None:
        """Keep the vectors used since this object was made (and only those) for the next publish."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for fingerprint, used in self._used.items():
            if not used:
                continue
            keys = np.frombuffer(b"".join(used), dtype=np.uint8).reshape(-1, DIGEST)
            vectors = np.vstack(list(used.values())).astype(np.float32)
            final = self._path(fingerprint)
            partial = final.with_name(f"{final.name}.{os.getpid()}.{threading.get_ident()}.partial")
            with partial.open("wb") as out:
                np.savez(out, keys=keys, vectors=vectors)
            os.replace(partial, final)

    def _load(self, fingerprint: str) -> dict[bytes, np.ndarray]:
        if fingerprint not in self._loaded:
            self._loaded[fingerprint] = self._read(fingerprint)
        return self._loaded[fingerprint]

    def _read(self, fingerprint: str) -> dict[bytes, np.ndarray]:
        path = self._path(fingerprint)
        if not path.exists():
            return {}
        try:
            with np.load(path, allow_pickle=False) as stored:
                keys, vectors = stored["keys"], stored["vectors"]
        except (OSError, ValueError, KeyError) as exc:
            log.warning("saved vectors %s unreadable, encoding afresh: %s", fingerprint, exc)
            return {}
        if (
            keys.dtype != np.uint8
            or keys.shape[1:] != (DIGEST,)
            or vectors.ndim != 2
            or len(keys) != len(vectors)
        ):
            log.warning("saved vectors %s have another shape, encoding afresh", fingerprint)
            return {}
        return {k.tobytes(): v for k, v in zip(keys, vectors, strict=True)}

    def _path(self, fingerprint: str) -> Path:
        name = hashlib.blake2b(fingerprint.encode("utf-8"), digest_size=8).hexdigest()
        return self.directory / f"{name}.npz"
