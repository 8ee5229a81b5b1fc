"""Who is using the dashboard, and what their role lets the pages offer.

Sign-in is Streamlit's own (``st.login``, OIDC; ``[auth]`` in ``.streamlit/secrets.toml``), required
when :func:`geodata.settings.auth_mode` says ``oidc``: by default whenever the dashboard serves on an
address other than loopback. Without sign-in the dashboard is one person's: it acts as the local
operating-system user. Either way the name is set as this session's actor (:mod:`geodata.model.actor`), so
every change is checked against the role the store's ``users`` table gives it and recorded in the
audit log; the pages only hide what the role may not do — the store is the guard (:mod:`geodata.model.roles`).

With sign-in required but not configured, :func:`gate` shows how to configure it and stops the page
before any incident is read: nothing in the page, the component arguments or static files.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from geodata.model.actor import act_as, os_user
from geodata.model.roles import ROLE_TEXT, allows
from geodata.settings import Settings, auth_mode

#: How to switch sign-in on, shown when it is required but not configured.
HOW_TO_CONFIGURE = """Sign-in is required because this dashboard is served to the network (or CONFLICTMAP_AUTH=oidc).
Configure an OpenID Connect provider in .streamlit/secrets.toml:

[auth]
redirect_uri = "https://YOUR-HOST/oauth2callback"
cookie_secret = "a long random string"
client_id = "…"
client_secret = "…"
server_metadata_url = "https://YOUR-PROVIDER/.well-known/openid-configuration"

then add people with:  python -m geodata users add EMAIL --role viewer|analyst|admin
(or serve on 127.0.0.1 only, or set CONFLICTMAP_AUTH=none, for a dashboard that is one person's)."""


@dataclass(frozen=True)
class User:
    """The person using this session: ``who`` (e-mail or OS user), their ``role``, and whether they signed in."""

    who: str
    role: str
    signed_in: bool

    def may(self, action: str) -> bool:
        """Whether the role allows ``action`` (see :data:`geodata.model.roles.ACTION_ROLE`)."""
        return allows(self.role, action)


def _auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: Streamlit raises its own not-found error
        return False


def gate(settings: Settings) -> str:
    """Make sure the person is allowed in; returns who they are (also set as this session's actor).

    Stops the page (``st.stop``) with a sign-in button, or with how to configure sign-in, before
    anything else is drawn.
    """
    if auth_mode(settings, str(st.get_option("server.address") or "")) == "none":
        who = os_user()
    else:
        if not _auth_configured():
            st.title("Sign-in is not configured")
            st.text(HOW_TO_CONFIGURE)
            st.stop()
        if not st.user.get("is_logged_in", False):
            st.title("conflictmap")
            st.text("Sign in to see the incident map.")
            st.button("Sign in", type="primary", on_click=st.login)
            st.stop()
        who = str(st.user.get("email") or "")
        if not who:
            st.error("Your sign-in did not give an e-mail address; ask an admin to check the provider settings.")
            st.button("Sign out", on_click=st.logout)
            st.stop()
    act_as(who)
    return who


def current_user(settings: Settings, who: str) -> User:
    """``who`` with the role the store gives them (see :func:`dashboard.data.role_of`)."""
    from dashboard import data

    return User(who, data.role_of(settings, who), auth_mode(settings, str(st.get_option("server.address") or ""))
                != "none")


def sidebar_badge(user: User) -> None:
    """"Signed in as … (role)" and Sign out, at the bottom of the sidebar (plain text: names are user data)."""
    with st.sidebar:
        st.divider()
        st.text(f"{'Signed in as' if user.signed_in else 'Working as'} {user.who} ({user.role}): "
                f"{ROLE_TEXT.get(user.role, 'look')}")
        if user.signed_in:
            st.button("Sign out", key="sign_out", on_click=st.logout)


def refuse(user: User, action: str, what: str) -> None:
    """Say (plain text) that ``user``'s role does not allow ``what``."""
    from geodata.model.roles import needed_role

    st.info(f"{what} needs the {needed_role(action)} role; you work as {user.who} ({user.role}). "
            "An admin can change your role: python -m geodata users add EMAIL --role …", icon=":material/lock:")


def user() -> User:
    """This rerun's user (set by the entry point; a page run on its own works as the local user)."""
    found = st.session_state.get("_cm_user")
    if isinstance(found, User):
        return found
    from geodata.settings import get_settings

    return current_user(get_settings(), os_user())
