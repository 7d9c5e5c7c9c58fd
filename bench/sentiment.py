"""How well the quality inspector tells an upset customer, on hand-labelled customer messages.

The sets (``bench/data/sentiment_{zh,en}.tsv``) are written and labelled by the team: 80
messages a language, "neg" (angry, complaining, threatening to leave) or "other". Their dev
half chose the rules and the English threshold in ``supervision.sentiment``; this prints the
test half, with the dev half beside it, against two baselines in the same run: "never upset"
(the majority class) and the packaged lexicon used plainly (any negative word).

    .venv/bin/python -m bench.sentiment
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.output import write_results
from supervision.sentiment import PackagedSentiment

ROOT = Path(__file__).resolve().parent
DATA = ROOT / "data"


@dataclass(frozen=True)
class Labelled:
    split: str
    negative: bool
    text: str


def load(lang: str) -> list[Labelled]:
    rows = []
    for line in (DATA / f"sentiment_{lang}.tsv").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        split, label, text = line.split("\t")
        rows.append(Labelled(split, label == "neg", text))
    return rows


def scores(rows: list[Labelled], predict: Callable[[str], bool]) -> dict[str, float]:
    tp = sum(1 for r in rows if r.negative and predict(r.text))
    fp = sum(1 for r in rows if not r.negative and predict(r.text))
    fn = sum(1 for r in rows if r.negative and not predict(r.text))
    correct = sum(1 for r in rows if r.negative == predict(r.text))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "n": len(rows),
        "accuracy": correct / len(rows),
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def systems(model: PackagedSentiment, lang: str) -> dict[str, Callable[[str], bool]]:
    if lang == "zh":
        return {
            "never upset (majority)": lambda _: False,
            "HowNet, any negative word": lambda t: any(
                w in model.lexicon.negative for w in model.zh_tokens(t)
            ),
            "kefu (HowNet balance, negation)": lambda t: model.negative(t, "zh"),
        }
    return {
        "never upset (majority)": lambda _: False,
        "VADER, any negative (< 0)": lambda t: model.en_compound(t) < 0,
        "kefu (VADER <= -0.2)": lambda t: model.negative(t, "en"),
    }


def main() -> None:
    model = PackagedSentiment()
    started = time.perf_counter()
    model.warm()
    load_seconds = time.perf_counter() - started
    result: dict[str, Any] = {"load_seconds": load_seconds, "langs": {}}
    print(f"{'lang':4} {'system':32} {'split':5} {'n':>3} {'acc':>6} {'prec':>6} {'recall':>6} {'f1':>6}")
    for lang in ("zh", "en"):
        rows = load(lang)
        result["langs"][lang] = {}
        for name, predict in systems(model, lang).items():
            entry = {
                split: scores([r for r in rows if r.split == split], predict) for split in ("test", "dev")
            }
            result["langs"][lang][name] = entry
            for split, s in entry.items():
                print(
                    f"{lang:4} {name:32} {split:5} {s['n']:>3.0f} {s['accuracy']:>6.1%} "
                    f"{s['precision']:>6.1%} {s['recall']:>6.1%} {s['f1']:>6.2f}"
                )
    texts = [r.text for lang in ("zh", "en") for r in load(lang)]
    started = time.perf_counter()
    for lang in ("zh", "en"):
        for r in load(lang):
            model.negative(r.text, lang)
    per_message = (time.perf_counter() - started) / len(texts)
    result["seconds_per_message"] = per_message
    print(f"\nload {load_seconds:.1f} s once per process; {per_message * 1000:.2f} ms a message")
    write_results(result, "sentiment.json")


if __name__ == "__main__":
    main()
