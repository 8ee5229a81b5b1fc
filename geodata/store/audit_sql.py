"""The audit log (schema 10): one append-only entry per change of the store, in the change's own transaction.

Each entry holds the UTC time, who and in which role (:mod:`geodata.model.actor`), the action, its target
ids, the data version the change produced, the previous entry's hash and its own: SHA-256 over a
canonical JSON of every other field. :func:`verify` walks the chain, so an entry that was changed,
removed, inserted or moved — even by someone who dropped the append-only triggers — breaks it at that
entry. What a chain alone cannot show is entries cut from its *end*: :func:`verify` reports the head
(last id and hash), which an operator can keep elsewhere and compare.

Every write of the store already advances the data version through ``BaseStore._bump``; that is
where :func:`append` is called, so no change escapes the log.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from geodata.model.actor import current_actor

COLUMNS: tuple[str, ...] = ("id", "at", "who", "role", "action", "targets", "data_version", "prev_hash", "hash")
#: The hash before the first entry.
GENESIS = "0" * 64


@dataclass(frozen=True)
class Verdict:
    """The result of :func:`verify`: ``ok``, the first bad entry (id and why) when not, and the head."""

    ok: bool
    entries: int
    first_bad: int | None = None
    reason: str = ""
    head_id: int | None = None
    head_hash: str = GENESIS


def entry_hash(at: str, who: str, role: str, action: str, targets: str, data_version: int, prev_hash: str) -> str:
    """SHA-256 (hex) of one entry's fields, canonical JSON (sorted keys, no spaces, UTF-8)."""
    body = json.dumps({"at": at, "who": who, "role": role, "action": action, "targets": targets,
                       "data_version": int(data_version), "prev": prev_hash},
                      sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def role_of(store: Any, cur: Any, who: str) -> str:
    """The role of ``who`` in the store's ``users`` table, inside the caller's transaction: listed →
    that role; an empty table (one person's store) → ``admin``; anyone else → ``viewer``."""
    p = store.mark
    cur.execute(f"SELECT role FROM users WHERE email = {p}", (who.casefold(),))
    row = cur.fetchone()
    if row:
        return str(row[0])
    cur.execute("SELECT COUNT(*) FROM users")
    return "admin" if int(cur.fetchone()[0]) == 0 else "viewer"


def check_and_append(store: Any, cur: Any, action: str, targets: Sequence[object] = ()) -> None:
    """Refuse ``action`` unless the current actor's role allows it, then write its audit entry — both
    inside the caller's transaction, so a refused change is rolled back whole.

    Raises:
        PermissionDenied: if the actor's role may not do ``action`` (:mod:`geodata.model.roles`).
    """
    from geodata.model.roles import require

    actor = current_actor()
    role = actor.role or role_of(store, cur, actor.who)
    require(actor.who, role, action)
    append(store, cur, action, targets, role)


def append(store: Any, cur: Any, action: str, targets: Sequence[object] = (), role: str | None = None) -> None:
    """Write one audit entry inside the caller's transaction (after the data version moved).

    Args:
        store: the open store (its ``mark`` and ``dialect``).
        cur: the transaction's cursor.
        action: what was done ("upload", "undo", "sync", "status", "merge", …).
        targets: the ids it concerns (upload ids, incident ids), stored as a JSON list of text.
        role: the actor's role as checked (default: the actor's own, else ``admin``).
    """
    p = store.mark
    if store.dialect == "postgres":  # one writer at a time extends the chain
        cur.execute("LOCK TABLE audit_log IN EXCLUSIVE MODE")
    cur.execute("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
    row = cur.fetchone()
    prev = str(row[0]) if row else GENESIS
    cur.execute("SELECT n FROM data_version WHERE id = 1")
    version = int(cur.fetchone()[0])
    actor = current_actor()
    role = role or actor.role or "admin"
    at = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    text = json.dumps([str(t) for t in targets if t is not None], ensure_ascii=False)
    digest = entry_hash(at, actor.who, role, action, text, version, prev)
    cur.execute(f"INSERT INTO audit_log (at, who, role, action, targets, data_version, prev_hash, hash) "
                f"VALUES ({p}, {p}, {p}, {p}, {p}, {p}, {p}, {p})",
                (at, actor.who, role, action, text, version, prev, digest))


def read(store: Any, since: str | None = None) -> list[dict[str, Any]]:
    """Audit entries, oldest first (``since``: only entries at or after this ISO time, UTC).

    Raises:
        StoreError: if the store cannot be read.
    """
    where, params = (f" WHERE at >= {store.mark}", [since]) if since else ("", [])
    rows = store._rows(f"SELECT {', '.join(COLUMNS)} FROM audit_log{where} ORDER BY id", params)
    return [dict(zip(COLUMNS, r)) for r in rows]


def verify(store: Any) -> Verdict:
    """Walk the chain from the first entry: every hash recomputed, every link to the previous one checked.

    Returns:
        :class:`Verdict` naming the first entry that does not fit (changed, inserted, moved, or after a
        removed one), or ``ok`` with the head.
    Raises:
        StoreError: if the store cannot be read.
    """
    prev, last_id, n = GENESIS, None, 0
    for e in read(store):
        n += 1
        if e["prev_hash"] != prev:
            return Verdict(False, n, int(e["id"]), "its link to the previous entry is broken (an entry before it "
                                                   "was removed, inserted, changed or moved)", last_id, prev)
        want = entry_hash(str(e["at"]), str(e["who"]), str(e["role"]), str(e["action"]), str(e["targets"]),
                          int(e["data_version"]), str(e["prev_hash"]))
        if e["hash"] != want:
            return Verdict(False, n, int(e["id"]), "its content does not match its hash (the entry was changed)",
                           last_id, prev)
        prev, last_id = str(e["hash"]), int(e["id"])
    return Verdict(True, n, None, "", last_id, prev)
