"""The assignment choice as a pure function: plain values in, a ranking out."""

from __future__ import annotations

from handoff.choose import choose, rank
from handoff.model import AgentStatus, AgentView, GroupPolicy, QueueEntry, Step

ONLINE, AWAY, OFFLINE = AgentStatus.ONLINE, AgentStatus.AWAY, AgentStatus.OFFLINE


def agent(
    agent_id: str, load: int = 0, status: AgentStatus = ONLINE, skills: str = "sales", max_: int = 3
) -> AgentView:
    return AgentView(agent_id, status, frozenset(skills.split(",")), load, max_)


def entry(preferred: str = "", group: str = "sales") -> QueueEntry:
    return QueueEntry(conversation_id="c1", group=group, preferred_agent_id=preferred)


def test_returning_customer_goes_to_their_agent_when_online_with_capacity() -> None:
    agents = [agent("a1", load=0), agent("a2", load=2)]
    ranking = rank(entry(preferred="a2"), agents, GroupPolicy())
    assert ranking.sticky == "a2"
    assert ranking.ordered == ("a2", "a1")


def test_never_sticky_to_an_away_or_offline_or_full_agent() -> None:
    for preferred in (
        agent("a2", status=AWAY),
        agent("a2", status=OFFLINE),
        agent("a2", load=3, max_=3),
    ):
        ranking = rank(entry(preferred="a2"), [agent("a1"), preferred], GroupPolicy())
        assert ranking.sticky is None
        assert ranking.ordered == ("a1",)


def test_sticky_ignores_skill_group_but_can_be_switched_off() -> None:
    agents = [agent("a1"), agent("b1", skills="billing")]
    assert choose(entry(preferred="b1"), agents, GroupPolicy()) == "b1"
    no_sticky = GroupPolicy(steps=frozenset({Step.SKILL, Step.LEAST_LOAD}))
    assert choose(entry(preferred="b1"), agents, no_sticky) == "a1"


def test_only_the_skill_group_unless_the_step_is_off() -> None:
    agents = [agent("a1", load=2), agent("b1", load=0, skills="billing")]
    assert rank(entry(), agents, GroupPolicy()).ordered == ("a1",)
    anyone = GroupPolicy(steps=frozenset({Step.LEAST_LOAD}))
    assert rank(entry(), agents, anyone).ordered == ("b1", "a1")


def test_least_load_first() -> None:
    agents = [agent("a1", load=2), agent("a2", load=0), agent("a3", load=1)]
    assert rank(entry(), agents, GroupPolicy()).ordered == ("a2", "a3", "a1")


def test_ties_rotate_after_the_cursor() -> None:
    agents = [agent("a1"), agent("a2"), agent("a3")]
    assert choose(entry(), agents, GroupPolicy(), cursor=None) == "a1"
    assert choose(entry(), agents, GroupPolicy(), cursor="a1") == "a2"
    assert choose(entry(), agents, GroupPolicy(), cursor="a2") == "a3"
    assert choose(entry(), agents, GroupPolicy(), cursor="a3") == "a1"
    assert rank(entry(), agents, GroupPolicy(), cursor="a2").ordered == ("a3", "a1", "a2")


def test_round_robin_only_when_least_load_is_off() -> None:
    agents = [agent("a1", load=2), agent("a2", load=0)]
    rr = GroupPolicy(steps=frozenset({Step.SKILL}))
    assert choose(entry(), agents, rr, cursor=None) == "a1"
    assert choose(entry(), agents, rr, cursor="a1") == "a2"


def test_nobody_eligible() -> None:
    agents = [agent("a1", status=AWAY), agent("a2", load=3), agent("b1", skills="billing")]
    assert choose(entry(), agents, GroupPolicy()) is None
    assert choose(entry(), [], GroupPolicy()) is None


def test_the_agent_who_transferred_it_away_comes_last() -> None:
    queued = QueueEntry(conversation_id="c1", group="sales", avoid_agent_id="a1")
    agents = [agent("a1", load=0), agent("a2", load=2)]
    assert rank(queued, agents, GroupPolicy()).ordered == ("a2", "a1")
