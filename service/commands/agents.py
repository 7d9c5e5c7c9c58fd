"""`kefu agents add|disable|enable|set-role|reset-password|logout`: staff accounts.

Passwords are read from standard input, never from the command line. Disabling an account,
resetting its password and ``logout`` end every session of the user at once (in Redis); a new
role applies to running sessions within seconds (handoff.auth re-reads the user).
"""

from __future__ import annotations

import argparse
import sys

import redis.asyncio as aioredis

from core.settings import Settings
from handoff.auth import Sessions
from handoff.staff import ROLES, add_user, find_user, reset_password, set_enabled, set_role
from service.commands.common import database


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("agents", help="staff accounts")
    acts = parser.add_subparsers(dest="action", required=True)
    p = acts.add_parser("add", help="add a staff account")
    p.add_argument("username")
    p.add_argument("--role", choices=ROLES, required=True)
    _password_stdin(p)
    p.add_argument("--skills", default="", help="comma-separated skill groups")
    p.add_argument("--max-concurrent", type=int, default=5)
    p.add_argument("--display-name", default="", help="the name customers see (default: the username)")
    acts.add_parser("disable", help="disable an account and end its sessions").add_argument("username")
    acts.add_parser("enable", help="enable a disabled account").add_argument("username")
    p = acts.add_parser("set-role", help="change an account's role")
    p.add_argument("username")
    p.add_argument("--role", choices=ROLES, required=True)
    p = acts.add_parser("reset-password", help="set a new password and end the account's sessions")
    p.add_argument("username")
    _password_stdin(p)
    acts.add_parser("logout", help="end every session of an account").add_argument("username")


def _password_stdin(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        required=True,
        help="read the password from standard input (never from the command line)",
    )


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "add":
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
    password = sys.stdin.readline().rstrip("\n") if args.action == "reset-password" else ""
    async with database(settings) as sessions:
        async with sessions.begin() as session:
            if args.action in ("disable", "enable"):
                user = await set_enabled(session, args.username, args.action == "enable")
            elif args.action == "set-role":
                user = await set_role(session, args.username, args.role)
            elif args.action == "reset-password":
                user = await reset_password(session, args.username, password)
            else:
                user = await find_user(session, args.username)
            user_id, username, role = user.id, user.username, user.role
        ended = 0
        if args.action in ("disable", "reset-password", "logout"):
            redis = aioredis.Redis.from_url(settings.redis_url, decode_responses=True)
            try:
                ended = await Sessions(redis, sessions).logout_everywhere(user_id)
            finally:
                await redis.aclose()
    done = {
        "disable": f"disabled {username}; ended {ended} session(s)",
        "enable": f"enabled {username}",
        "set-role": f"{username} is now {role}",
        "reset-password": f"new password for {username}; ended {ended} session(s)",
        "logout": f"ended {ended} session(s) of {username}",
    }
    print(done[args.action])
    return 0
