"""Roles and what each may change: one table, checked where every change is written.

* **viewer** — look and export within the data licences; changes nothing.
* **analyst** — also upload, change verification status and sources, decide duplicates, edit sequences.
* **admin** — also undo uploads, run syncs, manage users, change store settings.

The guard is the store: ``BaseStore._bump`` — the step every change of the store takes inside its own
transaction, where the audit entry is written too — calls :func:`require` before the change commits,
so a refused change leaves the store exactly as it was, whatever door it came through. The pages only
hide what a role may not do.

Who has which role is kept in the store's ``users`` table (``python -m geodata users …``). While that
table is empty the store is one person's (the local default), and every actor is an admin; once it
holds anyone, an actor it does not list is a viewer. Upkeep the program does by itself on opening a
store (seeding the bundled incidents and curation, locating municipalities) runs as the ``system``
role (:func:`geodata.model.actor.maintenance`).
"""

from __future__ import annotations

import re

from geodata._errors import InputError, PermissionDenied

ROLES: tuple[str, ...] = ("viewer", "analyst", "admin")
#: Upkeep by the program itself, never given to a person.
SYSTEM = "system"
#: The least role each change needs, by the action name the audit log records.
ACTION_ROLE: dict[str, str] = {
    "upload": "analyst", "status": "analyst", "sources": "analyst", "sequences": "analyst",
    "duplicates": "analyst",
    "undo": "admin", "sync": "admin", "users": "admin", "setting": "admin", "relocate": "admin",
    "bundled-curation": "admin",
}
#: How a refusal names each action.
ACTION_TEXT: dict[str, str] = {
    "upload": "upload incidents", "status": "change a verification status", "sources": "change sources",
    "sequences": "edit sequences", "duplicates": "decide duplicates", "undo": "undo an upload",
    "sync": "run a sync", "users": "manage users", "setting": "change a store setting",
    "relocate": "re-locate municipalities", "bundled-curation": "re-seed the bundled curation",
}
#: What the pages say a role may do.
ROLE_TEXT: dict[str, str] = {
    "viewer": "look and export",
    "analyst": "look, export, upload, change verification status and sources, decide duplicates, edit sequences",
    "admin": "everything: also undo uploads, run syncs and manage users",
}


def needed_role(action: str) -> str:
    """The least role ``action`` needs (``duplicates-merge`` → ``duplicates``); unknown actions need admin."""
    return ACTION_ROLE.get(action, ACTION_ROLE.get(action.split("-", 1)[0], "admin"))


def allows(role: str, action: str) -> bool:
    """Whether ``role`` may do ``action`` (the system role may do everything)."""
    if role == SYSTEM:
        return True
    if role not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(needed_role(action))


def require(who: str, role: str, action: str) -> None:
    """Refuse ``action`` unless ``role`` allows it.

    Raises:
        PermissionDenied: "<who> (<role>) may not <action>: it needs the <role> role".
    """
    if not allows(role, action):
        what = ACTION_TEXT.get(action, ACTION_TEXT.get(action.split("-", 1)[0], action.replace("-", " ")))
        raise PermissionDenied(f"{who} ({role}) may not {what}: it needs the {needed_role(action)} role")


#: A plain e-mail address: something@somewhere, no spaces (what OIDC providers put in ``email``).
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,255}")


def normal_email(email: str) -> str:
    """``email`` trimmed and case-folded, the form the table keys on.

    Raises:
        InputError: if it is not an e-mail address.
    """
    text = str(email).strip().casefold()
    if not EMAIL.fullmatch(text):
        raise InputError(f"{text[:80]!r} is not an e-mail address (name@example.org)")
    return text
