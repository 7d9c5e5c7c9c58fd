"""Floor settings supervisors and admins own: the skill groups (display names, assignment steps,
overflow limits, enabled) and the ordered routing rules that send a handoff to one of them.

- Pure validation (``parse_group``, ``parse_rules``) turns a request body into values or raises
  ``ValidationFailed`` with a stable code (``invalid_group``, ``invalid_rule``).
- The store functions read and change the tables inside the caller's transaction (the service
  writes the audit entry in the same one) and raise ``Conflict`` when a change would leave
  something pointing nowhere: ``group_exists``, ``unknown_group`` (a rule naming a group that
  does not exist), ``group_in_use`` (deleting a group a rule or a staff member's skills still
  name; deleting or disabling ``general``, where a handoff no rule matches goes).
- ``FloorSettingsReader`` is what the running system reads on every handoff and assignment.

How a change reaches every replica without a restart: the reader keeps the last settings it
read, tagged with a version counter kept in Redis (``keys.floor_settings_version``). Each read
costs one Redis GET; the tables are read again only when the counter moved or the copy is older
than ``max_age`` (60 s: covers a bump lost between a commit and its INCR, or rows changed by
hand in SQL). A writer commits first and then calls ``changed()`` (INCR), so a replica that
reads between the two keeps the old version with the old rows and reloads on its next read; it
never holds new rows under an old version for long, nor old rows under the new one. A change
therefore applies from the next handoff on, on every replica. Chosen over a plain short TTL
because the change applies at once rather than after a TTL and the steady-state cost is one
GET rather than SQL reads. If Redis cannot be read the copy serves until ``max_age``.

When the groups table is empty (a database without the seed of migration 0014),
``DEFAULT_SETTINGS`` apply: the constants the code had before (``vip`` for tier S, ``general``
for everyone else, overflow at 200 waiting or 30 minutes, every assignment step).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import redis.asyncio as aioredis
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.clock import utc_now
from core.errors import Conflict, NotFound, ValidationFailed
from core.types import Channel, HandoffRequest
from handoff import keys
from handoff.model import ALL_STEPS, GroupPolicy, Step, Tier
from handoff.overflow import DEFAULT_OVERFLOW, OverflowRule
from handoff.routing import DEFAULT_RULES, Rule, route
from handoff.tables import HandoffGroup, RoutingRuleRow, User
from tickets.group_hours import DEFAULT_GROUP, GROUP_PATTERN

log = logging.getLogger(__name__)

MAX_DISPLAY = 64
MAX_FIELD = 64  # entry point, topic
MAX_RULES = 100
MAX_QUEUE_LENGTH = 100_000
MAX_WAIT = 7 * 86400.0  # seconds
LANGS = ("zh", "en")
GROUP_FIELDS = (
    "name",
    "display_zh",
    "display_en",
    "steps",
    "overflow_max_length",
    "overflow_max_wait",
    "enabled",
)
RULE_FIELDS = ("group", "channel", "entry_point", "lang", "tier", "topic")
STEP_ORDER = (Step.STICKY, Step.SKILL, Step.LEAST_LOAD)
STEP_VALUES = frozenset(s.value for s in Step)


@dataclass(frozen=True)
class GroupSettings:
    name: str
    display_zh: str = ""
    display_en: str = ""
    steps: frozenset[Step] = ALL_STEPS
    overflow: OverflowRule = DEFAULT_OVERFLOW
    enabled: bool = True

    @property
    def policy(self) -> GroupPolicy:
        return GroupPolicy(steps=self.steps)


@dataclass(frozen=True)
class FloorSettings:
    groups: tuple[GroupSettings, ...]
    rules: tuple[Rule, ...]
    _by_name: dict[str, GroupSettings] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {g.name: g for g in self.groups})

    def group(self, name: str) -> GroupSettings | None:
        return self._by_name.get(name)

    def route(self, request: HandoffRequest) -> str:
        """The first matching rule whose group takes handoffs (a disabled group's rules are
        skipped); ``general`` when none matches."""
        live = [r for r in self.rules if (g := self.group(r.group)) is None or g.enabled]
        return route(request, live, DEFAULT_GROUP)

    def overflow(self, group: str) -> OverflowRule:
        found = self.group(group)
        return found.overflow if found is not None else DEFAULT_OVERFLOW

    def policies(self) -> dict[str, GroupPolicy]:
        return {g.name: g.policy for g in self.groups}

    def group_names(self) -> list[str]:
        """Every configured group and every group a rule sends to, sorted."""
        return sorted({g.name for g in self.groups} | {r.group for r in self.rules})


DEFAULT_SETTINGS = FloorSettings(
    groups=(
        GroupSettings(DEFAULT_GROUP, display_zh="综合", display_en="General"),
        GroupSettings("vip", display_zh="VIP", display_en="VIP"),
    ),
    rules=DEFAULT_RULES,
)


# -- validation (pure) ---------------------------------------------------------------------------


def _bad_group(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="invalid_group")


def check_group_name(name: object) -> str:
    if not isinstance(name, str) or not GROUP_PATTERN.match(name):
        raise _bad_group(f"name: {name!r} must be 1-64 of a-z 0-9 _ - starting with a letter or digit")
    return name


def _display(body: Mapping[str, Any], key: str, current: str) -> str:
    if key not in body:
        return current
    value = body[key]
    if not isinstance(value, str) or len(value.strip()) > MAX_DISPLAY or "\n" in value:
        raise _bad_group(f"{key}: a single line of at most {MAX_DISPLAY} characters")
    return value.strip()


def _steps(value: object) -> frozenset[Step]:
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise _bad_group("steps: a list of sticky, skill, least_load")
    try:
        return frozenset(Step(s) for s in value)
    except ValueError:
        raise _bad_group(f"steps: {value!r}: each one of sticky, skill, least_load") from None


def _limit(key: str, value: object, *, whole: bool, top: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _bad_group(f"{key}: a number or null (no limit)")
    if whole and (isinstance(value, float) and not value.is_integer()):
        raise _bad_group(f"{key}: a whole number or null (no limit)")
    if not 0 <= value <= top:
        raise _bad_group(f"{key}: between 0 and {top:g}, or null (no limit)")
    return value


def parse_group(body: Mapping[str, Any], base: GroupSettings) -> GroupSettings:
    """``base`` with the fields ``body`` gives (a new group: a fresh ``GroupSettings``).
    Unknown fields are refused, so a misspelt one is never silently ignored."""
    unknown = sorted(set(body) - set(GROUP_FIELDS))
    if unknown:
        raise _bad_group(f"unknown fields: {', '.join(unknown)}")
    if "name" in body and body["name"] != base.name:
        raise _bad_group("name: a group is not renamed; add a new one")
    steps = _steps(body["steps"]) if "steps" in body else base.steps
    max_length = base.overflow.max_length
    if "overflow_max_length" in body:
        raw = _limit("overflow_max_length", body["overflow_max_length"], whole=True, top=MAX_QUEUE_LENGTH)
        max_length = None if raw is None else int(raw)
    max_wait = base.overflow.max_wait
    if "overflow_max_wait" in body:
        raw = _limit("overflow_max_wait", body["overflow_max_wait"], whole=False, top=MAX_WAIT)
        max_wait = None if raw is None else float(raw)
    enabled = body.get("enabled", base.enabled)
    if not isinstance(enabled, bool):
        raise _bad_group("enabled: true or false")
    return replace(
        base,
        display_zh=_display(body, "display_zh", base.display_zh),
        display_en=_display(body, "display_en", base.display_en),
        steps=steps,
        overflow=OverflowRule(max_length=max_length, max_wait=max_wait),
        enabled=enabled,
    )


def _bad_rule(index: int, message: str) -> ValidationFailed:
    return ValidationFailed(f"rule {index + 1}: {message}", code="invalid_rule")


ALLOWED = {
    "channel": tuple(c.value for c in Channel),
    "lang": LANGS,
    "tier": tuple(t.value for t in Tier),
}


def parse_rule(index: int, raw: object) -> Rule:
    if not isinstance(raw, dict):
        raise _bad_rule(index, "an object")
    unknown = sorted(set(raw) - set(RULE_FIELDS) - {"id", "position"})
    if unknown:
        raise _bad_rule(index, f"unknown fields: {', '.join(unknown)}")
    values: dict[str, str] = {}
    for key in RULE_FIELDS:
        value = raw.get(key, "")
        if not isinstance(value, str):
            raise _bad_rule(index, f"{key}: a string ('' matches anything)")
        value = value.strip()
        if len(value) > MAX_FIELD:
            raise _bad_rule(index, f"{key}: at most {MAX_FIELD} characters")
        if value and key in ALLOWED and value not in ALLOWED[key]:
            raise _bad_rule(index, f"{key}: {value!r} must be empty or one of {', '.join(ALLOWED[key])}")
        values[key] = value
    if not GROUP_PATTERN.match(values["group"]):
        raise _bad_rule(index, "group: the name of a group")
    return Rule(**values)


def parse_rules(body: Mapping[str, Any]) -> tuple[Rule, ...]:
    """``{"rules": [...]}``: the whole ordered list, first match wins."""
    raw = body.get("rules")
    if not isinstance(raw, list):
        raise ValidationFailed('"rules": a list of rules', code="invalid_rule")
    if len(raw) > MAX_RULES:
        raise ValidationFailed(f"at most {MAX_RULES} rules", code="invalid_rule")
    return tuple(parse_rule(i, item) for i, item in enumerate(raw))


# -- JSON ---------------------------------------------------------------------------------------


def group_json(group: GroupSettings) -> dict[str, Any]:
    return {
        "name": group.name,
        "display_zh": group.display_zh,
        "display_en": group.display_en,
        "steps": [s.value for s in STEP_ORDER if s in group.steps],
        "overflow_max_length": group.overflow.max_length,
        "overflow_max_wait": group.overflow.max_wait,
        "enabled": group.enabled,
    }


def rule_json(rule: Rule) -> dict[str, str]:
    return {key: getattr(rule, key) for key in RULE_FIELDS}


# -- store ----------------------------------------------------------------------------------------


def _from_row(row: HandoffGroup) -> GroupSettings:
    steps = frozenset(Step(s) for s in row.steps if s in STEP_VALUES)
    return GroupSettings(
        name=row.name,
        display_zh=row.display_zh,
        display_en=row.display_en,
        steps=steps,
        overflow=OverflowRule(row.overflow_max_length, row.overflow_max_wait),
        enabled=row.enabled,
    )


def _fill(row: HandoffGroup, group: GroupSettings) -> None:
    row.display_zh = group.display_zh
    row.display_en = group.display_en
    row.steps = [s.value for s in STEP_ORDER if s in group.steps]
    row.overflow_max_length = group.overflow.max_length
    row.overflow_max_wait = group.overflow.max_wait
    row.enabled = group.enabled
    row.updated_at = utc_now()


def assemble(groups: Iterable[GroupSettings], rules: Iterable[Rule]) -> FloorSettings:
    """The settings the rows say; ``DEFAULT_SETTINGS`` when there are no groups at all."""
    found = tuple(sorted(groups, key=lambda g: g.name))
    if not found:
        return DEFAULT_SETTINGS
    return FloorSettings(groups=found, rules=tuple(rules))


async def load(session: AsyncSession) -> FloorSettings:
    rows = (await session.scalars(select(HandoffGroup))).all()
    rules = (await session.scalars(select(RoutingRuleRow).order_by(RoutingRuleRow.position))).all()
    return assemble(
        (_from_row(r) for r in rows),
        (Rule(**{key: getattr(r, key) for key in RULE_FIELDS}) for r in rules),
    )


async def get_group(session: AsyncSession, name: str) -> GroupSettings:
    row = await session.get(HandoffGroup, name)
    if row is None:
        raise NotFound(f"no group {name!r}", code="group_not_found")
    return _from_row(row)


async def _seed_defaults_if_empty(session: AsyncSession) -> None:
    """The first change to an empty table writes the defaults first, so the groups and rules
    that applied stay (a change never makes the defaults vanish unseen)."""
    if await session.scalar(select(HandoffGroup.name).limit(1)) is not None:
        return
    for group in DEFAULT_SETTINGS.groups:
        row = HandoffGroup(name=group.name)
        _fill(row, group)
        session.add(row)
    if await session.scalar(select(RoutingRuleRow.id).limit(1)) is None:
        for position, rule in enumerate(DEFAULT_SETTINGS.rules):
            session.add(RoutingRuleRow(position=position, **rule_json(rule)))
    await session.flush()


async def add_group(session: AsyncSession, group: GroupSettings) -> GroupSettings:
    check_group_name(group.name)
    await _seed_defaults_if_empty(session)
    if await session.get(HandoffGroup, group.name) is not None:
        raise Conflict(f"group {group.name!r} exists already", code="group_exists")
    row = HandoffGroup(name=group.name)
    _fill(row, group)
    session.add(row)
    await session.flush()
    return _from_row(row)


async def change_group(session: AsyncSession, name: str, body: Mapping[str, Any]) -> GroupSettings:
    await _seed_defaults_if_empty(session)
    current = await get_group(session, name)
    changed = parse_group(body, current)
    if name == DEFAULT_GROUP and not changed.enabled:
        raise Conflict(f"{DEFAULT_GROUP} takes every handoff no rule matches", code="group_in_use")
    row = await session.get(HandoffGroup, name)
    assert row is not None
    _fill(row, changed)
    await session.flush()
    return changed


async def users_of(session: AsyncSession, name: str) -> list[str]:
    """Staff whose skills name the group (JSON lists: filtered here, portable to any database)."""
    rows = (await session.execute(select(User.username, User.skills))).all()
    return sorted(username for username, skills in rows if isinstance(skills, list) and name in skills)


async def delete_group(session: AsyncSession, name: str) -> None:
    await _seed_defaults_if_empty(session)
    await get_group(session, name)
    if name == DEFAULT_GROUP:
        raise Conflict(f"{DEFAULT_GROUP} takes every handoff no rule matches", code="group_in_use")
    used = await session.scalar(select(RoutingRuleRow.id).where(RoutingRuleRow.group == name).limit(1))
    if used is not None:
        raise Conflict(f"a routing rule sends to {name!r}: change the rules first", code="group_in_use")
    staff = await users_of(session, name)
    if staff:
        raise Conflict(
            f"staff serve {name!r} ({', '.join(staff[:5])}): change their skills first",
            code="group_in_use",
        )
    await session.execute(delete(HandoffGroup).where(HandoffGroup.name == name))


async def replace_rules(session: AsyncSession, rules: Sequence[Rule]) -> tuple[Rule, ...]:
    await _seed_defaults_if_empty(session)
    known = set((await session.scalars(select(HandoffGroup.name))).all())
    for index, rule in enumerate(rules):
        if rule.group not in known:
            raise Conflict(f"rule {index + 1}: no group {rule.group!r}: add it first", code="unknown_group")
    await session.execute(delete(RoutingRuleRow))
    for position, rule in enumerate(rules):
        session.add(RoutingRuleRow(position=position, **rule_json(rule)))
    await session.flush()
    return tuple(rules)


# -- the running system's reader --------------------------------------------------------------------


@dataclass
class _Copy:
    version: str | None
    loaded_at: float
    settings: FloorSettings


class FloorSettingsReader:
    """The settings as of the last change, for every handoff and assignment (see the module doc)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        redis: aioredis.Redis,
        *,
        max_age: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._redis = redis
        self._max_age = max_age
        self._clock = clock
        self._copy: _Copy | None = None
        self.loads = 0  # how often the tables were read (for tests and metrics)

    async def current(self, session: AsyncSession | None = None) -> FloorSettings:
        """``session``: read with it when a reload is due (a caller inside a transaction)."""
        version = await self._version()
        copy = self._copy
        now = self._clock()
        fresh = copy is not None and now - copy.loaded_at < self._max_age
        if copy is not None and fresh and version in (None, copy.version):  # None: Redis unreadable
            return copy.settings
        if session is not None:
            settings = await load(session)
        else:
            async with self._sessions() as own:
                settings = await load(own)
        self.loads += 1
        self._copy = _Copy(version, now, settings)
        return settings

    async def changed(self) -> None:
        """After a committed change: every replica reloads on its next read."""
        self._copy = None
        try:
            await self._redis.incr(keys.floor_settings_version())
        except Exception:
            log.exception("announcing a floor settings change failed; replicas reload within max_age")

    async def policies(self) -> Mapping[str, GroupPolicy]:
        return (await self.current()).policies()

    async def group_names(self) -> list[str]:
        return (await self.current()).group_names()

    async def _version(self) -> str | None:
        """The counter ("0" before any change); None when Redis cannot be read."""
        try:
            raw = await self._redis.get(keys.floor_settings_version())
        except Exception:
            log.warning("reading the floor settings version failed; using the copy held")
            return None
        return str(raw) if raw is not None else "0"


__all__ = [
    "DEFAULT_SETTINGS",
    "FloorSettings",
    "FloorSettingsReader",
    "GroupSettings",
    "add_group",
    "assemble",
    "change_group",
    "delete_group",
    "get_group",
    "group_json",
    "load",
    "parse_group",
    "parse_rules",
    "replace_rules",
    "rule_json",
]
