"""`kefu agents add|disable|enable|set-role|reset-password|logout`: staff accounts.

Passwords are read from standard input, never from the command line. Disabling an account and
a new role end every session of the user at once (in Redis) and set their presence offline;
resetting the password and ``logout`` end every session. Every change is in the audit log
(actor ``cli``), as the same changes made from the supervisor dashboard are.
"""

from __future__ import annotations

import argparse
import sys

from core.settings import Settings
from handoff import staff
from handoff.auth import Sessions
from handoff.presence import Presence
from service.commands.common import database
from service.deps import connect_redis
from supervision import audit

ACTOR = "cli"  # the audit log's actor for changes made on the server's command line


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("agents", help="staff accounts")
    acts = parser.add_subparsers(dest="action", required=True)
    p = acts.add_parser("add", help="add a staff account")
    p.add_argument("username")
    p.add_argument("--role", choices=staff.ROLES, required=True)
    _password_stdin(p)
    p.add_argument("--skills", default="", help="comma-separated skill groups")
    p.add_argument("--max-concurrent", type=int, default=5)
    p.add_argument("--display-name", default="", help="the name customers see (default: the username)")
    acts.add_parser("disable", help="disable an account and end its sessions").add_argument("username")
    acts.add_parser("enable", help="enable a disabled account").add_argument("username")
    p = acts.add_parser("set-role", help="change an account's role")
    p.add_argument("username")
    p.add_argument("--role", choices=staff.ROLES, required=True)
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
    password = sys.stdin.readline().rstrip("\n") if args.action in ("add", "reset-password") else ""
    async with database(settings) as sessions:
        async with sessions.begin() as session:
            if args.action == "add":
                user = await staff.add_user(
                    session,
                    args.username,
                    password,
                    args.role,
                    skills=[s.strip() for s in args.skills.split(",") if s.strip()],
                    max_concurrent=args.max_concurrent,
                    display_name=args.display_name,
                )
                audit.record(session, ACTOR, "staff.add", user.username, staff.added_json(user))
                print(f"added {user.role} {user.username}")
                return 0
            user = await staff.find_user(session, args.username)
            changed: dict[str, object] = {}
            if args.action in ("disable", "enable", "set-role"):
                wanted = (
                    {"role": args.role} if args.action == "set-role" else {"enabled": args.action == "enable"}
                )
                changed = staff.apply_changes(user, staff.check_changes(wanted))
                if changed:
                    audit.record(session, ACTOR, "staff.change", user.username, changed)
            elif args.action == "reset-password":
                await staff.set_password(user, password)
                audit.record(session, ACTOR, "staff.reset_password", user.username)
            else:
                audit.record(session, ACTOR, "staff.logout", user.username)
            user_id, username, role = user.id, user.username, user.role
        ended = 0
        if staff.ends_access(changed) or args.action in ("reset-password", "logout"):
            redis = connect_redis(settings.redis_url)
            try:
                staff_sessions = Sessions(redis, sessions)
                if staff.ends_access(changed):
                    ended = await staff.end_access(staff_sessions, Presence(redis), user_id)
                else:
                    ended = await staff_sessions.logout_everywhere(user_id)
            finally:
                await redis.aclose()
    done = {
        "disable": f"disabled {username}; ended {ended} session(s)",
        "enable": f"enabled {username}",
        "set-role": f"{username} is now {role}; ended {ended} session(s)",
        "reset-password": f"new password for {username}; ended {ended} session(s)",
        "logout": f"ended {ended} session(s) of {username}",
    }
    print(done[args.action])
    return 0
