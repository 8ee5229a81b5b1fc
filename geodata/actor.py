"""Who is acting: the name (and role) every change is recorded under in the audit log.

Command lines act as the operating-system user unless ``--as NAME`` is given (``python -m geodata --as
NAME COMMAND``); the dashboard acts as its local user until sign-in exists. The value lives in a
:class:`contextvars.ContextVar`, so each Streamlit session thread and each command has its own, and
the store reads it when it writes an audit entry (:mod:`geodata.store.audit_sql`).
"""

from __future__ import annotations

import contextvars
import getpass
from dataclasses import dataclass

#: Longest name recorded (longer names are cut, never refused: the change itself matters more).
MAX_NAME_CHARS = 200


@dataclass(frozen=True)
class Actor:
    """Who asks: ``who`` (a user or e-mail) and ``role`` (viewer, analyst or admin)."""

    who: str
    role: str = "admin"


def os_user() -> str:
    """The operating-system user's name ("unknown" in a bare container without one)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


_CURRENT: contextvars.ContextVar[Actor | None] = contextvars.ContextVar("conflictmap_actor", default=None)


def current_actor() -> Actor:
    """The actor of this context: the one set by :func:`act_as`, else the OS user as admin (local use)."""
    return _CURRENT.get() or Actor(os_user())


def act_as(who: str, role: str = "admin") -> Actor:
    """Record later changes in this context under ``who`` (control characters removed, length capped).

    Args:
        who: the name, e.g. from ``--as``.
        role: the role recorded with it.
    Returns:
        The actor now in effect.
    """
    clean = "".join(ch for ch in str(who) if ch.isprintable()).strip()[:MAX_NAME_CHARS] or os_user()
    actor = Actor(clean, role)
    _CURRENT.set(actor)
    return actor
