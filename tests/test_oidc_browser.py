"""Sign-in through a real OpenID Connect provider, in Chromium, and who may write what.

One provider and one app server for the module. The provider is oidc-provider-mock (PyPI): a Flask app
built on Authlib's authorization server, with discovery, the authorization code flow, client
registration (so the client secret is a real one it checks) and RS256-signed ID tokens; it runs in a
thread on a loopback port. The app is `streamlit run dashboard.py` (tests/browser_support.py) with a
test secrets file (`--secrets.files`) whose [auth] points at it, and admin_emails set. Chromium follows
the real redirects: the app's /auth/login, the provider's authorization form, the app's /oauth2callback
(which exchanges the code, with the client secret, for the signed ID token).

The grants in the store: ana@capital.org may write capital-technology; staff@ct.gov is in admin_emails;
cy@nowhere.org has none. The server's import limit is lowered (RSP_IMPORT_MAX_BYTES) to test it.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
import shutil
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright
from sqlalchemy import select

from rsp_data import grants, schema
from rsp_data.registry import registry
from rsp_data.store import make_engine
from tests.browser_support import (
    ARTIFACTS,
    KPI_VALUE,
    AppServer,
    free_port,
    full_page_screenshot,
    launch_chromium,
    wait_idle,
)

pytestmark = pytest.mark.browser

ANA, CY, STAFF = "ana@capital.org", "cy@nowhere.org", "staff@ct.gov"
IMPORT_LIMIT = 4000  # bytes: this server's RSP_IMPORT_MAX_BYTES
USER_COOKIE = "_streamlit_user"
TOKENS_COOKIE = "_streamlit_user_tokens"
BACKFILL = "2012-01"  # before every partnership's first demo month: the convener's row is new


@dataclass
class Site:
    app: AppServer
    provider: str
    client_secret: str
    cookie_secret: str

    @property
    def base(self) -> str:
        return self.app.base_url


def _json(method: str, url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


@pytest.fixture(scope="module")
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    import werkzeug.serving
    from oidc_provider_mock import User
    from oidc_provider_mock import app as provider_app

    users = [
        User(sub=e.split("@")[0], claims={"email": e, "email_verified": True, "name": e}) for e in (ANA, CY, STAFF)
    ]
    idp = werkzeug.serving.make_server(
        "127.0.0.1", free_port(), provider_app(require_client_registration=True, user_claims=users), threaded=True
    )
    threading.Thread(target=idp.serve_forever, daemon=True).start()
    provider = f"http://127.0.0.1:{idp.server_port}"

    app = AppServer(startup_timeout=90, env={"RSP_IMPORT_MAX_BYTES": str(IMPORT_LIMIT)})
    client = _json("POST", f"{provider}/oauth2/clients", {"redirect_uris": [f"{app.base_url}/oauth2callback"]})
    cookie_secret = secrets.token_urlsafe(32)
    folder = Path(tempfile.mkdtemp(prefix="rsp-oidc-"))
    secrets_file = folder / "secrets.toml"
    secrets_file.write_text(
        f'admin_emails = "{STAFF}"\n'
        f'admin_contact = "Jo Ruiz at the Office of Workforce Strategy"\n\n'
        "[auth]\n"
        f'redirect_uri = "{app.base_url}/oauth2callback"\n'
        f'cookie_secret = "{cookie_secret}"\n'
        f'client_id = "{client["client_id"]}"\n'
        f'client_secret = "{client["client_secret"]}"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
    )
    app.args = ("--secrets.files", str(secrets_file))
    failed_before = request.session.testsfailed
    try:
        app.start()
        engine = make_engine(app.db_url)
        grants.grant(engine, ANA, ["capital-technology"], "tests/test_oidc_browser.py")
        engine.dispose()
        yield Site(app, provider, client["client_secret"], cookie_secret)
    finally:
        app.stop()
        idp.shutdown()
        if request.session.testsfailed > failed_before:
            ARTIFACTS.mkdir(exist_ok=True)
            (ARTIFACTS / "streamlit-oidc.log").write_text(app.log())
            sys.__stderr__.write(f"\n---- streamlit log ----\n{app.log()[-20_000:]}\n---- end ----\n")
        app.cleanup()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(site: Site) -> Iterator[object]:
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, site: Site, request: pytest.FixtureRequest):
    """A fresh browser context: a new visitor with no cookies."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(30_000)
    failed_before = request.session.testsfailed
    yield tab
    if request.session.testsfailed > failed_before:
        ARTIFACTS.mkdir(exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}.png"))
    context.close()


# ---------------------------------------------------------------- steps a person takes


def main_text(page) -> str:
    return page.locator('[data-testid="stMain"]').inner_text()


def open_submit(page, site: Site) -> str:
    page.goto(f"{site.base}/submit")
    page.wait_for_selector("h1:has-text('Submit monthly figures')")
    page.wait_for_selector('[data-testid="stMain"] button')
    wait_idle(page)
    return main_text(page)


def sign_in(page, site: Site, sub: str) -> str:
    """Sign in through the provider's form as `sub`; returns the Submit page's text afterwards."""
    open_submit(page, site)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{site.provider}/oauth2/authorize**")
    page.fill("input[name=sub]", sub)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(f"{site.base}/")  # the app's callback sends the browser home, signed in
    wait_idle(page)
    return open_submit(page, site)


def download(page, label: str) -> bytes:
    with page.expect_download() as info:
        page.locator('[data-testid="stDownloadButton"] button', has_text=label).click()
    return Path(info.value.path()).read_bytes()


def upload(page, name: str, content: bytes) -> str:
    page.locator('[data-testid="stFileUploader"] input[type=file]').set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": content}]
    )
    page.wait_for_selector(
        '[data-testid="stMain"] :text("Check what will change"), [data-testid="stAlertContentError"]'
    )
    wait_idle(page)
    return main_text(page)


def csv_rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


def csv_bytes(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def figures(rsp_id: str, month: str, placements: int = 13) -> dict:
    return {
        "rsp_id": rsp_id,
        "month": month,
        "employers_engaged": "41",
        "trainees_enrolled": "23",
        "trainees_completed": "17",
        "placements": str(placements),
    }


def enrolled_kpi(page, site: Site, rsp_id: str) -> int:
    page.goto(f"{site.base}/?rsp={rsp_id}")
    page.wait_for_selector(KPI_VALUE)
    wait_idle(page)
    tile = page.locator('[data-testid="stMetric"]', has_text="enrolled").first
    return int(tile.locator(KPI_VALUE).inner_text().replace(",", ""))


def facts_of(site: Site, month: str) -> list[tuple[str, int]]:
    facts = schema.monthly_metrics
    engine = make_engine(site.app.db_url)
    try:
        with engine.connect() as conn:
            stmt = select(facts.c.rsp_id, facts.c.placements).where(facts.c.month == f"{month}-01")
            return sorted(tuple(r) for r in conn.execute(stmt))
    finally:
        engine.dispose()


def cookie(page, name: str) -> dict | None:
    return next((c for c in page.context.cookies() if c["name"] == name), None)


# ---------------------------------------------------------------- the tests


def test_a_convener_signs_in_and_submits_their_own_partnerships_figures(page, site):
    before = enrolled_kpi(page, site, "capital-technology")
    text = sign_in(page, site, "ana")
    name = {p.id: p.name for p in registry().partnerships}["capital-technology"]
    assert f"Signed in as {ANA}. You may submit the figures of {name} (capital-technology)." in text

    template = csv_rows(download(page, "Template (CSV)"))
    assert [r["rsp_id"] for r in template] == ["capital-technology"]  # only their partnership
    template[0].update(figures("capital-technology", BACKFILL))
    shown = upload(page, "capital-technology.csv", csv_bytes(template))
    assert "1 row(s) to add, 0 to change, 0 unchanged." in shown
    full_page_screenshot(page, ARTIFACTS / "submit-convener-preview.png")

    page.get_by_role("button", name="Import 1 row(s)").click()
    page.wait_for_selector('[data-testid="stAlertContentSuccess"]')
    assert "The dashboard now shows the new figures" in main_text(page)
    assert facts_of(site, BACKFILL) == [("capital-technology", 13)]
    assert enrolled_kpi(page, site, "capital-technology") == before + 23  # the dashboard changed

    engine = make_engine(site.app.db_url)
    with engine.connect() as conn:
        batches = schema.import_batches
        loaded_by = conn.execute(
            select(batches.c.loaded_by).where(batches.c.file_name == "capital-technology.csv")
        ).scalar_one()
    engine.dispose()
    assert loaded_by == ANA  # the history records the signed-in identity


def test_the_same_convener_is_refused_a_file_with_another_partnerships_row(page, site):
    sign_in(page, site, "ana")
    rows = [figures("capital-technology", "2012-02"), figures("southwest-technology", "2012-02")]
    shown = upload(page, "mixed.csv", csv_bytes(rows))
    assert "mixed.csv cannot be imported: 1 problem(s). Nothing was written." in shown
    full_page_screenshot(page, ARTIFACTS / "submit-refused-row.png")
    assert "Import" not in [b.inner_text() for b in page.get_by_role("button").all()]
    report = csv_rows(download(page, "Download this report (CSV)"))
    assert [(r["row"], r["column"], r["value"], r["reason"]) for r in report] == [
        (
            "3",
            "rsp_id",
            "southwest-technology",
            f"{ANA} may not write southwest-technology's figures: this account may write only capital-technology",
        )
    ]
    assert facts_of(site, "2012-02") == []


def test_a_user_with_no_grant_is_refused_and_told_who_to_ask(page, site):
    text = sign_in(page, site, "cy")
    assert f"You are signed in as {CY}, but this account may not submit figures for any partnership yet." in text
    assert "Ask Jo Ruiz at the Office of Workforce Strategy" in text
    full_page_screenshot(page, ARTIFACTS / "submit-no-grant.png")
    assert page.locator('[data-testid="stFileUploader"]').count() == 0
    assert page.locator('[data-testid="stDownloadButton"]').count() == 0


def test_admin_emails_may_submit_every_partnership(page, site):
    text = sign_in(page, site, "staff")
    assert f"Signed in as {STAFF}. You may submit every partnership's figures." in text
    template = csv_rows(download(page, "Template (CSV)"))
    assert sorted(r["rsp_id"] for r in template) == sorted(p.id for p in registry().partnerships)


def test_signing_out_ends_the_session(page, site):
    sign_in(page, site, "ana")
    assert cookie(page, USER_COOKIE) is not None
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{site.provider}/oauth2/end_session**")  # the provider's session ends too
    assert cookie(page, USER_COOKIE) is None and cookie(page, TOKENS_COOKIE) is None
    page.get_by_role("button", name="End session").click()
    page.wait_for_url(f"{site.base}/**")
    text = open_submit(page, site)
    assert "Signed in as" not in text
    assert page.get_by_role("button", name="Sign in").count() == 1


def _resigned(site: Site, value: str, age_days: float) -> str:
    """The identity cookie's payload signed again with the app's cookie secret, dated `age_days` ago."""
    from itsdangerous import TimestampSigner, URLSafeTimedSerializer

    class Dated(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - age_days * 86400)

    payload = URLSafeTimedSerializer(site.cookie_secret, salt=USER_COOKIE).loads(value)
    return URLSafeTimedSerializer(site.cookie_secret, salt=USER_COOKIE, signer=Dated).dumps(payload)


def _with_cookie(page, original: dict, value: str) -> None:
    page.context.add_cookies([{**original, "value": value}])


def test_a_tampered_or_expired_session_cookie_leads_back_to_sign_in(page, site):
    sign_in(page, site, "ana")
    original = cookie(page, USER_COOKIE)
    value = original["value"]

    # the same payload signed again today is accepted: the two refusals below are for the reasons named
    _with_cookie(page, original, _resigned(site, value, age_days=0))
    assert f"Signed in as {ANA}." in open_submit(page, site)

    payload, _, signature = value.rpartition(".")
    tampered = f"{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    other_identity = value.replace(value[:8], value[:7] + ("x" if value[7] != "x" else "y"), 1)
    expired = _resigned(site, value, age_days=32)  # Streamlit keeps a sign-in 30 days (+1 of grace)
    for forged in (tampered, other_identity, expired):
        _with_cookie(page, original, forged)
        text = open_submit(page, site)
        assert "Signed in as" not in text, forged
        assert page.get_by_role("button", name="Sign in").count() == 1
        assert page.locator('[data-testid="stFileUploader"]').count() == 0


def test_uploads_need_the_xsrf_token_and_are_capped_twice(page, site):
    sign_in(page, site, "ana")
    puts = []
    page.on("request", lambda r: puts.append(r) if r.method == "PUT" and "/_stcore/upload_file/" in r.url else None)
    rows = [
        figures("capital-technology", f"{year}-{month:02d}") for year in range(2000, 2010) for month in range(1, 13)
    ]
    content = csv_bytes(rows)
    assert IMPORT_LIMIT < len(content) < 1024 * 1024
    upload(page, "too-big.csv", content)  # the server takes it (under server.maxUploadSize), the import does not
    (problem,) = csv_rows(download(page, "Download this report (CSV)"))
    assert problem["reason"] == (
        f"the file is {len(content):,} bytes; the limit is {IMPORT_LIMIT:,} bytes. Split it by year."
    )

    (sent,) = puts
    token = sent.headers["x-xsrftoken"]
    target = sent.url.rsplit("/", 1)[0] + "/another-file"
    small = {"file": {"name": "x.csv", "mimeType": "text/csv", "buffer": b"rsp_id\n"}}
    assert page.request.put(target, multipart=small).status == 403  # no XSRF token: refused
    assert page.request.put(target, multipart=small, headers={"X-Xsrftoken": token + "x"}).status == 403
    assert page.request.put(target, multipart=small, headers={"X-Xsrftoken": token}).status == 204
    huge = {"file": {"name": "x.csv", "mimeType": "text/csv", "buffer": b"x" * (6 * 1024 * 1024)}}
    assert page.request.put(target, multipart=huge, headers={"X-Xsrftoken": token}).status == 413


def test_no_secret_or_token_reaches_the_log_or_the_pages(page, site):
    pages = [sign_in(page, site, "ana"), page.content()]
    from itsdangerous import URLSafeTimedSerializer

    tokens = json.loads(
        URLSafeTimedSerializer(site.cookie_secret, salt=TOKENS_COOKIE).loads(cookie(page, TOKENS_COOKIE)["value"])
    )
    assert set(tokens) == {"id_token", "access_token"}  # signed in with a real ID token
    refused = upload(page, "bad.csv", b"rsp_id,month\nnowhere,2099-99\n")
    pages += [refused, page.content()]
    page.context.add_cookies([{**cookie(page, USER_COOKIE), "value": "forged"}])
    pages += [open_submit(page, site), page.content()]
    log = site.app.log()
    for secret in (site.client_secret, site.cookie_secret, tokens["id_token"], tokens["access_token"]):
        assert secret not in log
        assert all(secret not in shown for shown in pages)
