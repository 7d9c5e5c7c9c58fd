"""Published versions in the database: each version's folder as a gzipped tar with its SHA-256,
and the one active version. The database is the source of truth; a process's knowledge folder is
its local copy (``knowledge.mirror`` keeps it in step)."""

from __future__ import annotations

import hashlib
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import KefuError
from knowledge.tables import KnowledgeActive, KnowledgeArtifact, KnowledgeVersion
from store.base import utcnow

ACTIVE_ROW = 1


class CorruptArtifact(KefuError):
    code = "knowledge_artifact_corrupt"
    status = 500


@dataclass(frozen=True)
class Artifact:
    version: int
    sha256: str
    data: bytes


def pack(folder: Path) -> bytes:
    """The folder's files as a gzipped tar, names relative to the folder, in a stable order."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path in sorted(folder.rglob("*")):
            tar.add(path, arcname=path.relative_to(folder).as_posix(), recursive=False)
    return buffer.getvalue()


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def unpack(artifact: Artifact, into: Path) -> None:
    """Check the hash, then extract into ``into`` (only plain files and folders inside it)."""
    if digest(artifact.data) != artifact.sha256:
        raise CorruptArtifact(f"knowledge version {artifact.version}: the artifact's SHA-256 does not match")
    with tarfile.open(fileobj=io.BytesIO(artifact.data), mode="r:gz") as tar:
        tar.extractall(into, filter="data")


def new_artifact(version: int, data: bytes) -> KnowledgeArtifact:
    return KnowledgeArtifact(version=version, sha256=digest(data), size=len(data), data=data)


async def load_artifact(session: AsyncSession, version: int) -> Artifact | None:
    row = await session.get(KnowledgeArtifact, version)
    return None if row is None else Artifact(row.version, row.sha256, row.data)


async def newest_version(session: AsyncSession) -> int:
    """The highest version number ever published (0 before the first)."""
    return int(await session.scalar(select(func.max(KnowledgeVersion.version))) or 0)


async def active_version(session: AsyncSession) -> int | None:
    """The version every process should serve; None until a publish or rollback recorded one."""
    return await session.scalar(select(KnowledgeActive.version).where(KnowledgeActive.id == ACTIVE_ROW))


async def record_active(session: AsyncSession, version: int, by: str) -> None:
    values = {"version": version, "activated_by": by[:64], "activated_at": utcnow()}
    result = await session.execute(
        update(KnowledgeActive).where(KnowledgeActive.id == ACTIVE_ROW).values(**values)
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]  # a schema made without the migration's row
        session.add(KnowledgeActive(id=ACTIVE_ROW, **values))
