"""`kefu knowledge ...`: import, export, publish and ask."""

from __future__ import annotations

import argparse
from pathlib import Path

from tqdm import tqdm

from core.settings import Settings
from knowledge.importer import dump_file, parse_file
from knowledge.index import IndexConfig, load_index
from knowledge.live import published_version, version_dir
from knowledge.publish import publish
from knowledge.store import import_entries, list_entries
from service.commands.common import database


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("knowledge", help="FAQ knowledge: import, export, publish, ask")
    ks = parser.add_subparsers(dest="action", required=True)
    p = ks.add_parser("import", help="import FAQ entries from YAML or CSV")
    p.add_argument("file", type=Path)
    p.add_argument("--replace", action="store_true", help="delete entries that are not in the file")
    p = ks.add_parser("export", help="export FAQ entries to YAML or CSV (by suffix)")
    p.add_argument("file", type=Path)
    p = ks.add_parser("publish", help="build a new index version and make it current")
    p.add_argument("--if-missing", action="store_true", help="only when no version is current")
    p = ks.add_parser("ask", help="show the top candidates for a question")
    p.add_argument("question")
    p.add_argument("--lang", choices=["zh", "en"])
    p.add_argument("-k", type=int, default=5)


async def run(args: argparse.Namespace, settings: Settings) -> int:
    handler = {"import": _import, "export": _export, "publish": _publish, "ask": _ask}[args.action]
    return await handler(args, settings)


async def _import(args: argparse.Namespace, settings: Settings) -> int:
    entries = parse_file(args.file)
    async with database(settings) as sessions, sessions.begin() as session:
        counts = await import_entries(session, entries, replace=args.replace)
    print(
        f"imported {len(entries)} entries: {counts['added']} added, {counts['updated']} updated, "
        f"{counts['deleted']} deleted. Run `kefu knowledge publish` to make them live."
    )
    return 0


async def _export(args: argparse.Namespace, settings: Settings) -> int:
    async with database(settings) as sessions, sessions() as session:
        entries = await list_entries(session)
    dump_file(entries, args.file)
    print(f"exported {len(entries)} entries to {args.file}")
    return 0


async def _publish(args: argparse.Namespace, settings: Settings) -> int:
    current = published_version(settings.knowledge_dir)
    if args.if_missing and current is not None:
        print(f"knowledge version {current} is current; nothing to do")
        return 0
    bars: dict[str, tqdm[None]] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(total=total, desc=stage, unit="item", leave=True)
        bar.update(done - bar.n)

    async with database(settings) as sessions:
        config = IndexConfig.for_model(settings.knowledge_model)
        published = await publish(sessions, settings.knowledge_dir, config, progress=progress)
    for bar in bars.values():
        bar.close()
    print(
        f"published knowledge version {published.version} ({published.entry_count} entries, "
        f"{published.learned_count} learned questions)"
    )
    return 0


async def _ask(args: argparse.Namespace, settings: Settings) -> int:
    version = published_version(settings.knowledge_dir)
    if version is None:
        print("no knowledge version is published yet: run `kefu knowledge publish`")
        return 1
    index = load_index(version_dir(settings.knowledge_dir, version), IndexConfig())
    result = index.search(args.question, lang=args.lang, k=args.k)
    print(f"version {version}  decision: {result.decision}  threshold: {result.threshold:.3f}")
    for rank, cand in enumerate(result.candidates, 1):
        print(f"{rank}. {cand.score:.3f}  [{cand.key}] {cand.question}")
    return 0
