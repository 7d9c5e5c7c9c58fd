"""Knowledge versions through the database: a host's folder follows the active version there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import NotFound
from knowledge import versions
from knowledge.artifacts import (
    CorruptArtifact,
    active_version,
    load_artifact,
    new_artifact,
    pack,
    record_active,
)
from knowledge.live import read_current, version_dir, write_current
from knowledge.mirror import KnowledgeMirror, prune
from knowledge.publish import publish
from knowledge.store import import_entries
from knowledge.tables import KnowledgeArtifact, KnowledgeVersion
from tests.knowledge.kb import ENTRIES, FAST

Sessions = async_sessionmaker[AsyncSession]


async def publish_fake(sessions: Sessions, root: Path, version: int) -> None:
    """What a publish on another host leaves: its folder there, the artifact and the active version here."""
    folder = version_dir(root, version)
    (folder / "data").mkdir(parents=True)
    (folder / "entries.json").write_text(json.dumps([[f"key-{version}", "zh"]]), encoding="utf-8")
    (folder / "data" / "index.bin").write_bytes(bytes(range(256)) * version)
    async with sessions.begin() as session:
        session.add(KnowledgeVersion(version=version, entry_count=1, path=str(folder), published_by="test"))
        await session.flush()
        session.add(new_artifact(version, pack(folder)))
        await record_active(session, version, "test")
    write_current(root, version)


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


async def test_an_empty_folder_gets_the_active_version(each_database: Sessions, tmp_path: Path) -> None:
    publisher, other = tmp_path / "a", tmp_path / "b"
    await publish_fake(each_database, publisher, 1)
    await publish_fake(each_database, publisher, 2)

    assert await KnowledgeMirror(each_database, other).sync_once() == 2
    assert read_current(other) == 2
    assert files(version_dir(other, 2)) == files(version_dir(publisher, 2))
    assert not version_dir(other, 1).exists()  # only the active version is fetched
    assert [p.name for p in (other / "versions").iterdir()] == ["2"]  # no temporary folder left


async def test_follows_a_rollback_made_on_another_host(each_database: Sessions, tmp_path: Path) -> None:
    publisher, other = tmp_path / "a", tmp_path / "b"
    mirror = KnowledgeMirror(each_database, other)
    await publish_fake(each_database, publisher, 1)
    assert await mirror.sync_once() == 1
    await publish_fake(each_database, publisher, 2)
    assert await mirror.sync_once() == 2 and read_current(other) == 2

    async with each_database() as session:
        await versions.activate(session, publisher, 1, "editor")
    assert read_current(publisher) == 1
    assert await mirror.sync_once() == 1
    assert read_current(other) == 1


async def test_a_rollback_on_a_host_without_the_version_installs_it(
    each_database: Sessions, tmp_path: Path
) -> None:
    publisher, other = tmp_path / "a", tmp_path / "b"
    await publish_fake(each_database, publisher, 1)
    await publish_fake(each_database, publisher, 2)
    async with each_database() as session:
        await versions.activate(session, other, 1, "editor")
        with pytest.raises(NotFound):
            await versions.activate(session, other, 7, "editor")
    assert read_current(other) == 1
    assert files(version_dir(other, 1)) == files(version_dir(publisher, 1))
    async with each_database() as session:
        assert await active_version(session) == 1
        assert await versions.active(session, other) == 1


async def test_a_corrupt_artifact_is_not_installed(each_database: Sessions, tmp_path: Path) -> None:
    publisher, other = tmp_path / "a", tmp_path / "b"
    await publish_fake(each_database, publisher, 1)
    async with each_database.begin() as session:
        artifact = await load_artifact(session, 1)
        assert artifact is not None
        tampered = artifact.data[:-8] + bytes(8)
        await session.execute(update(KnowledgeArtifact).values(data=tampered))
    with pytest.raises(CorruptArtifact):
        await KnowledgeMirror(each_database, other).sync_once()
    assert read_current(other) is None
    assert not version_dir(other, 1).exists()
    assert list((other / "versions").iterdir()) == []


async def test_nothing_recorded_leaves_the_folder_alone(each_database: Sessions, tmp_path: Path) -> None:
    """A database from before versions were kept there: the host keeps serving its own folder."""
    write_current(tmp_path, 3)
    assert await KnowledgeMirror(each_database, tmp_path).sync_once() is None
    assert read_current(tmp_path) == 3


async def test_a_local_switch_read_too_early_is_kept_and_a_lasting_difference_repaired(
    each_database: Sessions, tmp_path: Path
) -> None:
    await publish_fake(each_database, tmp_path, 1)
    await publish_fake(each_database, tmp_path, 2)
    async with each_database() as session:
        await versions.activate(session, tmp_path, 1, "editor")
    mirror = KnowledgeMirror(each_database, tmp_path)
    assert await mirror.sync_once() == 1
    # a publish on this host wrote CURRENT just after the mirror read the database
    write_current(tmp_path, 2)
    await mirror.sync_once()
    assert read_current(tmp_path) == 2
    # still different on the next look: the database wins
    await mirror.sync_once()
    assert read_current(tmp_path) == 1


def test_prune_keeps_the_newest_older_versions_and_every_newer_one(tmp_path: Path) -> None:
    for version in range(1, 10):
        version_dir(tmp_path, version).mkdir(parents=True)
    assert sorted(prune(tmp_path, 8, keep_older=2)) == [1, 2, 3, 4, 5]
    assert sorted(int(p.name) for p in (tmp_path / "versions").iterdir()) == [6, 7, 8, 9]


async def test_publish_stores_the_artifact_and_numbers_after_the_database(
    sessions: Sessions, tmp_path: Path
) -> None:
    """A second host publishes with an empty folder: its version follows the first host's."""
    async with sessions.begin() as session:
        await import_entries(session, ENTRIES, replace=True)
    first = await publish(sessions, tmp_path / "a", FAST)
    second = await publish(sessions, tmp_path / "b", FAST, published_by="other-host")
    assert (first.version, second.version) == (1, 2)
    async with sessions() as session:
        assert await active_version(session) == 2
        artifact = await load_artifact(session, 2)
    assert artifact is not None
    other = tmp_path / "c"
    assert await KnowledgeMirror(sessions, other).sync_once() == 2
    assert files(version_dir(other, 2)) == files(version_dir(tmp_path / "b", 2))
