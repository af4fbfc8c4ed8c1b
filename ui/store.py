"""The metrics store as the app sees it: its engine, its data version, and what a page says when
the store stops answering. Nothing runs at import time.
"""

from __future__ import annotations

import functools
import os
from datetime import UTC, datetime
from typing import NoReturn

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from queries.data import data_version as read_data_version
from rsp_data.store import DEFAULT_SQLITE_PATH, StoreNotReady, database_url, is_default, open_store

RETRY_SECONDS = 10
_VERSION = "_data_version"


def secret(name: str):
    """A value from .streamlit/secrets.toml, or None (also when there is no secrets file)."""
    try:
        return st.secrets.get(name)
    except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
        return None


def configured_url() -> str:
    """DATABASE_URL from the environment, else from .streamlit/secrets.toml, else the embedded default."""
    return database_url(None) if os.environ.get("DATABASE_URL") else database_url(_secret_url())


@functools.cache
def _secret_url() -> str | None:
    # Once per process: Streamlit looks for and parses the secrets file on every access.
    return secret("DATABASE_URL")


@st.cache_resource(show_spinner="Opening the metrics store…")
def _engine_for(url: str) -> Engine:
    return open_store(url)


def engine() -> Engine:
    """The store's engine, or a plain message and a stopped page when the store cannot be used."""
    try:
        return _engine_for(configured_url())
    except StoreNotReady as exc:
        st.error(f"The metrics store is not ready. {exc}")
        st.stop()
        raise AssertionError("unreachable") from exc
    except SQLAlchemyError as exc:
        unavailable(exc)


def _read_version(eng: Engine) -> str:
    try:
        version = read_data_version(eng)
    except SQLAlchemyError as exc:
        unavailable(exc)
    _outage().pop("since", None)
    return version


def refresh_data_version() -> None:
    """Read the store's data version once per run (dashboard.py calls this before the page)."""
    st.session_state[_VERSION] = _read_version(engine())


def data_version() -> str:
    """The store's data version in this run: part of every cache key, so an import shows at once."""
    version = st.session_state.get(_VERSION)
    return version if version is not None else _read_version(engine())


@st.cache_resource
def _outage() -> dict[str, datetime]:
    """When the store stopped answering ("since"), shared by every session of this process."""
    return {}


def unavailable(exc: SQLAlchemyError) -> NoReturn:
    """Say plainly that the data is unavailable and since when, then check again until it is back."""
    since = _outage().setdefault("since", datetime.now(UTC))  # dict.setdefault is atomic: the first failure wins
    damaged = any(sign in str(exc).lower() for sign in ("file is not a database", "malformed"))
    if damaged and is_default(configured_url()):
        st.error(
            f"The metrics data is unavailable since {since:%d %b %Y, %H:%M} UTC: the embedded store file "
            f"`{DEFAULT_SQLITE_PATH.name}` is damaged. To rebuild it, stop the app, move the file aside "
            "(`mv var/rsp_metrics.sqlite var/rsp_metrics.sqlite.damaged`) and start the app again: it "
            "creates a fresh store with the illustrative data; then re-import any real figures "
            "(`python -m rsp_data import FILE`)."
        )
    else:
        st.error(
            f"The metrics data is unavailable since {since:%d %b %Y, %H:%M} UTC: the database could not "
            f"be reached ({exc.__class__.__name__}). This page checks again every {RETRY_SECONDS} seconds "
            "and shows the data as soon as the database is back."
        )
    _retry_when_back()
    st.stop()
    raise AssertionError("unreachable")


@st.fragment(run_every=RETRY_SECONDS)
def _retry_when_back() -> None:
    """Runs every few seconds while the store is down; reruns the whole page once it answers."""
    try:
        _engine_for.clear()
        read_data_version(_engine_for(configured_url()))
    except (SQLAlchemyError, StoreNotReady):
        return
    _outage().pop("since", None)
    st.rerun(scope="app")
