"""Custom Rasa actions (run by the rasa_sdk action server: ``python -m service.action_server``).

Every text the bot says comes from here, in Chinese or English (``actions.texts``). Outside
systems sit behind small Protocols: the knowledge index (``actions.knowledge``), the order
table (``actions.orders``) and the tickets (``actions.ticket_status``); all are opened lazily
inside the worker that uses them.

rasa_sdk ships no type information, so subclassing its ``Action`` needs ``type: ignore[misc]``.
"""
