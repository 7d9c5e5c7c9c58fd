"""The action server's wiring: every action registered, the executor pickles, one Settings."""

from __future__ import annotations

import contextlib
import pickle
from pathlib import Path
from typing import Any

import pytest

from actions.registry import build_executor
from conversations.orders import SqlOrderLookup
from core.errors import Unavailable
from core.settings import Settings, SettingsError
from core.types import Lang
from knowledge.types import SearchResult
from tickets.lookup import SqlTicketLookup


class NoKnowledge:
    def search(self, text: str, lang: Lang | None = None, k: int = 5) -> SearchResult:
        return SearchResult("decline", (), threshold=0.5)


def test_every_action_of_the_domain_is_registered(domain: dict[str, Any]) -> None:
    executor = build_executor(
        NoKnowledge(), SqlOrderLookup("sqlite:///unused.db"), SqlTicketLookup("sqlite:///unused.db")
    )
    assert sorted(executor.actions) == sorted(domain["actions"])


async def test_the_executor_survives_pickling_into_a_worker(orders: SqlOrderLookup) -> None:
    await orders.find("YQ20261101001", "cust-owner")  # an open engine must not travel with the executor
    tickets = SqlTicketLookup(orders._url)
    with contextlib.suppress(Unavailable):  # the order database has no tickets: opened all the same
        await tickets.latest_open("c1")
    try:
        executor = pickle.loads(pickle.dumps(build_executor(NoKnowledge(), orders, tickets)))
    finally:
        await tickets.close()
    assert {"action_order_status", "action_ticket_status"} <= set(executor.actions)


def test_settings_from_the_environment(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"ACTIONS_PORT": "6055", "DATABASE_URL": "sqlite:///x.db", "KEFU_KNOWLEDGE_DIR": str(tmp_path)},
        require_secret=False,
    )
    assert (settings.actions_host, settings.actions_port, settings.database_url) == (
        "127.0.0.1",
        6055,
        "sqlite:///x.db",
    )
    assert settings.knowledge_dir == tmp_path


def test_defaults_follow_the_var_dir(tmp_path: Path) -> None:
    settings = Settings.from_env({"KEFU_VAR_DIR": str(tmp_path)}, require_secret=False)
    assert settings.actions_port == 5055
    assert settings.database_url == f"sqlite:///{tmp_path / 'kefu.db'}"
    assert settings.knowledge_dir == tmp_path / "knowledge"


def test_a_bad_port_is_named() -> None:
    with pytest.raises(SettingsError, match="ACTIONS_PORT"):
        Settings.from_env({"ACTIONS_PORT": "fifty"}, require_secret=False)
