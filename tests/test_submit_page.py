"""The Submit page: refuses without sign-in, signs in with the admin password (a growing pause after
failures), and with OpenID Connect (AppTest's st.user): a convener sees only their grants, a user with
no grant is told who to ask, admin_emails may write every partnership. Uploads: tests/test_oidc_browser.py."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from rsp_data import grants, schema
from rsp_data.auth import hash_password
from rsp_data.registry import registry
from rsp_data.store import init_store, make_engine
from ui import auth

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture()
def store(tmp_path, monkeypatch, as_server):
    url = f"sqlite:///{tmp_path}/submit.sqlite"
    engine = make_engine(url)
    init_store(engine, demo=True)
    monkeypatch.setenv("DATABASE_URL", url)
    for name in ("RSP_ADMIN_PASSWORD_HASH", "RSP_ADMIN_EMAILS", "RSP_ADMIN_CONTACT"):
        monkeypatch.delenv(name, raising=False)
    auth._failures.clear()  # failed attempts are counted across sessions: each test starts from none
    return engine


def open_submit(user: dict | None = None, secrets: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "dashboard.py"), default_timeout=60)
    if user is not None:
        at.user = user
    if secrets is not None:
        at.secrets.update(secrets)
    at.run()
    at.switch_page("pages/submit.py").run()
    return at


OIDC = {
    "auth": {
        "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
        "cookie_secret": "not used by AppTest",
        "client_id": "rsp",
        "client_secret": "not used by AppTest",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
    }
}


def signed_in(email: str, sub: str = "subject-1", **claims) -> dict:
    return {"is_logged_in": True, "email": email, "sub": sub, **claims}


def page_text(at: AppTest) -> str:
    return " ".join([m.value for m in at.markdown] + [e.value for e in at.error] + [i.value for i in at.info])


def sign_in(at: AppTest):
    (button,) = [b for b in at.button if b.label == "Sign in"]
    return button


def test_without_any_sign_in_configured_the_page_explains_and_accepts_nothing(store):
    at = open_submit()
    assert not at.exception
    text = " ".join(w.value for w in at.warning)
    assert "Submitting data is switched off" in text
    assert "RSP_ADMIN_PASSWORD_HASH" in text and "[auth]" in text
    assert len(at.get("file_uploader")) == 0
    assert len(at.text_input) == 0


def test_wrong_password_is_refused_and_nothing_is_offered(store, monkeypatch):
    monkeypatch.setenv("RSP_ADMIN_PASSWORD_HASH", hash_password(PASSWORD, iterations=1000))
    at = open_submit()
    assert len(at.get("file_uploader")) == 0
    assert [t.label for t in at.text_input] == ["Admin password"]  # no name to type: the identity is fixed
    at.text_input[0].input("not the password")
    sign_in(at).click().run()
    assert [e.value for e in at.error] == ["That password is not right."]
    assert len(at.get("file_uploader")) == 0


def test_failed_passwords_bring_a_growing_pause_and_the_right_one_resets_it(store, monkeypatch):
    monkeypatch.setenv("RSP_ADMIN_PASSWORD_HASH", hash_password(PASSWORD, iterations=1000))
    pauses: list[float] = []
    monkeypatch.setattr(auth, "time", type("Clock", (), {"sleep": staticmethod(pauses.append)}))
    at = open_submit()
    for _ in range(6):
        at.text_input[0].input("not the password")
        sign_in(at).click().run()
    assert pauses == [1.0, 2.0, 4.0]  # three free attempts, then 1 s, doubling (up to 30 s)
    # a new session (another tab) waits too: the count is the server's, not the session's
    other = open_submit()
    other.text_input[0].input(PASSWORD)
    sign_in(other).click().run()
    assert pauses == [1.0, 2.0, 4.0, 8.0]
    assert any("Signed in as **administrator (password)**" in m.value for m in other.markdown)
    assert auth._failures().pause() == 0.0  # the right password resets the count


def test_the_pause_is_capped():
    failures = auth._Failures()
    for _ in range(40):
        failures.record(False)
    assert failures.pause() == auth.MAX_PAUSE_SECONDS == 30.0


def test_the_password_check_is_constant_time(monkeypatch):
    import hmac

    from rsp_data import auth as password_auth

    compared = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(password_auth.hmac, "compare_digest", spy)
    encoded = hash_password(PASSWORD, iterations=1000)
    assert password_auth.verify_password(PASSWORD, encoded) is True
    assert password_auth.verify_password("wrong", encoded) is False
    assert compared == [(32, 32), (32, 32)]  # both answers come from hmac.compare_digest over the whole digest


def test_right_password_opens_the_upload_and_names_the_user(store, monkeypatch):
    monkeypatch.setenv("RSP_ADMIN_PASSWORD_HASH", hash_password(PASSWORD, iterations=1000))
    at = open_submit()
    at.text_input[0].input(PASSWORD)
    sign_in(at).click().run()
    assert not at.exception
    assert any(
        "Signed in as **administrator (password)**. You may submit every partnership's figures." in m.value
        for m in at.markdown
    )
    assert len(at.get("file_uploader")) == 1
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Template (Excel)", "Template (CSV)"]
    with store.connect() as conn:  # signing in imports nothing: the store holds only the demo's batches
        kinds = conn.execute(select(schema.import_batches.c.kind)).scalars().all()
    assert kinds and set(kinds) == {"demo"}


# ---------------------------------------------------------------- OpenID Connect (st.user as AppTest sets it)


def test_signed_out_the_page_offers_the_providers_sign_in(store):
    at = open_submit(user={"is_logged_in": False}, secrets=OIDC)
    assert not at.exception
    assert [b.label for b in at.button if b.label in ("Sign in", "Sign out")] == ["Sign in"]
    assert "Sign in with your organization's account" in page_text(at)
    assert len(at.get("file_uploader")) == 0 and len(at.text_input) == 0


def test_a_convener_sees_only_their_partnership(store):
    grants.grant(store, "Ana@Capital.org", ["capital-technology"], "test")
    at = open_submit(user=signed_in("ana@capital.ORG"), secrets=OIDC)
    assert not at.exception
    name = {p.id: p.name for p in registry().partnerships}["capital-technology"]
    assert f"Signed in as **ana@capital.org**. You may submit the figures of {name} (`capital-technology`)." in (
        page_text(at)
    )
    assert len(at.get("file_uploader")) == 1
    assert [b.proto.label for b in at.get("download_button")] == ["Template (Excel)", "Template (CSV)"]


def test_a_grant_to_the_subject_counts_too(store):
    grants.grant(store, "sub:Okta-00u1", ["eastern-healthcare"], "test")
    at = open_submit(user=signed_in("someone@eastern.org", sub="Okta-00u1"), secrets=OIDC)
    assert "You may submit the figures of" in page_text(at) and "(`eastern-healthcare`)" in page_text(at)
    assert len(at.get("file_uploader")) == 1


def test_an_unverified_email_is_not_used(store):
    grants.grant(store, "ana@capital.org", ["capital-technology"], "test")
    at = open_submit(user=signed_in("ana@capital.org", email_verified=False), secrets=OIDC)
    text = page_text(at)
    assert "You are signed in as **sub:subject-1**, but this account may not submit figures" in text
    assert len(at.get("file_uploader")) == 0


def test_a_user_with_no_grant_is_told_why_and_who_to_ask(store, monkeypatch):
    grants.grant(store, "ana@capital.org", ["capital-technology"], "test")
    at = open_submit(user=signed_in("bo@elsewhere.org"), secrets=OIDC)
    assert not at.exception
    (error,) = [e.value for e in at.error]
    assert error.startswith("You are signed in as **bo@elsewhere.org**, but this account may not submit figures")
    assert f"Ask {auth.DEFAULT_CONTACT}" in error
    assert len(at.get("file_uploader")) == 0 and len(at.get("download_button")) == 0
    assert [b.label for b in at.button if b.label == "Sign out"] == ["Sign out"]
    monkeypatch.setenv("RSP_ADMIN_CONTACT", "Jo Ruiz, jo.ruiz@ct.gov")
    at = open_submit(user=signed_in("bo@elsewhere.org"), secrets=OIDC)
    assert "Ask Jo Ruiz, jo.ruiz@ct.gov, and give them the account shown here." in at.error[0].value


def test_admin_emails_may_write_every_partnership_without_a_grant(store, monkeypatch):
    monkeypatch.setenv("RSP_ADMIN_EMAILS", "staff@ct.gov, other@ct.gov")
    at = open_submit(user=signed_in("Staff@CT.gov"), secrets=OIDC)
    assert "Signed in as **staff@ct.gov**. You may submit every partnership's figures." in page_text(at)
    assert len(at.get("file_uploader")) == 1


def test_signing_out_ends_the_session(store):
    grants.grant(store, "ana@capital.org", ["capital-technology"], "test")
    at = open_submit(user=signed_in("ana@capital.org"), secrets=OIDC)
    next(b for b in at.button if b.label == "Sign out").click().run()
    assert not at.exception
    assert len(at.get("file_uploader")) == 0
    assert [b.label for b in at.button if b.label in ("Sign in", "Sign out")] == ["Sign in"]


def test_the_data_pages_load_history_shows_the_signed_in_identity(store):
    from rsp_data.imports.apply import apply_import

    grants.grant(store, "ana@capital.org", ["capital-technology"], "test")
    writer = grants.Writer.acting_as("ana@capital.org")  # what the Submit page passes for this sign-in
    content = (
        b"rsp_id,month,employers_engaged,trainees_enrolled,trainees_completed,placements\n"
        b"capital-technology,2012-01,4,3,2,1\n"
    )
    apply_import(store, content, "ana.csv", writer.identity, writer=writer)
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "dashboard.py"), default_timeout=60).run()
    at.switch_page("pages/data.py").run()
    assert not at.exception
    (history,) = [d.value for d in at.dataframe if "loaded_by" in d.value.columns]
    assert history.iloc[0][["file_name", "loaded_by"]].tolist() == ["ana.csv", "ana@capital.org"]


def test_the_data_pages_load_history_shows_who_rolled_a_batch_back(store):
    from rsp_data.imports.apply import apply_import, rollback

    content = (
        b"rsp_id,month,employers_engaged,trainees_enrolled,trainees_completed,placements\n"
        b"capital-technology,2012-01,4,3,2,1\n"
    )
    batch = apply_import(store, content, "late.csv", "administrator (password)").batch_id
    rollback(store, batch, "staff@ct.gov")
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "dashboard.py"), default_timeout=60).run()
    at.switch_page("pages/data.py").run()
    assert not at.exception
    (history,) = [d.value for d in at.dataframe if "rolled_back_by" in d.value.columns]
    row = history[history["batch_id"] == batch].iloc[0]
    assert row["rolled_back_by"] == "staff@ct.gov" and pd.notna(row["rolled_back_at"])
    assert len(row["checksum"]) == 64
