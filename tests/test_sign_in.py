"""Sign-in and roles in the dashboard (issue 19, items 2 and 3), through AppTest.

* Sign-in required (CONFLICTMAP_AUTH=oidc, or any non-loopback address) but not configured: a page
  that says how to configure it, and no incident data at all.
* Configured but nobody signed in: a Sign in button, and still no data.
* Without sign-in the dashboard works as the local user with the role the store gives them: once the
  store lists a team without them, they are a viewer and the pages do not offer uploads.
"""

from __future__ import annotations

import contextvars
from pathlib import Path

import pytest

pytest.importorskip("streamlit.testing.v1")
from streamlit.testing.v1 import AppTest  # noqa: E402

from geodata.model.actor import os_user  # noqa: E402
from geodata.settings import Settings, auth_mode, get_settings  # noqa: E402

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
AUTH = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback", "cookie_secret": "s" * 32, "client_id": "cm",
        "client_secret": "x", "server_metadata_url": "http://127.0.0.1:1/.well-known/openid-configuration"}


def _texts(at: AppTest) -> str:
    parts = [e.value for kind in ("title", "text", "markdown", "caption", "info", "error", "warning")
             for e in getattr(at, kind)]
    parts += [e.value for e in at.sidebar.markdown]
    return "\n".join(str(p) for p in parts)


def _no_data(at: AppTest) -> None:
    text = _texts(at)
    assert "incidents" not in text.replace("incident map", "")
    assert "Banjska" not in text and not at.sidebar.markdown
    assert not at.get("component_instance") and not at.get("iframe")  # no map component, no arguments


def test_sign_in_required_but_not_configured_shows_how_and_no_data(clean_env):
    clean_env.setenv("CONFLICTMAP_AUTH", "oidc")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.title[0].value == "Sign-in is not configured"
    assert "[auth]" in at.text[0].value and "users add EMAIL" in at.text[0].value
    _no_data(at)


def test_configured_sign_in_asks_to_sign_in_before_any_data(clean_env):
    clean_env.setenv("CONFLICTMAP_AUTH", "oidc")
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets["auth"] = AUTH
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    _no_data(at)


def test_sign_in_is_required_off_loopback_unless_switched_off():
    base = get_settings({})
    assert auth_mode(base, "127.0.0.1") == "none" and auth_mode(base, "::1") == "none"
    assert auth_mode(base, "0.0.0.0") == "oidc" and auth_mode(base, "") == "oidc"
    assert auth_mode(Settings(**{**base.__dict__, "auth": "none"}), "0.0.0.0") == "none"
    assert auth_mode(Settings(**{**base.__dict__, "auth": "ocid"}), "127.0.0.1") == "oidc"  # a typo stays closed


def _team_without_me(settings) -> None:
    from geodata.store import open_store, users_sql

    store = open_store(settings.db_url)
    try:
        contextvars.copy_context().run(users_sql.add_user, store, "boss@example.org", "admin")
    finally:
        store.close()


def test_a_local_user_the_team_does_not_list_is_a_viewer_and_is_not_offered_uploads(clean_env):
    clean_env.setenv("CONFLICTMAP_AUTH", "none")  # whatever address an earlier AppTest left configured
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert any(f"Working as {os_user()} (admin)" in t.value for t in at.sidebar.text)  # one person's store
    _team_without_me(settings)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert any(f"Working as {os_user()} (viewer)" in t.value for t in at.sidebar.text)
    at.switch_page("views/upload.py").run()
    assert not at.exception
    assert any("Uploading incidents needs the analyst role" in i.value for i in at.info)
    assert not at.get("file_uploader")
    at.switch_page("views/map.py").run()
    assert not at.exception
