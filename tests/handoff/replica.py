"""A stand-in service replica for the multi-process test: waits for a start signal, then drains.

python -m tests.handoff.replica REDIS_URL GO_KEY TASKS GROUP [GROUP ...]
"""

from __future__ import annotations

import asyncio
import sys

import redis.asyncio as aioredis

from handoff.assigner import Assigner
from handoff.presence import Presence
from handoff.queue import HandoffQueue


async def main(url: str, go_key: str, tasks: int, groups: list[str]) -> int:
    client = aioredis.Redis.from_url(url, decode_responses=True, max_connections=tasks + 2)
    try:
        queue = HandoffQueue(client)
        assigner = Assigner(client, Presence(client), queue)
        await client.blpop([go_key], timeout=30)
        counts = await asyncio.gather(*(assigner.drain(groups[i % len(groups)]) for i in range(tasks)))
        return sum(len(c) for c in counts)
    finally:
        await client.aclose()


if __name__ == "__main__":
    url, go_key, tasks, *groups = sys.argv[1:]
    print(asyncio.run(main(url, go_key, int(tasks), groups)))
