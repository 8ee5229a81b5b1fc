"""The ``users`` table (schema 12): who may do what (:mod:`geodata.model.roles`).

Adding, changing and removing a user is itself a change of the store: it goes through ``_bump`` (so it
needs the admin role, or an empty table) and lands in the audit log with the e-mail as its target.
Two rules keep a team from locking itself out, checked in the same transaction: the first user added
must be an admin, and the last admin cannot be removed or demoted while anyone else is listed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from geodata._errors import InputError
from geodata.model.actor import current_actor
from geodata.model.roles import ROLES, normal_email


def add_user(store: Any, email: str, role: str) -> bool:
    """Add ``email`` with ``role``, or change the role of a listed user.

    Returns:
        ``True`` if the user was added, ``False`` if an existing user's role was set.
    Raises:
        InputError: for an unknown role, a bad address, a first user who is not an admin, or the last
            admin demoted while others are listed.
        PermissionDenied: if the actor is not an admin (once the table lists anyone).
    """
    if role not in ROLES:
        raise InputError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    email = normal_email(email)
    p = store.mark
    with store._write("the user was not saved") as cur:
        cur.execute("SELECT email, role FROM users")
        listed = {str(e): str(r) for e, r in cur.fetchall()}
        if not listed and role != "admin":
            raise InputError("the first user must be an admin (add yourself first: users add YOU@… --role admin)")
        if listed.get(email) == "admin" and role != "admin" and list(listed.values()).count("admin") == 1:
            raise InputError(f"{email} is the last admin: make someone else an admin first")
        # The check runs before the row changes: the actor's role is the one the table gave so far.
        store._bump(cur, "users", targets=(email,))
        cur.execute(f"DELETE FROM users WHERE email = {p}", (email,))
        cur.execute(f"INSERT INTO users (email, role, added_at, added_by) VALUES ({p}, {p}, {p}, {p})",
                    (email, role, dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), current_actor().who))
    return email not in listed


def remove_user(store: Any, email: str) -> bool:
    """Remove ``email``; ``False`` if it was not listed.

    Raises:
        InputError: if it is the last admin while others are listed.
        PermissionDenied: if the actor is not an admin.
    """
    email = normal_email(email)
    p = store.mark
    with store._write("the user was not removed") as cur:
        cur.execute("SELECT email, role FROM users")
        listed = {str(e): str(r) for e, r in cur.fetchall()}
        if email not in listed:
            return False
        admins = [e for e, r in listed.items() if r == "admin"]
        if admins == [email] and len(listed) > 1:
            raise InputError(f"{email} is the last admin: make someone else an admin first")
        store._bump(cur, "users", targets=(email,))
        cur.execute(f"DELETE FROM users WHERE email = {p}", (email,))
    return True


def list_users(store: Any) -> list[dict[str, str]]:
    """Every listed user: ``email``, ``role``, ``added_at``, ``added_by`` (by e-mail)."""
    rows = store._rows("SELECT email, role, added_at, added_by FROM users ORDER BY email")
    return [{"email": str(e), "role": str(r), "added_at": str(a), "added_by": str(b)} for e, r, a, b in rows]


def role_of_user(store: Any, who: str) -> str:
    """The role ``who`` acts with (the rule of :func:`geodata.store.audit_sql.role_of`, outside a change)."""
    with store._write("the role was not read") as cur:
        from geodata.store.audit_sql import role_of

        return role_of(store, cur, who)
