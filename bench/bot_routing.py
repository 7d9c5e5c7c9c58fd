"""Answer quality through the bot: what a customer gets once Rasa's NLU has routed the question.

``bench.answer_quality`` measures the knowledge index alone. In the product a question reaches
it only when Rasa's intent says so (faq, out_of_scope, nlu_fallback); order_status starts the
order form, ticket_status the ticket lookup, small talk a fixed reply, request_human a handoff.
This bench parses zh_shop val + oos_val with the trained bot model (a real Rasa, through
``bench/rasa_parse.py`` in the Rasa env), searches every question in the zh_shop index at the
product threshold, and follows two routing policies on the same parses:

- bare Rasa: each intent's own action, as the rules alone would route it (the baseline);
- Kefu: the routing guards (docs/bot.md): the order form, the ticket lookup, the handoff on
  request and the small-talk replies only for messages that read like them (``actions.cues``);
  the rest go to the index.

Outcomes: the knowledge outcome (correct, incl. a clarify offering the right entry; declined;
wrong) when the question reaches the index; "handoff" for request_human (a human answers:
counted with declined); "misrouted" for a form, lookup or small-talk reply to a question it
does not answer (counted as wrong). Nothing here is tuned: the cues were written from the bot's
own NLU examples.

    .venv/bin/python -m bench.bot_routing
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from actions.cues import CUES
from bench.answer_quality import build_through_import, load_zh_shop, outcome, rank
from bench.output import write_results
from knowledge.config import IndexConfig
from tests.support.rasa import trained_model

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "bot_routing.json"
RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"
KNOWLEDGE_INTENTS = {"faq", "out_of_scope", "nlu_fallback"}
POLICIES = ("bare_rasa", "kefu")


def parse_intents(texts: list[str], model: Path) -> list[tuple[str, float]]:
    with tempfile.TemporaryDirectory(prefix="kefu-parse-") as tmp:
        texts_file, out_file = Path(tmp) / "texts.json", Path(tmp) / "intents.json"
        texts_file.write_text(json.dumps(texts, ensure_ascii=False), encoding="utf-8")
        done = subprocess.run(
            [str(RASA_PY), str(ROOT / "bench" / "rasa_parse.py"), str(model), str(texts_file), str(out_file)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env={"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
            timeout=900,
        )
        if done.returncode != 0 or not out_file.exists():
            raise RuntimeError(f"rasa_parse failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
        return [(str(i), float(c)) for i, c in json.loads(out_file.read_text(encoding="utf-8"))]


def route(policy: str, intent: str, text: str) -> str:
    """Where the message goes: "knowledge", "human" or "other" (form, lookup, small talk). Kefu's
    policy applies the same cues (``actions.cues.CUES``) as the action server's guards."""
    if intent in KNOWLEDGE_INTENTS:
        return "knowledge"
    own = "human" if intent == "request_human" else "other"
    cue = CUES.get(intent)
    if policy == "bare_rasa" or cue is None or cue(text):
        return own
    return "knowledge"


def final(where: str, knowledge: str) -> str:
    return {"knowledge": knowledge, "human": "handoff"}.get(where, "misrouted")


def rates(outcomes: list[str]) -> dict[str, float]:
    n = max(len(outcomes), 1)
    count = Counter(outcomes)
    return {
        "correct": (count["correct"] + count["clarified"]) / n,
        "declined_or_handoff": (count["declined"] + count["handoff"]) / n,
        "wrong": count["wrong"] / n,
        "misrouted": count["misrouted"] / n,
    }


def run() -> dict[str, Any]:
    bench = load_zh_shop(False)
    queries = bench.report
    texts = [t for t, _ in queries]
    start = time.perf_counter()
    intents = parse_intents(texts, trained_model())  # trains when missing or out of date
    parse_s = time.perf_counter() - start
    config = IndexConfig()
    with tempfile.TemporaryDirectory(prefix="kefu-routing-") as tmp:
        manifest, index, _, _ = build_through_import(bench, config, Path(tmp))
        ranked = rank(index, queries)
    knowledge = [outcome(r, index.rule) for r in ranked]  # the product's own decision rule
    result: dict[str, Any] = {
        "set": "zh_shop val + oos_val",
        "threshold": manifest.threshold,
        "intents": dict(Counter(i for i, _ in intents)),
        "parse_s": parse_s,
        "date": time.strftime("%Y-%m-%d"),
    }
    for policy in (*POLICIES, "index_alone"):
        outs = []
        for (text, _), (intent, _), know in zip(queries, intents, knowledge, strict=True):
            outs.append(know if policy == "index_alone" else final(route(policy, intent, text), know))
        ins = [o for o, (_, g) in zip(outs, queries, strict=True) if g is not None]
        oos = [o for o, (_, g) in zip(outs, queries, strict=True) if g is None]
        wrong_all = sum(o in ("wrong", "misrouted") for o in outs) / max(len(outs), 1)
        result[policy] = {"in_scope": rates(ins), "oos": rates(oos), "all_wrong_or_misrouted": wrong_all}
    return result


def print_table(result: dict[str, Any]) -> None:
    print(
        f"\n== through the bot: {result['set']}, threshold {result['threshold']:.2f} "
        f"(Rasa parse {result['parse_s']:.0f}s)"
    )
    print(
        "intents:", ", ".join(f"{k} {v}" for k, v in sorted(result["intents"].items(), key=lambda kv: -kv[1]))
    )
    head = ("in_ok", "in_dec", "in_bad", "in_misr", "oos_dec", "oos_bad", "oos_misr", "all_bad")
    print(f"{'':<34}" + "".join(f"{h:>9}" for h in head))
    labels = {
        "index_alone": "index alone (answer_quality)",
        "bare_rasa": "bare Rasa routing",
        "kefu": "Kefu routing (guards)",
    }
    for policy in ("index_alone", *POLICIES):
        row = result[policy]
        i, o = row["in_scope"], row["oos"]
        cells = [i["correct"], i["declined_or_handoff"], i["wrong"], i["misrouted"]]
        cells += [o["declined_or_handoff"], o["wrong"], o["misrouted"], row["all_wrong_or_misrouted"]]
        print(f"{labels[policy]:<34}" + "".join(f"{c * 100:9.1f}" for c in cells))
    k, b = result["kefu"]["in_scope"]["correct"], result["bare_rasa"]["in_scope"]["correct"]
    print(f"ratio Kefu/bare Rasa routing, in-scope correct: x{k / max(b, 1e-9):.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    result = run()
    print_table(result)
    write_results(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
