"""Who is writing (only the Submit page asks): Streamlit's OIDC sign-in where [auth] is configured, else
the single administrator's password; with neither, writing through the app is off. What each may write
is rsp_data/grants.py's: the store's grants, every partnership for admin_emails and the administrator.
"""

from __future__ import annotations

import os
import threading
import time

import streamlit as st

from rsp_data.auth import verify_password
from rsp_data.grants import Writer, writer_from_claims
from ui.store import secret

SIGNED_IN = "_admin_user"
ADMINISTRATOR = "administrator (password)"  # the password fallback's one identity, recorded on its batches
DEFAULT_CONTACT = "the state office that runs this dashboard (the Office of Workforce Strategy's data team)"
FREE_ATTEMPTS = 3
MAX_PAUSE_SECONDS = 30.0


def password_hash() -> str | None:
    """RSP_ADMIN_PASSWORD_HASH from the environment, else admin_password_hash from secrets."""
    return os.environ.get("RSP_ADMIN_PASSWORD_HASH") or secret("admin_password_hash")


def oidc_configured() -> bool:
    auth = secret("auth")
    return bool(auth) and "redirect_uri" in auth


def allowed_emails() -> set[str]:
    """admin_emails: state staff who may write every partnership without a grant in the store."""
    raw = os.environ.get("RSP_ADMIN_EMAILS") or secret("admin_emails") or ""
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    return {e.strip().lower() for e in items if e.strip()}


def admin_contact() -> str:
    """Who a signed-in user without a grant should ask (RSP_ADMIN_CONTACT / admin_contact)."""
    return str(os.environ.get("RSP_ADMIN_CONTACT") or secret("admin_contact") or DEFAULT_CONTACT)


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


def current_writer() -> Writer | None:
    """Who is signed in (None: nobody): an OIDC identity, or the password administrator."""
    if oidc_configured():
        if not st.user.is_logged_in:
            return None
        return writer_from_claims(st.user.to_dict(), allowed_emails())
    if st.session_state.get(SIGNED_IN):
        return Writer(ADMINISTRATOR, trusted=True)
    return None


def no_grant_notice(writer: Writer) -> None:
    """What a signed-in user who may write no partnership reads, and the way out."""
    st.error(
        f"You are signed in as **{writer.identity}**, but this account may not submit figures for any "
        "partnership yet. Each partnership's convener submits only their own partnership's figures, so an "
        f"administrator has to grant this account the partnership(s) you report for. Ask {admin_contact()}, "
        f"and give them the account shown here."
    )
    st.button("Sign out", on_click=sign_out)


def sign_in_form() -> None:
    """Draw the sign-in that fits the configuration (or the explanation when there is none)."""
    if oidc_configured():
        if st.user.is_logged_in:  # signed in, but the provider sent neither a usable e-mail nor a subject
            st.error(f"This sign-in did not say who you are, so it cannot submit figures. Ask {admin_contact()}.")
            st.button("Sign out", on_click=sign_out)
        else:
            st.info("Sign in with your organization's account to submit your partnership's figures.")
            st.button("Sign in", on_click=st.login, type="primary")
        return
    expected = password_hash()
    if not expected:
        st.warning(
            "Submitting data is switched off: no sign-in is configured. An administrator turns it on "
            "with either\n\n"
            "- an `[auth]` section in `.streamlit/secrets.toml` (OpenID Connect: Google, Microsoft, Okta…; "
            "then each convener needs a grant, `python -m rsp_data grant EMAIL RSP_ID`; state staff "
            '`--all` or `admin_emails = "a@x.gov,b@y.org"`), or\n'
            "- a password: run `python -m rsp_data hash-password` and put the result in the "
            "`RSP_ADMIN_PASSWORD_HASH` environment variable or as `admin_password_hash` in secrets.\n\n"
            "Until then this page accepts nothing; the command line (`python -m rsp_data import`) still works "
            "for whoever runs the server."
        )
        return
    with st.form("sign_in"):
        st.markdown(
            f"The administrator may submit every partnership's figures; each import is recorded as made by "
            f"the **{ADMINISTRATOR}**."
        )
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
            st.session_state[SIGNED_IN] = True
            st.rerun()
        else:
            st.error("That password is not right.")


def sign_out() -> None:
    if oidc_configured():
        st.logout()
    st.session_state.pop(SIGNED_IN, None)
