"""One running system (real Redis, Rasa, action server, service) shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.stack import Stack, running_stack


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Stack]:
    with running_stack(tmp_path_factory.mktemp("stack"), redis_url) as running:
        yield running
