"""Floor settings: validation of groups and routing rules (pure), the store's refusals, and the
reader's cache (one Redis GET per read; the tables are read again only after a change was
announced or the copy grew too old)."""

from __future__ import annotations

from typing import Any

import pytest
import redis.asyncio as aioredis
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import Conflict, NotFound, ValidationFailed
from core.types import HandoffReason, HandoffRequest
from handoff import floor_settings as fs
from handoff.model import ALL_STEPS, GroupPolicy, Step
from handoff.overflow import DEFAULT_OVERFLOW, OverflowRule
from handoff.routing import DEFAULT_RULES, Rule
from handoff.staff import add_user
from handoff.tables import HandoffGroup, RoutingRuleRow

Sessions = async_sessionmaker[AsyncSession]


def request(**fields: Any) -> HandoffRequest:
    return HandoffRequest(conversation_id="c", reason=HandoffReason.CUSTOMER_REQUEST, **fields)


# -- validation ------------------------------------------------------------------------------------


def test_a_group_body_fills_in_over_the_base() -> None:
    base = fs.GroupSettings("english")
    parsed = fs.parse_group(
        {
            "display_zh": " 英语 ",
            "display_en": "English",
            "steps": ["skill", "least_load"],
            "overflow_max_length": 5,
            "overflow_max_wait": None,
        },
        base,
    )
    assert parsed == fs.GroupSettings(
        "english",
        display_zh="英语",
        display_en="English",
        steps=frozenset({Step.SKILL, Step.LEAST_LOAD}),
        overflow=OverflowRule(max_length=5, max_wait=None),
    )
    assert parsed.policy == GroupPolicy(frozenset({Step.SKILL, Step.LEAST_LOAD}))
    assert fs.parse_group({}, base) == base  # nothing given: nothing changes
    assert base.overflow == DEFAULT_OVERFLOW and base.steps == ALL_STEPS


@pytest.mark.parametrize(
    "body",
    [
        {"steps": ["skill", "magic"]},
        {"steps": "skill"},
        {"overflow_max_length": -1},
        {"overflow_max_length": 2.5},
        {"overflow_max_length": True},
        {"overflow_max_length": "10"},
        {"overflow_max_wait": float("inf")},
        {"overflow_max_wait": 10 * 86400},
        {"display_zh": 5},
        {"display_en": "x" * 65},
        {"display_en": "two\nlines"},
        {"enabled": "yes"},
        {"name": "other"},
        {"colour": "red"},
    ],
)
def test_a_bad_group_field_is_invalid_group(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        fs.parse_group(body, fs.GroupSettings("english"))
    assert caught.value.code == "invalid_group"


@pytest.mark.parametrize("name", ["", "English", "a b", "-x", "x" * 65, None, 3])
def test_a_bad_group_name_is_invalid_group(name: object) -> None:
    with pytest.raises(ValidationFailed) as caught:
        fs.check_group_name(name)
    assert caught.value.code == "invalid_group"


def test_rules_parse_in_order_and_ignore_ids() -> None:
    rules = fs.parse_rules(
        {
            "rules": [
                {"id": 3, "position": 0, "group": "vip", "tier": "S"},
                {"group": "english", "lang": " en "},
            ]
        }
    )
    assert rules == (Rule(group="vip", tier="S"), Rule(group="english", lang="en"))
    assert fs.parse_rules({"rules": []}) == ()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"rules": {"group": "vip"}},
        {"rules": ["vip"]},
        {"rules": [{"group": ""}]},
        {"rules": [{"group": "Vip"}]},
        {"rules": [{"group": "vip", "tier": "gold"}]},
        {"rules": [{"group": "vip", "lang": "fr"}]},
        {"rules": [{"group": "vip", "channel": "fax"}]},
        {"rules": [{"group": "vip", "topic": "t" * 65}]},
        {"rules": [{"group": "vip", "topic": 5}]},
        {"rules": [{"group": "vip", "weight": 1}]},
        {"rules": [{"group": "general"}] * 101},
    ],
)
def test_a_bad_rule_is_invalid_rule(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        fs.parse_rules(body)
    assert caught.value.code == "invalid_rule"


def test_a_disabled_groups_rules_are_skipped_and_unmatched_handoffs_go_to_general() -> None:
    settings = fs.FloorSettings(
        groups=(fs.GroupSettings("general"), fs.GroupSettings("english", enabled=False)),
        rules=(Rule(group="english", lang="en"),),
    )
    assert settings.route(request(lang="en")) == "general"
    assert settings.overflow("nowhere") == DEFAULT_OVERFLOW
    assert settings.group_names() == ["english", "general"]


def test_no_groups_at_all_means_the_old_constants() -> None:
    assert fs.assemble([], [Rule(group="x")]) is fs.DEFAULT_SETTINGS
    assert fs.DEFAULT_SETTINGS.rules == DEFAULT_RULES
    assert fs.DEFAULT_SETTINGS.route(request(tier="S")) == "vip"
    assert fs.DEFAULT_SETTINGS.overflow("general") == OverflowRule(max_length=200, max_wait=1800.0)
    assert all(p.steps == ALL_STEPS for p in fs.DEFAULT_SETTINGS.policies().values())


# -- store ---------------------------------------------------------------------------------------


async def test_the_migrated_tables_say_what_the_constants_said(sessions: Sessions) -> None:
    async with sessions() as session:
        settings = await fs.load(session)
    assert settings.rules == DEFAULT_RULES
    assert [(g.name, g.steps, g.overflow, g.enabled) for g in settings.groups] == [
        (g.name, g.steps, g.overflow, g.enabled) for g in fs.DEFAULT_SETTINGS.groups
    ]


async def test_the_store_refuses_what_would_point_nowhere(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        await fs.add_group(session, fs.GroupSettings("english"))
        with pytest.raises(Conflict) as caught:
            await fs.add_group(session, fs.GroupSettings("english"))
        assert caught.value.code == "group_exists"
        with pytest.raises(Conflict) as caught:
            await fs.replace_rules(session, [Rule(group="french", lang="fr")])
        assert caught.value.code == "unknown_group"
        await fs.replace_rules(session, [Rule(group="english", lang="en"), Rule(group="general")])
        await add_user(session, "emma", "long-enough-pw", "agent", skills=["english", "general"])
    for name in ("english", "general"):
        async with sessions.begin() as session:
            with pytest.raises(Conflict) as caught:
                await fs.delete_group(session, name)
            assert caught.value.code == "group_in_use", name
    async with sessions.begin() as session:
        with pytest.raises(NotFound):
            await fs.delete_group(session, "french")
        with pytest.raises(Conflict):
            await fs.change_group(session, "general", {"enabled": False})
        await fs.delete_group(session, "vip")  # no rule, no agent any more
    async with sessions() as session:
        settings = await fs.load(session)
    assert [g.name for g in settings.groups] == ["english", "general"]
    assert settings.rules == (Rule(group="english", lang="en"), Rule(group="general"))


async def test_a_first_change_to_empty_tables_keeps_the_defaults(sessions: Sessions) -> None:
    async with sessions.begin() as session:
        await session.execute(delete(RoutingRuleRow))
        await session.execute(delete(HandoffGroup))
    async with sessions.begin() as session:
        assert await fs.load(session) is fs.DEFAULT_SETTINGS
        await fs.add_group(session, fs.GroupSettings("english"))
    async with sessions() as session:
        settings = await fs.load(session)
    assert [g.name for g in settings.groups] == ["english", "general", "vip"]
    assert settings.rules == DEFAULT_RULES


# -- the reader ----------------------------------------------------------------------------------


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_the_reader_reloads_only_after_a_change_or_when_old(
    sessions: Sessions, redis_client: aioredis.Redis
) -> None:
    ticks = Ticks()
    reader = fs.FloorSettingsReader(sessions, redis_client, max_age=60.0, clock=ticks)
    other = fs.FloorSettingsReader(sessions, redis_client, max_age=60.0, clock=ticks)  # another replica
    assert (await reader.current()).rules == DEFAULT_RULES
    assert (await other.current()).rules == DEFAULT_RULES
    for _ in range(3):
        await reader.current()
    assert reader.loads == 1  # the copy serves while nothing changed

    async with sessions.begin() as session:
        await fs.add_group(session, fs.GroupSettings("english"))
        await fs.replace_rules(session, [Rule(group="english", lang="en"), Rule(group="general")])
    assert (await other.current()).rules == DEFAULT_RULES  # committed but not announced yet
    await reader.changed()
    assert (await other.current()).route(request(lang="en")) == "english"  # announced: every replica
    assert (await reader.current()).route(request(lang="en")) == "english"
    assert (reader.loads, other.loads) == (2, 2)

    async with sessions.begin() as session:  # a change made by hand, never announced
        await fs.replace_rules(session, [Rule(group="general")])
    ticks.now = 59.0
    assert (await reader.current()).route(request(lang="en")) == "english"
    ticks.now = 60.0
    assert (await reader.current()).route(request(lang="en")) == "general"  # too old: read again
    assert reader.loads == 3


async def test_the_reader_keeps_its_copy_while_redis_is_down(sessions: Sessions) -> None:
    class Down:
        async def get(self, key: str) -> str:
            raise ConnectionError("down")

        async def incr(self, key: str) -> int:
            raise ConnectionError("down")

    ticks = Ticks()
    reader = fs.FloorSettingsReader(sessions, Down(), max_age=60.0, clock=ticks)  # type: ignore[arg-type]
    await reader.current()
    await reader.current()
    assert reader.loads == 1
    await reader.changed()  # logged, not raised: this replica drops its copy all the same
    await reader.current()
    assert reader.loads == 2
    policies = await reader.policies()
    assert set(policies) == {"general", "vip"} and await reader.group_names() == ["general", "vip"]
