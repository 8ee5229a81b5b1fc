"""``python -m geodata users add EMAIL --role viewer|analyst|admin`` / ``users list`` / ``users remove EMAIL``.

Roles are described in :mod:`geodata.model.roles`; the table in :mod:`geodata.store.users_sql`. Managing users
needs the admin role (``--as NAME`` names who acts), except the first user, who must be an admin.
"""

from __future__ import annotations

import argparse

from geodata.model.roles import ROLES, normal_email
from geodata.settings import get_settings
from geodata.export.textsafe import printable


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``users`` command."""
    u = subparsers.add_parser("users", help="who may do what: add, list or remove users and their roles")
    sub = u.add_subparsers(dest="users_command", required=True)
    add = sub.add_parser("add", help="add a user, or change a user's role")
    add.add_argument("email")
    add.add_argument("--role", required=True, choices=ROLES)
    rm = sub.add_parser("remove", help="remove a user")
    rm.add_argument("email")
    sub.add_parser("list", help="list users and roles")
    for p in (add, rm, sub.choices["list"]):
        p.add_argument("--db", help="store URL (default: CONFLICTMAP_DB)")
    u.set_defaults(func=cmd_users)


def cmd_users(args: argparse.Namespace) -> int:
    """Run ``users add|remove|list`` through the service; returns the exit code (1: nothing to remove)."""
    from geodata.service.incidents import IncidentService

    with IncidentService(get_settings(), db_url=args.db) as svc:
        if args.users_command == "add":
            added = svc.users_add(args.email, args.role)
            print(printable(f"{'added' if added else 'role set:'} {normal_email(args.email)} ({args.role})"))
            return 0
        if args.users_command == "remove":
            if svc.users_remove(args.email):
                print(printable(f"removed {normal_email(args.email)}"))
                return 0
            print(printable(f"no such user: {normal_email(args.email)}"))
            return 1
        users = svc.users_list()
    if not users:
        print("no users: this store is one person's, and everyone who opens it is an admin")
    for u in users:
        print(printable(f"{u['email']}  {u['role']}  (added {u['added_at']} by {u['added_by']})"))
    return 0
