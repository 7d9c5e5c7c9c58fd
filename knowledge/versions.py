"""Published versions: which is active, what changed between two, and rolling back.

Every replica follows ``CURRENT`` (``knowledge.live.LiveIndex``), so activating an earlier
version is the same atomic file replace a publish ends with: each replica notices it within a
second and swaps the loaded version in the background, without a restart or a failed search.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound
from knowledge.live import read_current, version_dir, write_current
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


async def activate(session: AsyncSession, root: Path, version: int) -> None:
    """Make ``version`` the one every replica serves."""
    row = await session.get(KnowledgeVersion, version)
    if row is None or not version_dir(root, version).is_dir():
        raise NotFound(f"no published version {version}", code="version_not_found")
    write_current(root, version)


def active(root: Path) -> int | None:
    return read_current(root)
