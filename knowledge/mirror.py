"""Keep this host's knowledge folder in step with the database.

The database holds every published version's artifact and the active version
(``knowledge.artifacts``). Each process that serves knowledge runs a ``KnowledgeMirror``: every
few seconds it reads the active version; when the folder lacks it, it downloads the artifact,
checks its SHA-256, unpacks it into a temporary folder and renames that into place (atomic, so
a reader never sees half a version), then points the local ``CURRENT`` at it. ``LiveIndex``
follows ``CURRENT`` as before. A host that starts with an empty folder gets the active version
from its first sync. Older local versions beyond ``keep_older`` are deleted.

A publish or rollback on this host writes ``CURRENT`` itself a moment after its commit; a
difference between ``CURRENT`` and the active version that stays put is repaired when seen on
two syncs in a row (or at once when the active version changed), so the mirror never undoes a
local switch it simply read too early.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import tempfile
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.background import repeat
from knowledge.artifacts import Artifact, active_version, load_artifact, unpack
from knowledge.live import read_current, version_dir, write_current

log = logging.getLogger(__name__)

SYNC_EVERY = 5.0
KEEP_OLDER = 5


def install(root: Path, artifact: Artifact) -> Path:
    """Unpack ``artifact`` as ``root/versions/<N>`` unless it is there already."""
    target = version_dir(root, artifact.version)
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    incoming = Path(tempfile.mkdtemp(prefix=f".incoming-{artifact.version}-", dir=target.parent))
    try:
        unpack(artifact, incoming)
        os.rename(incoming, target)
    except OSError:
        if not target.is_dir():  # not another process that installed it first
            raise
    finally:
        shutil.rmtree(incoming, ignore_errors=True)
    return target


def prune(root: Path, active: int, keep_older: int = KEEP_OLDER) -> list[int]:
    """Delete local versions older than ``active`` but the ``keep_older`` newest of them. Newer
    ones stay: one may be a build in progress on this host."""
    folder = root / "versions"
    if not folder.is_dir():
        return []
    numbers = (int(p.name) for p in folder.iterdir() if p.name.isdigit())
    older = sorted((n for n in numbers if n < active), reverse=True)
    for version in older[keep_older:]:
        shutil.rmtree(version_dir(root, version), ignore_errors=True)
    return older[keep_older:]


class KnowledgeMirror:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], root: Path, *, keep_older: int = KEEP_OLDER
    ) -> None:
        self._sessions = sessions
        self._root = root
        self._keep_older = keep_older
        self._last_active: int | None = None
        self._mismatch: tuple[int | None, int] | None = None

    async def sync_once(self) -> int | None:
        """Bring the folder to the active version; that version, or None when the database names
        none yet (the folder is left as it is)."""
        async with self._sessions() as session:
            active = await active_version(session)
            if active is None:
                return None
            missing = not version_dir(self._root, active).is_dir()
            artifact = await load_artifact(session, active) if missing else None
        if missing:
            if artifact is None:
                log.warning("knowledge version %s is active but has no artifact in the database", active)
                return None
            await asyncio.to_thread(install, self._root, artifact)
            log.info("knowledge version %s installed from the database", active)
        self._follow(active)
        await asyncio.to_thread(prune, self._root, active, self._keep_older)
        return active

    def _follow(self, active: int) -> None:
        current = read_current(self._root)
        changed, self._last_active = active != self._last_active, active
        if current == active:
            self._mismatch = None
        elif changed or self._mismatch == (current, active):
            write_current(self._root, active)
            self._mismatch = None
        else:
            self._mismatch = (current, active)

    async def run(self, stop: asyncio.Event, every: float = SYNC_EVERY) -> None:
        """``sync_once`` every ``every`` seconds until ``stop`` is set; a failure is logged."""
        await repeat(
            self.sync_once, stop, every, log=log, what="syncing the knowledge folder from the database"
        )
