"""Build the rasa_sdk executor with every action and its (lazy) outside systems."""

from __future__ import annotations

from rasa_sdk.executor import ActionExecutor

from actions.cues import CUES, is_small_talk
from actions.fixed_replies import FIXED_REPLIES
from actions.guards import ActionOrderGate, GuardedAction
from actions.handoff import ActionHandoff
from actions.knowledge import KnowledgeSearcher
from actions.knowledge_answer import ActionKnowledgeAnswer
from actions.order_status import ActionAskOrderNo, ActionOrderStatus, ValidateOrderStatusForm
from actions.orders import OrderLookup
from actions.ticket_status import ActionTicketStatus, TicketLookup


def build_executor(searcher: KnowledgeSearcher, orders: OrderLookup, tickets: TicketLookup) -> ActionExecutor:
    """Every action the domain names. ``searcher``, ``orders`` and ``tickets`` must open nothing yet:
    rasa_sdk pickles the executor into each Sanic worker."""
    executor = ActionExecutor()
    knowledge = ActionKnowledgeAnswer(searcher)
    # each intent's own action runs only for a message that reads like it (actions/guards.py)
    for action in FIXED_REPLIES:  # every fixed reply answers small talk
        executor.register_action(GuardedAction(action(), is_small_talk, knowledge))
    executor.register_action(GuardedAction(ActionHandoff(), CUES["request_human"], knowledge))
    executor.register_action(knowledge)
    executor.register_action(ActionOrderGate(CUES["order_status"], knowledge))
    executor.register_action(ActionAskOrderNo())
    executor.register_action(ValidateOrderStatusForm(orders))
    executor.register_action(ActionOrderStatus(orders))
    executor.register_action(GuardedAction(ActionTicketStatus(tickets), CUES["ticket_status"], knowledge))
    return executor
