"""Rasa's NLU on a list of messages: run with the Rasa env's Python (``.venv-rasa/bin/python``).

Arguments: the trained model, a JSON file with a list of texts, and the JSON file to write: a
list of ``[intent, confidence]``, one per text (a file, because Rasa logs to stdout). Used by
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
    model, texts_file, out_file = sys.argv[1:4]
    with open(texts_file, encoding="utf-8") as handle:
        result = asyncio.run(parse(model, json.load(handle)))
    with open(out_file, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
