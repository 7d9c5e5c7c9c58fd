"""Supervision: what the people who run a service floor see and set.

- ``floor``: agents, presence, load and queues right now;
- ``alerts`` and ``monitor``: admin-configured alert rules, alert events deduplicated while their
  condition holds, delivered over Redis pub/sub (dashboards, sockets) and a signed webhook;
- ``words`` and ``quality``: real-time quality inspection of every agent reply against word lists;
- ``reports``: the overview report, computed with SQL from the stored events.

It reads the tables of the conversations, handoff and tickets domains and owns its own
(``supervision/tables.py``); only ``service/`` wires it.
"""
