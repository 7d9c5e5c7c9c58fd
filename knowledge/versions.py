"""Published versions: which is active, what changed between two, and rolling back.

The database names the active version (``knowledge.artifacts``); activating an earlier version
records it there and, on this host, installs it if need be and atomically replaces ``CURRENT``,
as a publish ends. Every other host's ``knowledge.mirror`` does the same within a few seconds,
and each process's ``knowledge.live.LiveIndex`` swaps the loaded version in the background,
without a restart or a failed search.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from knowledge.artifacts import active_version, load_artifact, record_active
from knowledge.live import read_current, version_dir, write_current
from knowledge.mirror import install
from knowledge.tables import KnowledgeVersion


def _entries(root: Path, version: int) -> dict[str, list[Any]] | None:
    try:
        rows = json.loads((version_dir(root, version) / "entries.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return {str(row[0]): row for row in rows}


def changes(root: Path, version: int, previous: int | None) -> dict[str, list[str]] | None:
    """Entry keys added, removed and changed (question, answer, language or tags) since ``previous``;
    None when either artifact is gone."""
    now = _entries(root, version)
    if now is None:
        return None
    before = _entries(root, previous) if previous is not None else {}
    if before is None:
        return None
    return {
        "added": sorted(set(now) - set(before)),
        "removed": sorted(set(before) - set(now)),
        "changed": sorted(k for k in set(now) & set(before) if now[k] != before[k]),
    }


async def activate(session: AsyncSession, root: Path, version: int, by: str) -> None:
    """Make ``version`` the one every replica serves (committed here). A version published before
    artifacts were kept in the database can be activated only where its folder still is."""
    row = await session.get(KnowledgeVersion, version)
    if row is None:
        raise NotFound(f"no published version {version}", code="version_not_found")
    if not version_dir(root, version).is_dir():
        artifact = await load_artifact(session, version)
        if artifact is None:
            raise NotFound(f"version {version} is not kept any more", code="version_not_found")
        await asyncio.to_thread(install, root, artifact)
    await record_active(session, version, by)
    await session.commit()
    write_current(root, version)


async def active(session: AsyncSession, root: Path) -> int | None:
    """The database's active version; before one was recorded there (a database from before
    artifacts were kept), the one this host's ``CURRENT`` names."""
    recorded = await active_version(session)
    return recorded if recorded is not None else read_current(root)
