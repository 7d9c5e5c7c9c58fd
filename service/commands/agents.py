"""`kefu agents add`: create a staff account; the password is read from standard input."""

from __future__ import annotations

import argparse
import sys

from core.settings import Settings
from handoff.staff import ROLES, add_user
from service.commands.common import database


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("agents", help="staff accounts")
    acts = parser.add_subparsers(dest="action", required=True)
    p = acts.add_parser("add", help="add a staff account")
    p.add_argument("username")
    p.add_argument("--role", choices=ROLES, required=True)
    p.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help="read the password from standard input (never from the command line)",
    )
    p.add_argument("--skills", default="", help="comma-separated skill groups")
    p.add_argument("--max-concurrent", type=int, default=5)
    p.add_argument("--display-name", default="", help="the name customers see (default: the username)")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    password = sys.stdin.readline().rstrip("\n")
    async with database(settings) as sessions, sessions.begin() as session:
        user = await add_user(
            session,
            args.username,
            password,
            args.role,
            skills=[s.strip() for s in args.skills.split(",")],
            max_concurrent=args.max_concurrent,
            display_name=args.display_name,
        )
    print(f"added {user.role} {user.username}")
    return 0
