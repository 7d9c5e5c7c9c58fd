"""`kefu quality words add|remove|list`: the quality inspection's word lists.

kefu quality words add forbidden|sensitive|greeting|closing WORD [--lang zh|en]
"""

from __future__ import annotations

import argparse

from core.settings import Settings
from service.commands.common import database
from supervision import audit, words


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("quality", help="quality inspection")
    what = parser.add_subparsers(dest="what", required=True)
    lists = what.add_parser("words", help="word lists (forbidden, sensitive, greeting, closing)")
    acts = lists.add_subparsers(dest="action", required=True)
    add = acts.add_parser("add", help="add a word to a list")
    add.add_argument("kind", choices=words.KINDS)
    add.add_argument("word")
    add.add_argument("--lang", choices=words.LANGS, default="zh")
    remove = acts.add_parser("remove", help="remove a word by its id (see list)")
    remove.add_argument("id", type=int)
    acts.add_parser("list", help="print every list")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    async with database(settings) as sessions, sessions.begin() as session:
        if args.action == "add":
            row = await words.add_word(session, args.kind, args.word, args.lang)
            audit.record(
                session,
                "cli",
                "word.add",
                str(row.id),
                {"kind": row.kind, "lang": row.lang, "word": row.word},
            )
            print(f"added {row.kind} word {row.word!r} ({row.lang}), id {row.id}")
        elif args.action == "remove":
            await words.remove_word(session, args.id)
            audit.record(session, "cli", "word.delete", str(args.id))
            print(f"removed word {args.id}")
        else:
            for row in await words.all_words(session):
                print(f"{row.id}\t{row.kind}\t{row.lang}\t{row.word}")
    return 0
