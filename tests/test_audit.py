"""The audit log (issue 19, item 4): every change is recorded in its own transaction, the chain verifies,
and each way of tampering with it is caught — also with the append-only triggers dropped. SQLite and PostGIS."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from geodata.model.actor import act_as, current_actor
from geodata.store import audit_sql, open_store

REPO = Path(__file__).resolve().parents[1]


def _seeded(store_url):
    from geodata.ingest.bundled import seed_bundled

    store = open_store(store_url)
    seed_bundled(store)
    return store


def _raw(store_url, sql: str, params=()) -> None:
    """Run SQL behind the store's back (an attacker with database access)."""
    if store_url.startswith("sqlite"):
        conn = sqlite3.connect(store_url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute(sql, params)
        conn.close()
    else:
        import psycopg

        with psycopg.connect(store_url, autocommit=True) as conn:
            conn.execute(sql.replace("?", "%s"), params)


def _drop_triggers(store_url) -> None:
    if store_url.startswith("sqlite"):
        for t in ("audit_log_no_update", "audit_log_no_delete"):
            _raw(store_url, f"DROP TRIGGER {t}")
    else:
        _raw(store_url, "DROP TRIGGER audit_log_append_only ON audit_log")


def test_every_change_is_audited_with_who_and_the_chain_verifies(store_url, tmp_path):
    import contextvars

    contextvars.copy_context().run(_audited_changes, store_url)


def _audited_changes(store_url):
    act_as("ana", "admin")  # in this copied context only (an undo needs the admin role)
    store = _seeded(store_url)
    from geodata.store.curation_sql import CurationStore

    CurationStore(store).change_status("CM-XKX-0001", "disputed", "ana", "counts differ")
    store.undo_upload(int(store.list_uploads()["id"].max()), allow_bundled=True)
    entries = audit_sql.read(store)
    actions = [e["action"] for e in entries]
    assert actions[0] == "upload" and "status" in actions and actions[-1] == "undo"
    assert {e["who"] for e in entries} == {"ana"} and {e["role"] for e in entries} == {"admin"}
    status = next(e for e in entries if e["action"] == "status")
    assert json.loads(status["targets"]) == ["CM-XKX-0001"]
    versions = [e["data_version"] for e in entries]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    v = audit_sql.verify(store)
    assert v.ok and v.entries == len(entries) and v.head_hash == entries[-1]["hash"]
    store.close()


def test_the_log_refuses_updates_and_deletes(store_url):
    store = _seeded(store_url)
    store.close()
    with pytest.raises(Exception, match="append-only"):
        _raw(store_url, "UPDATE audit_log SET who = 'mallory'")
    with pytest.raises(Exception, match="append-only"):
        _raw(store_url, "DELETE FROM audit_log")


def _two_entries(store_url):
    store = _seeded(store_url)
    from geodata.store.curation_sql import CurationStore

    cs = CurationStore(store)
    cs.change_status("CM-XKX-0001", "disputed", "ana", "a")
    cs.change_status("CM-XKX-0002", "disputed", "ana", "b")
    cs.change_status("CM-XKX-0003", "disputed", "ana", "c")
    entries = audit_sql.read(store)
    store.close()
    _drop_triggers(store_url)
    return entries


@pytest.mark.parametrize("attack", ["edit", "delete", "insert", "reorder"])
def test_tampering_is_found_even_without_the_triggers(store_url, attack):
    entries = _two_entries(store_url)
    victim = entries[-2]
    if attack == "edit":
        _raw(store_url, "UPDATE audit_log SET who = 'mallory' WHERE id = ?", (victim["id"],))
        bad = victim["id"]
    elif attack == "delete":
        _raw(store_url, "DELETE FROM audit_log WHERE id = ?", (victim["id"],))
        bad = entries[-1]["id"]
    elif attack == "insert":  # a forged entry that links to its predecessor but not from its successor
        prev = entries[-3]
        h = audit_sql.entry_hash("2026-01-01T00:00:00+00:00", "mallory", "admin", "undo", "[]", 1, prev["hash"])
        _raw(store_url, "UPDATE audit_log SET id = id + 1000 WHERE id >= ?", (victim["id"],))
        _raw(store_url, "INSERT INTO audit_log (id, at, who, role, action, targets, data_version, prev_hash, hash) "
                        "VALUES (?, '2026-01-01T00:00:00+00:00', 'mallory', 'admin', 'undo', '[]', 1, ?, ?)",
             (victim["id"], prev["hash"], h))
        bad = victim["id"] + 1000
    else:  # swap two entries' contents by ids
        a, b = entries[-2], entries[-1]
        _raw(store_url, "UPDATE audit_log SET id = -1 WHERE id = ?", (a["id"],))
        _raw(store_url, "UPDATE audit_log SET id = ? WHERE id = ?", (a["id"], b["id"]))
        _raw(store_url, "UPDATE audit_log SET id = ? WHERE id = -1", (b["id"],))
        bad = a["id"]
    store = open_store(store_url)
    v = audit_sql.verify(store)
    store.close()
    assert not v.ok and v.first_bad == bad, v


def test_audit_command_lists_verifies_and_records_as(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFLICTMAP_")}
    env["CONFLICTMAP_DATA_DIR"] = str(tmp_path / "var")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "geodata", *args], cwd=REPO, env=env, capture_output=True,
                              text=True, timeout=120)

    assert run("verify", "CM-XKX-0004", "--status", "verified", "--note", "why", "--as", "ben").returncode == 0
    listed = run("audit", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    assert any(r["who"] == "ben" and r["action"] == "status" and r["targets"] == '["CM-XKX-0004"]' for r in rows)
    ok = run("audit", "--verify")
    assert ok.returncode == 0 and "intact" in ok.stdout
    db = tmp_path / "var" / "incidents.sqlite"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("UPDATE audit_log SET who = 'mallory' WHERE id = (SELECT MAX(id) FROM audit_log)")
    conn.close()
    broken = run("audit", "--verify")
    assert broken.returncode == 1 and "BROKEN at entry" in broken.stdout
    assert run("audit", "--since", "not-a-time").returncode == 2


def test_actor_defaults_to_the_os_user():
    import contextvars
    import getpass

    assert contextvars.Context().run(current_actor).who == getpass.getuser()
