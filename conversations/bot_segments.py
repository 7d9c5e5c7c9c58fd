"""Which Rasa conversation (sender id) a Kefu conversation talks to: one segment at a time.

Rasa keeps a conversation's whole history in one tracker, reads and writes it whole on every
message and hands it to the action server with every action call, so a turn costs more the
longer the conversation (a 300-turn conversation: 1,500 events, 0.7 MB, each turn ten times
slower than the first). Kefu names the sender, so it starts a new segment every
``SEGMENT_TURNS`` turns (``Switchboard``'s ``segment_turns``): segment 0 is the conversation id
itself, segment ``n`` is ``<conversation id>.<n>``, and Rasa starts it as any new session.

Nothing the bot needs is lost at a boundary: every rule reacts to one message, the language and
customer arrive in each message's metadata, and the domain carries no slots into a new session
(``carry_over_slots_to_new_session: false``, as after Rasa's own session expiry). The one thing
that spans turns is the order-status form, so a segment never ends while a form is active.
"""

from __future__ import annotations

from dataclasses import dataclass

from conversations.tables import Conversation

SEGMENT_TURNS = 20


def sender_of(conversation_id: str, segment: int) -> str:
    return conversation_id if segment == 0 else f"{conversation_id}.{segment}"


@dataclass(frozen=True)
class Segment:
    number: int
    turns: int  # turns already sent to this segment

    @classmethod
    def of(cls, conv: Conversation) -> Segment:
        return cls(conv.bot_segment or 0, conv.bot_turns or 0)

    def sender(self, conversation_id: str) -> str:
        return sender_of(conversation_id, self.number)

    def full(self, limit: int) -> bool:
        return self.turns >= limit

    def next(self) -> Segment:
        return Segment(self.number + 1, 0)

    def after_turn(self) -> Segment:
        return Segment(self.number, self.turns + 1)
