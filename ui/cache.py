"""The app's two caches, both keyed by the store's URL and data version, so a new import shows at once:
`query` runs a function of queries/ (each caller gets a copy), `memo` a function of ui/views.py (shared,
read only; its queries go through `query`'s cache, so a view and a page share a result).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from ui.store import configured_url, data_version, engine, unavailable

T = TypeVar("T")
TTL = 300  # seconds: the data version already catches imports; this bounds a process's memory


def _name(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=512)
def _cached(url: str, version: str, name: str, _fn: Callable[..., Any], _engine: Engine, *args: Any, **kwargs: Any):
    del url, version, name  # the cache key only
    return _fn(_engine, *args, **kwargs)


def _run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A cached query that raises a database error (the views' runner, inside `_memo`)."""
    return _cached(configured_url(), data_version(), _name(fn), fn, engine(), *args, **kwargs)


def query(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a query function of `queries/` with the app's engine, cached by its arguments and the data version."""
    try:
        return _run(fn, *args, **kwargs)
    except SQLAlchemyError as exc:
        unavailable(exc)


# Shared, not copied (as st.cache_data would, for every figure and deck on each run): callers only read.
@st.cache_resource(ttl=TTL, max_entries=256, show_spinner=False)
def _memo(url: str, version: str, name: str, _fn: Callable[..., Any], *args: Any) -> Any:
    del url, version, name  # the cache key only
    return _fn(_run, *args)


def memo(fn: Callable[..., T], *args: Any) -> T:
    """Run a function of ui/views.py once per arguments and data version, shared by all sessions."""
    try:
        return _memo(configured_url(), data_version(), _name(fn), fn, *args)
    except SQLAlchemyError as exc:
        unavailable(exc)
