"""Rasa's NLU on a list of messages: run with the Rasa env's Python (``.venv-rasa/bin/python``).

Reads a JSON list of texts on stdin, loads the trained model (the path is the one argument) and
writes a JSON list of ``[intent, confidence]`` on stdout, one per text. Used by
``bench.bot_routing``; nothing else of Kefu is imported, so the Rasa env needs nothing extra.
"""

from __future__ import annotations

import asyncio
import json
import sys


async def parse(model: str, texts: list[str]) -> list[list[object]]:
    from rasa.core.agent import Agent  # imported here: the main env has no Rasa

    agent = Agent.load(model)
    out: list[list[object]] = []
    for text in texts:
        data = await agent.parse_message(text)
        out.append([data["intent"]["name"], round(float(data["intent"]["confidence"]), 4)])
    return out


if __name__ == "__main__":
    result = asyncio.run(parse(sys.argv[1], json.load(sys.stdin)))
    sys.stdout.write(json.dumps(result))
