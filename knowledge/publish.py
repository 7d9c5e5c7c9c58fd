"""Publishing: build a new index version from the enabled SQL entries (plus their active learned
questions, ``knowledge.learning``) and make it current: the folder on this host, and its artifact
and the active version in the database, from which every other host installs it
(``knowledge.mirror``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import ValidationFailed
from knowledge.artifacts import new_artifact, newest_version, pack, record_active
from knowledge.index import IndexConfig, build_index
from knowledge.learning import active_learned, merge
from knowledge.live import next_version_dir, write_current
from knowledge.saved_vectors import SavedVectors
from knowledge.store import list_entries
from knowledge.tables import KnowledgeVersion

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Published:
    version: int
    entry_count: int
    path: str
    learned_count: int = 0


async def publish(
    sessions: async_sessionmaker[AsyncSession],
    knowledge_dir: Path,
    config: IndexConfig,
    *,
    progress: Progress | None = None,
    published_by: str = "cli",
) -> Published:
    root = knowledge_dir
    async with sessions() as session:
        entries = await list_entries(session, enabled_only=True)
        learned = await active_learned(session)
        newest = await newest_version(session)
    if not entries:
        raise ValidationFailed("there are no enabled FAQ entries to publish", code="knowledge_empty")
    merged = merge(entries, learned)
    learned_count = sum(len(m.similar) - len(e.similar) for m, e in zip(merged, entries, strict=True))
    version, out_dir = next_version_dir(root, after=newest)
    saved = SavedVectors.of(root)  # only what changed since the last build here is encoded
    await asyncio.to_thread(partial(build_index, merged, out_dir, config, progress, saved=saved))
    artifact = new_artifact(version, await asyncio.to_thread(pack, out_dir))
    async with sessions.begin() as session:  # hosts without this folder download the artifact
        session.add(
            KnowledgeVersion(
                version=version, entry_count=len(entries), path=str(out_dir), published_by=published_by
            )
        )
        await session.flush()
        session.add(artifact)
        await record_active(session, version, published_by)
    write_current(root, version)
    return Published(version, len(entries), str(out_dir), learned_count)


async def recent_versions(session: AsyncSession, limit: int) -> Sequence[KnowledgeVersion]:
    """The newest published versions first."""
    rows = await session.scalars(
        select(KnowledgeVersion).order_by(KnowledgeVersion.version.desc()).limit(limit)
    )
    return rows.all()
