"""Roles (issue 19, item 2): every change is checked where it is written, in its own transaction.

A role × action matrix on the store (SQLite and PostGIS): a viewer changes nothing, an analyst cannot
undo, sync or manage users, an admin can; a refused change leaves data, data version and audit log as
they were. The users table's own rules (first user an admin, never no admin) and the command line.
"""

from __future__ import annotations

import contextvars
import os
import subprocess
import sys
from pathlib import Path

import pytest

from geodata._errors import InputError, PermissionDenied
from geodata.model.actor import act_as, maintenance
from geodata.model.roles import ACTION_ROLE, ROLES, allows, needed_role
from geodata.store import audit_sql, open_store, users_sql
from geodata.store.curation_sql import CurationStore

REPO = Path(__file__).resolve().parents[1]
TEAM = {"admin": "ada@example.org", "analyst": "ana@example.org", "viewer": "vic@example.org"}


def test_the_role_table_orders_the_roles():
    """Each action is allowed from its least role up, and never below it."""
    for action, least in ACTION_ROLE.items():
        for role in ROLES:
            assert allows(role, action) == (ROLES.index(role) >= ROLES.index(least)), (role, action)
    assert not any(allows("viewer", a) for a in ACTION_ROLE)
    assert needed_role("duplicates-merge") == "analyst" and needed_role("no-such-action") == "admin"
    assert not allows("root", "upload")  # an unknown role may do nothing


@pytest.fixture
def team_store(store_url):
    """A store with the bundled incidents (seeded as upkeep) and a team of three."""
    from geodata.ingest.bundled import seed_bundled

    store = open_store(store_url)
    with maintenance():
        seed_bundled(store)
    users_sql.add_user(store, TEAM["admin"], "admin")  # the first user: allowed to anyone, must be an admin
    ctx = contextvars.copy_context()
    ctx.run(act_as, TEAM["admin"])
    for role in ("analyst", "viewer"):
        ctx.run(users_sql.add_user, store, TEAM[role], role)
    yield store
    store.close()


def _as(role: str, fn):
    """Run ``fn`` acting as the team member with ``role`` (their role comes from the users table)."""
    def run():
        act_as(TEAM[role])
        return fn()
    return contextvars.copy_context().run(run)


def _state(store):
    return store.data_version(), len(audit_sql.read(store)), store.count()


ACTIONS = {
    "status": lambda s: CurationStore(s).change_status("CM-XKX-0001", "disputed", "t", "counts differ"),
    "setting": lambda s: s.set_meta("note", "x"),
    "undo": lambda s: s.undo_upload(int(s.list_uploads()["id"].max()), allow_bundled=True),
    "users": lambda s: users_sql.add_user(s, "new@example.org", "viewer"),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", sorted(ACTIONS))
def test_role_by_action_matrix(team_store, role, action):
    before = _state(team_store)
    if allows(role, action):
        _as(role, lambda: ACTIONS[action](team_store))
        entry = audit_sql.read(team_store)[-1]
        assert (entry["who"], entry["role"], entry["action"]) == (TEAM[role], role, action)
    else:
        with pytest.raises(PermissionDenied, match=f"needs the {needed_role(action)} role"):
            _as(role, lambda: ACTIONS[action](team_store))
        assert _state(team_store) == before  # nothing changed, nothing logged


def test_anyone_not_listed_is_a_viewer_and_an_empty_table_means_one_persons_store(store_url):
    store = open_store(store_url)
    try:
        # No users: the local default, whoever acts is an admin.
        contextvars.copy_context().run(lambda: (act_as("someone"), store.set_meta("a", "1")))
        assert audit_sql.read(store)[-1]["role"] == "admin"
        contextvars.copy_context().run(lambda: users_sql.add_user(store, TEAM["admin"], "admin"))
        with pytest.raises(PermissionDenied):
            contextvars.copy_context().run(lambda: (act_as("someone"), store.set_meta("a", "2")))
        assert users_sql.role_of_user(store, "SOMEONE") == "viewer"
        assert users_sql.role_of_user(store, "Ada@Example.org") == "admin"  # e-mails compare case-folded
    finally:
        store.close()


def test_no_team_locks_itself_out(store_url):
    store = open_store(store_url)
    try:
        with pytest.raises(InputError, match="first user must be an admin"):
            users_sql.add_user(store, TEAM["viewer"], "viewer")
        users_sql.add_user(store, TEAM["admin"], "admin")
        as_admin = contextvars.copy_context()
        as_admin.run(act_as, TEAM["admin"])
        as_admin.run(users_sql.add_user, store, TEAM["analyst"], "analyst")
        with pytest.raises(InputError, match="last admin"):
            as_admin.run(users_sql.remove_user, store, TEAM["admin"])
        with pytest.raises(InputError, match="last admin"):
            as_admin.run(users_sql.add_user, store, TEAM["admin"], "viewer")
        with pytest.raises(InputError, match="not an e-mail"):
            as_admin.run(users_sql.add_user, store, "not an address", "viewer")
        assert as_admin.run(users_sql.remove_user, store, TEAM["analyst"]) is True
        assert [u["email"] for u in users_sql.list_users(store)] == [TEAM["admin"]]
        assert [e["action"] for e in audit_sql.read(store)].count("users") == 3
    finally:
        store.close()


def _cli(env, *args):
    return subprocess.run([sys.executable, "-m", "geodata", *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


def test_users_command_line(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFLICTMAP_")}
    env.update({"CONFLICTMAP_DATA_DIR": str(tmp_path / "var"), "CONFLICTMAP_DB": f"sqlite:///{tmp_path / 's.sqlite'}"})
    first = _cli(env, "users", "add", TEAM["admin"], "--role", "admin")
    assert first.returncode == 0 and f"added {TEAM['admin']} (admin)" in first.stdout
    refused = _cli(env, "--as", TEAM["viewer"], "users", "add", "x@example.org", "--role", "admin")
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        f"error: {TEAM['viewer']} (viewer) may not manage users: it needs the admin role"]
    assert _cli(env, "--as", TEAM["admin"], "users", "add", TEAM["analyst"], "--role", "analyst").returncode == 0
    listed = _cli(env, "users", "list")
    assert listed.returncode == 0 and [line.split()[:2] for line in listed.stdout.splitlines()] == [
        [TEAM["admin"], "admin"], [TEAM["analyst"], "analyst"]]
    assert _cli(env, "--as", TEAM["admin"], "users", "remove", "nobody@example.org").returncode == 1
    assert "users" in _cli(env, "audit").stdout
