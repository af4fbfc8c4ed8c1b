"""The Submit page: refuses without sign-in, signs in with the admin password, previews, imports."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from rsp_data import schema
from rsp_data.auth import hash_password
from rsp_data.store import init_store, make_engine

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture()
def store(tmp_path, monkeypatch, as_server):
    url = f"sqlite:///{tmp_path}/submit.sqlite"
    engine = make_engine(url)
    init_store(engine, demo=True)
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.delenv("RSP_ADMIN_PASSWORD_HASH", raising=False)
    return engine


def open_submit() -> AppTest:
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "dashboard.py"), default_timeout=60).run()
    at.switch_page("pages/submit.py").run()
    return at


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
    at.text_input[0].input("Ana")
    at.text_input[1].input("not the password")
    sign_in(at).click().run()
    assert [e.value for e in at.error] == ["That password is not right."]
    assert len(at.get("file_uploader")) == 0


def test_right_password_opens_the_upload_and_names_the_user(store, monkeypatch):
    monkeypatch.setenv("RSP_ADMIN_PASSWORD_HASH", hash_password(PASSWORD, iterations=1000))
    at = open_submit()
    at.text_input[0].input("Ana Convener")
    at.text_input[1].input(PASSWORD)
    sign_in(at).click().run()
    assert not at.exception
    assert any("Signed in as **Ana Convener (password)**" in m.value for m in at.markdown)
    assert len(at.get("file_uploader")) == 1
    labels = [b.proto.label for b in at.get("download_button")]
    assert labels == ["Template (Excel)", "Template (CSV)"]
    with store.connect() as conn:  # signing in imports nothing: the store holds only the demo's batches
        kinds = conn.execute(select(schema.import_batches.c.kind)).scalars().all()
    assert kinds and set(kinds) == {"demo"}
