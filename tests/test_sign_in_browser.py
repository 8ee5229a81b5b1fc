"""Sign-in end to end in headless Chromium against a local OpenID Connect provider (issue 19, item 3).

``oidc-provider-mock`` serves the provider on loopback; the dashboard is served to "the network"
(CONFLICTMAP_AUTH=oidc) with ``[auth]`` in a secrets file of its own. A person signs in at the
provider, comes back signed in with the role the store's users table gives their e-mail (a viewer is
not offered uploads), signs out (through the provider's end-session page) and is asked to sign in
again; after the operator changes the cookie secret, the old session cookie no longer signs anyone in.
"""

from __future__ import annotations

import contextvars
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.test_browser_dashboard import CHROMIUM, CHROMIUM_ARGS, offline_router

REPO = Path(__file__).resolve().parents[1]
ADMIN, VIEWER = "ada@example.org", "vic@example.org"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(env: dict[str, str], port: int, secrets: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
         f"--secrets.files={secrets}"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(240):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
            return proc
        except OSError:
            time.sleep(0.25)
    proc.kill()
    raise AssertionError("the dashboard did not start")


def _secrets(path: Path, port: int, provider: int, cookie_secret: str) -> Path:
    path.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{cookie_secret}"\n'
        'client_id = "conflictmap"\nclient_secret = "test-secret"\n'
        f'server_metadata_url = "http://localhost:{provider}/.well-known/openid-configuration"\n',
        encoding="utf-8")
    return path


@pytest.fixture
def provider(monkeypatch):
    pytest.importorskip("oidc_provider_mock")
    from oidc_provider_mock import run_server_in_thread

    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")  # the provider runs in this process, over http
    with run_server_in_thread() as server:
        yield int(server.server_port)


def _sign_in(page, port: int, who: str) -> None:
    page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
    page.get_by_role("button", name="Sign in").click(timeout=60_000)
    page.locator('input[name="sub"]').first.fill(who, timeout=30_000)
    page.get_by_role("button", name="Authorize").click()
    page.get_by_test_id("stSidebarUserContent").get_by_text(f"Signed in as {who}").wait_for(timeout=60_000)


def test_sign_in_roles_sign_out_and_a_changed_cookie_secret(provider, tmp_path, adm2_path):
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is not installed (Debian package 'chromium'; scripts/setup.sh --system)")
    from playwright.sync_api import sync_playwright

    from geodata.model.actor import act_as
    from geodata.store import open_store, users_sql

    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFLICTMAP_")}
    env.update({"CONFLICTMAP_BOUNDARIES": str(adm2_path), "CONFLICTMAP_DATA_DIR": str(tmp_path / "var"),
                "CONFLICTMAP_AUTH": "oidc", "AUTHLIB_INSECURE_TRANSPORT": "1"})
    (tmp_path / "var").mkdir()
    store = open_store(f"sqlite:///{tmp_path / 'var' / 'incidents.sqlite'}")
    team = contextvars.copy_context()
    team.run(users_sql.add_user, store, ADMIN, "admin")
    team.run(lambda: (act_as(ADMIN), users_sql.add_user(store, VIEWER, "viewer")))
    store.close()

    port = _port()
    proc = _serve(env, port, _secrets(tmp_path / "secrets.toml", port, provider, "first-secret-" + "x" * 24))
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1440, "height": 900})
            context.route("**/*", offline_router([]))
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
            page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
            assert "incidents" not in page.inner_text("body")  # nothing of the data before sign-in

            _sign_in(page, port, VIEWER)
            assert f"Signed in as {VIEWER} (viewer)" in page.get_by_test_id("stSidebarUserContent").inner_text()
            page.locator('[data-testid="stTopNavLink"]', has_text="Upload").first.click()
            page.get_by_text("Uploading incidents needs the analyst role").wait_for(timeout=30_000)
            assert page.locator('input[type="file"]').count() == 0

            page.get_by_role("button", name="Sign out").click()
            # Streamlit ends the session at the provider too (its end-session page asks to confirm).
            page.wait_for_url(lambda u: u.startswith(f"http://localhost:{provider}/"), timeout=30_000)
            page.locator("form button[type=submit]").first.click(timeout=30_000)
            page.wait_for_url(lambda u: u.startswith(f"http://127.0.0.1:{port}/"), timeout=30_000)
            page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)

            _sign_in(page, port, ADMIN)
            assert f"Signed in as {ADMIN} (admin)" in page.get_by_test_id("stSidebarUserContent").inner_text()
            cookies = [c for c in context.cookies() if c["domain"] in ("127.0.0.1", "localhost")]
            assert any(c["name"].startswith("_streamlit_user") for c in cookies), cookies

            # The operator rotates the cookie secret: the same browser, same cookie, is asked to sign in again.
            proc.terminate()
            proc.wait(timeout=20)
            proc = _serve(env, port, _secrets(tmp_path / "secrets.toml", port, provider, "second-secret-" + "y" * 24))
            page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
            page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
            assert "Signed in as" not in page.inner_text("body")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
