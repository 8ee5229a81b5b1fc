"""Who is acting: the name (and role) every change is recorded under in the audit log.

Command lines act as the operating-system user unless ``--as NAME`` is given (``python -m geodata --as
NAME COMMAND``); the dashboard acts as the signed-in user, or the local user without sign-in. The role
is looked up in the store's ``users`` table when the change is written (:mod:`geodata.model.roles`), unless
the actor carries one (the ``system`` role of :func:`maintenance`). The value lives in a
:class:`contextvars.ContextVar`, so each Streamlit session thread and each command has its own, and
the store reads it when it writes an audit entry (:mod:`geodata.store.audit_sql`).
"""

from __future__ import annotations

import contextvars
import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

#: Longest name recorded (longer names are cut, never refused: the change itself matters more).
MAX_NAME_CHARS = 200


@dataclass(frozen=True)
class Actor:
    """Who asks: ``who`` (a user or e-mail) and ``role`` (``None``: as the store's ``users`` table says)."""

    who: str
    role: str | None = None


def os_user() -> str:
    """The operating-system user's name ("unknown" in a bare container without one)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


_CURRENT: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("conflictmap_actor", default=None)


def current_actor() -> Actor:
    """The actor of this context: the one set by :func:`act_as`, else the OS user (local use)."""
    return _CURRENT.get() or Actor(os_user())


def act_as(who: str, role: str | None = None) -> Actor:
    """Record later changes in this context under ``who`` (control characters removed, length capped).

    Args:
        who: the name, e.g. from ``--as``.
        role: a fixed role; ``None`` (the default) to use the one the store's ``users`` table gives.
    Returns:
        The actor now in effect.
    """
    clean = "".join(ch for ch in str(who) if ch.isprintable()).strip()[:MAX_NAME_CHARS] or os_user()
    actor = Actor(clean, role)
    _CURRENT.set(actor)
    return actor


@contextmanager
def maintenance() -> Iterator[Actor]:
    """Run the program's own upkeep (seeding bundled data, locating municipalities) as the ``system``
    role, whoever opened the store; the previous actor is back afterwards."""
    token = _CURRENT.set(Actor("conflictmap (upkeep)", "system"))
    try:
        yield _CURRENT.get() or Actor("conflictmap (upkeep)", "system")
    finally:
        _CURRENT.reset(token)
