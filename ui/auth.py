"""Who may write (only the Submit page asks): Streamlit's OIDC sign-in where [auth] is configured,
else an admin password; with neither, writing through the app is off.
"""

from __future__ import annotations

import os
import threading
import time

import streamlit as st

from rsp_data.auth import verify_password
from ui.store import secret

SIGNED_IN = "_admin_user"
FREE_ATTEMPTS = 3
MAX_PAUSE_SECONDS = 30.0


def password_hash() -> str | None:
    """RSP_ADMIN_PASSWORD_HASH from the environment, else admin_password_hash from secrets."""
    return os.environ.get("RSP_ADMIN_PASSWORD_HASH") or secret("admin_password_hash")


def oidc_configured() -> bool:
    auth = secret("auth")
    return bool(auth) and "redirect_uri" in auth


def allowed_emails() -> set[str]:
    raw = os.environ.get("RSP_ADMIN_EMAILS") or secret("admin_emails") or ""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    return {e.strip().lower() for e in items if e.strip()}


class _Failures:
    """Failed password attempts across every session: a new browser tab does not reset the pause."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    def pause(self) -> float:
        with self.lock:
            extra = self.count - FREE_ATTEMPTS
        return 0.0 if extra < 0 else min(2.0**extra, MAX_PAUSE_SECONDS)

    def record(self, ok: bool) -> None:
        with self.lock:
            self.count = 0 if ok else self.count + 1


@st.cache_resource
def _failures() -> _Failures:
    return _Failures()


def signed_in_user() -> str | None:
    """The name to record on a batch, or None when nobody allowed to write is signed in."""
    if oidc_configured():
        if not st.user.is_logged_in:
            return None
        email = str(st.user.get("email") or "").lower()
        allowed = allowed_emails()
        if allowed and email not in allowed:
            return None
        return email or str(st.user.get("name") or "signed-in user")
    return st.session_state.get(SIGNED_IN)


def sign_in_form() -> None:
    """Draw the sign-in that fits the configuration (or the explanation when there is none)."""
    if oidc_configured():
        if st.user.is_logged_in:
            st.error(f"{st.user.get('email', 'This account')} may not submit data. Ask an administrator to add it.")
            st.button("Sign out", on_click=st.logout)
        else:
            st.info("Sign in to submit data.")
            st.button("Sign in", on_click=st.login, type="primary")
        return
    expected = password_hash()
    if not expected:
        st.warning(
            "Submitting data is switched off: no sign-in is configured. An administrator turns it on "
            "with either\n\n"
            "- an `[auth]` section in `.streamlit/secrets.toml` (OpenID Connect: Google, Microsoft, Okta…; "
            'optionally `admin_emails = "a@x.gov,b@y.org"`), or\n'
            "- a password: run `python -m rsp_data hash-password` and put the result in the "
            "`RSP_ADMIN_PASSWORD_HASH` environment variable or as `admin_password_hash` in secrets.\n\n"
            "Until then this page accepts nothing; the command line (`python -m rsp_data import`) still works "
            "for whoever runs the server."
        )
        return
    with st.form("sign_in"):
        name = st.text_input("Your name (recorded with each import)", max_chars=80)
        password = st.text_input("Admin password", type="password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        failures = _failures()
        pause = failures.pause()
        if pause:
            with st.spinner(f"Too many failed attempts: waiting {pause:.0f} s"):
                time.sleep(pause)
        ok = verify_password(password, expected)
        failures.record(ok)
        if ok:
            st.session_state[SIGNED_IN] = f"{name.strip() or 'admin'} (password)"
            st.rerun()
        else:
            st.error("That password is not right.")


def sign_out() -> None:
    if oidc_configured():
        st.logout()
    st.session_state.pop(SIGNED_IN, None)
