"""Streamlit glue: the engine, cached queries, the shared sidebar filters and URL state.

Pages import from here; they never build SQL. Nothing runs at import time.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar

import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from queries import registry as registry_q
from queries.filters import FILTER_PARAMS, Filters, parse_filters, shown, to_params
from rsp_data.store import DEFAULT_SQLITE_PATH, StoreNotReady, database_url, is_default, open_store
from ui.format import month_name

T = TypeVar("T")

_INITIALISED = "_filters_from_url_applied"
_NOTICES = "_url_notices"
KEY_REGION, KEY_SECTOR, KEY_RSP, KEY_MONTHS = "f_region", "f_sector", "f_rsp", "f_months"
KEY_RSP_SEARCH = "f_rsp_search"


def configured_url() -> str:
    """DATABASE_URL from the environment, else from .streamlit/secrets.toml, else the embedded default."""
    return database_url(None) if os.environ.get("DATABASE_URL") else database_url(_secret_url())


@functools.cache
def _secret_url() -> str | None:
    # Read once per process: Streamlit looks for and parses the secrets file on every access,
    # which showed up as a tenth of a page run's CPU under load (docs/benchmarks.md).
    try:
        return st.secrets.get("DATABASE_URL")
    except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
        return None


@st.cache_resource(show_spinner="Opening the metrics store…")
def _engine_for(url: str) -> Engine:
    return open_store(url)


def engine() -> Engine:
    """The store's engine, or a plain message and a stopped page when the store cannot be used."""
    url = configured_url()
    try:
        eng = _engine_for(url)
    except StoreNotReady as exc:
        st.error(f"The metrics store is not ready. {exc}")
        st.stop()
        raise AssertionError("unreachable") from exc
    except SQLAlchemyError as exc:
        unavailable(exc)
    return eng


class _Outage:
    """When the store stopped answering, shared by every session of this process."""

    def __init__(self) -> None:
        self.since: datetime | None = None
        self.lock = threading.Lock()

    def failed(self) -> datetime:
        with self.lock:
            if self.since is None:
                self.since = datetime.now(UTC)
            return self.since

    def recovered(self) -> None:
        with self.lock:
            self.since = None


@st.cache_resource
def _outage() -> _Outage:
    return _Outage()


RETRY_SECONDS = 10


def _is_damaged_file(exc: SQLAlchemyError) -> bool:
    text = str(exc).lower()
    return "file is not a database" in text or "malformed" in text


def unavailable(exc: SQLAlchemyError) -> NoReturn:
    """Say plainly that the data is unavailable and since when, then check again until it is back."""
    since = _outage().failed()
    if _is_damaged_file(exc) and is_default(configured_url()):
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
    from queries.data import data_version

    url = configured_url()
    try:
        _engine_for.clear()
        data_version(_engine_for(url))
    except (SQLAlchemyError, StoreNotReady):
        return
    _outage().recovered()
    st.rerun(scope="app")


@st.cache_data(ttl=300, show_spinner=False, max_entries=512)
def _cached(name: str, url: str, _fn: Callable[..., Any], _engine: Engine, *args: Any, **kwargs: Any) -> Any:
    del name, url  # part of the cache key only
    return _fn(_engine, *args, **kwargs)


def query(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a query function from `queries/` with the app's engine, cached by its arguments and
    by the store's data version, so an import (from the page or the command line) shows at once."""
    eng = engine()
    version = st.session_state.get("_data_version")
    if version is None:
        version = _data_version(eng)
    try:
        return _cached(f"{fn.__module__}.{fn.__qualname__}@{version}", configured_url(), fn, eng, *args, **kwargs)
    except SQLAlchemyError as exc:
        unavailable(exc)


def _query_raising(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`query` for ui/views.py inside `_memo`: a database error propagates to `memo`, which says
    the data is unavailable outside the cached function."""
    version = st.session_state.get("_data_version") or _data_version(engine())
    return _cached(f"{fn.__module__}.{fn.__qualname__}@{version}", configured_url(), fn, engine(), *args, **kwargs)


@st.cache_resource(ttl=300, max_entries=256, show_spinner=False)
def _memo(name: str, url: str, _fn: Callable[..., Any], *args: Any) -> Any:
    del name, url  # part of the cache key only
    return _fn(_query_raising, *args)


def memo(fn: Callable[..., T], *args: Any) -> T:
    """Run a function of ui/views.py once per arguments and data version, shared by all sessions.

    It runs its queries through the query cache, so it shares their results with the pages (and with
    other views). Results are shared objects, not copies: callers only read them."""
    eng = engine()
    version = st.session_state.get("_data_version") or _data_version(eng)
    try:
        return _memo(f"{fn.__module__}.{fn.__qualname__}@{version}", configured_url(), fn, *args)
    except SQLAlchemyError as exc:
        unavailable(exc)


class _Recent:
    """Small values derived from cached queries, shared by every session of this process.

    A hit is one dict lookup under a lock: Streamlit's own caches hash their arguments and copy
    their results on every call, which a page run pays several times over (docs/benchmarks.md).
    Keys carry the store's URL and data version; entries also expire like the query cache (TTL)
    and the oldest go first beyond `size`. Values are shared: callers only read them."""

    def __init__(self, size: int = 1024, ttl: float = 300.0) -> None:
        self.size, self.ttl = size, ttl
        self.items: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        now = time.monotonic()
        with self.lock:
            hit = self.items.get(key)
            if hit is not None and now - hit[0] < self.ttl:
                self.items.move_to_end(key)
                return hit[1]
        value = make()  # outside the lock: a miss may run queries
        with self.lock:
            self.items[key] = (now, value)
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)
        return value


_RECENT = _Recent()


def shared(name: str, make: Callable[[], T], *args: Hashable) -> T:
    """`make()` once per (name, args, store, data version) in this process; see _Recent."""
    version = st.session_state.get("_data_version") or _data_version(engine())
    return _RECENT.get((name, configured_url(), version, *args), make)


def _data_version(eng: Engine) -> str:
    from queries.data import data_version

    try:
        version = data_version(eng)
    except SQLAlchemyError as exc:
        unavailable(exc)
    _outage().recovered()
    return version


def refresh_data_version() -> None:
    """Read the store's data version once per run (dashboard.py calls this before the page)."""
    st.session_state["_data_version"] = _data_version(engine())


# ---------------------------------------------------------------- filters


def _options() -> dict[str, Any]:
    """Filter choices; read once per script run (the sidebar and every menu link need them)."""
    options = st.session_state.get("_options_this_run")
    if options is None:
        options = st.session_state["_options_this_run"] = shared("options", _read_options)
    return options


def begin_run() -> None:
    """dashboard.py calls this first on every run: per-run memos start empty."""
    st.session_state.pop("_options_this_run", None)


# Up to this many partnerships the sidebar lists them all; beyond it (a national store) it
# offers a search box and lists only the matches, and nothing loads the whole registry.
MANY_PARTNERSHIPS = 300
SEARCH_LIMIT = 50


def _read_options() -> dict[str, Any]:
    regions = query(registry_q.region_list)
    sectors = query(registry_q.sector_list)
    count = query(registry_q.partnership_count)
    partnerships = query(registry_q.partnership_list) if count <= MANY_PARTNERSHIPS else None
    first, last = query(registry_q.month_bounds)
    return {
        "regions": dict(zip(regions["region_id"], regions["name"], strict=True)),
        "sectors": dict(zip(sectors["sector_id"], sectors["name"], strict=True)),
        "partnerships": partnerships,  # None when there are too many to list
        "partnership_count": count,
        # The sidebar narrows the partnership choices on every run: plain tuples, no pandas there.
        "partnership_places": []
        if partnerships is None
        else [
            (str(rsp), str(region), str(sector))
            for rsp, region, sector in zip(
                partnerships["rsp_id"], partnerships["region_id"], partnerships["sector_id"], strict=True
            )
        ],
        "partnership_names": {}
        if partnerships is None
        else dict(zip(partnerships["rsp_id"], partnerships["name"], strict=True)),
        "first": first,
        "last": last,
    }


def known_partnerships(opts: dict[str, Any], requested: list[str]) -> list[str]:
    """Which of the requested ids are partnerships (a lookup of those ids alone at scale)."""
    if opts["partnerships"] is not None:
        return list(opts["partnerships"]["rsp_id"])
    wanted = tuple(sorted({r for r in requested if isinstance(r, str) and len(r) <= 60}))
    return list(query(registry_q.partnership_list, wanted)["rsp_id"]) if wanted else []


def partnership_names(ids) -> dict[str, str]:
    """Display names of these partnerships."""
    opts = _options()
    plist = opts["partnerships"]
    if plist is None:
        plist = query(registry_q.partnership_list, tuple(sorted(ids)))
    return dict(zip(plist["rsp_id"], plist["name"], strict=True))


def outlined_regions() -> set[str]:
    """Regions the map can draw (the committed GeoJSON has Connecticut's five)."""
    from ui.charts import region_shapes

    return {f["properties"]["region_id"] for f in region_shapes()["features"] if f["properties"]["kind"] == "region"}


def _months_between(first: str, last: str) -> list[str]:
    y, m = map(int, first.split("-"))
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _apply_url_once(opts: dict[str, Any]) -> None:
    """On a session's first run, the link's parameters set the filters; afterwards the widgets rule."""
    if st.session_state.get(_INITIALISED):
        return
    params = {name: st.query_params.get_all(name) for name in FILTER_PARAMS}
    filters, notices = parse_filters(
        params,
        regions=opts["regions"],
        sectors=opts["sectors"],
        partnerships=known_partnerships(opts, params.get("rsp", [])),
        first_month=opts["first"],
        last_month=opts["last"],
    )
    st.session_state[KEY_REGION] = list(filters.regions)
    st.session_state[KEY_SECTOR] = list(filters.sectors)
    st.session_state[KEY_RSP] = list(filters.partnerships)
    if opts["first"]:
        st.session_state[KEY_MONTHS] = (filters.month_from or opts["first"], filters.month_to or opts["last"])
    st.session_state[_NOTICES] = notices
    st.session_state[_INITIALISED] = True


def url_filters() -> tuple[Filters, list[str]]:
    """Filters read from the URL alone (presenter mode draws no sidebar), with notices for bad values."""
    opts = _options()
    params = {name: st.query_params.get_all(name) for name in FILTER_PARAMS}
    return parse_filters(
        params,
        regions=opts["regions"],
        sectors=opts["sectors"],
        partnerships=known_partnerships(opts, params.get("rsp", [])),
        first_month=opts["first"],
        last_month=opts["last"],
    )


def presenting() -> bool:
    """`?present=1` opens the chrome-free presenter view, on any page, keeping the filters."""
    return st.query_params.get("present") == "1"


def _reset() -> None:
    st.session_state[KEY_REGION] = []
    st.session_state[KEY_SECTOR] = []
    st.session_state[KEY_RSP] = []
    st.session_state.pop(KEY_MONTHS, None)
    st.session_state[_NOTICES] = []
    st.session_state[KEY_RSP_SEARCH] = ""


def sidebar_filters() -> Filters:
    """Draw the shared filters in the sidebar, keep them in the URL, and return them."""
    opts = _options()
    _apply_url_once(opts)
    regions, sectors = opts["regions"], opts["sectors"]
    with st.sidebar:
        st.header("Filters")
        chosen_regions = st.multiselect(
            "Regions", list(regions), format_func=regions.get, key=KEY_REGION, placeholder="All regions"
        )
        chosen_sectors = st.multiselect(
            "Sectors", list(sectors), format_func=sectors.get, key=KEY_SECTOR, placeholder="All sectors"
        )
        # Offer the partnerships inside the chosen regions and sectors, and keep any already chosen.
        already = st.session_state.get(KEY_RSP, [])
        if opts["partnerships"] is not None:
            visible = [
                rsp
                for rsp, region, sector in opts["partnership_places"]
                if (not chosen_regions or region in chosen_regions) and (not chosen_sectors or sector in chosen_sectors)
            ]
            names = opts["partnership_names"]
            rsp_options = list(dict.fromkeys([*visible, *already]))
            placeholder = "All partnerships"
        else:  # thousands: search first, then pick among the matches
            text = st.text_input(
                "Find partnerships",
                key=KEY_RSP_SEARCH,
                placeholder=f"Search {opts['partnership_count']:,} by name or id",
                help=f"The list below offers the first {SEARCH_LIMIT} matches by name.",
            )
            found = query(
                registry_q.search_partnerships, text, tuple(chosen_regions), tuple(chosen_sectors), SEARCH_LIMIT
            )
            names = {**partnership_names(tuple(already)), **dict(zip(found["rsp_id"], found["name"], strict=True))}
            rsp_options = list(dict.fromkeys([*already, *found["rsp_id"]]))
            placeholder = "All partnerships" if found.empty or not text.strip() else f"Pick from {len(found)} matches"
        chosen_rsps = st.multiselect(
            "Partnerships", rsp_options, format_func=names.get, key=KEY_RSP, placeholder=placeholder
        )
        month_from = month_to = None
        if opts["first"]:
            months = _months_between(opts["first"], opts["last"])
            if KEY_MONTHS not in st.session_state:
                st.session_state[KEY_MONTHS] = (months[0], months[-1])
            # `value` must be a pair: it tells Streamlit this is a range slider even when the
            # frontend re-sends the widget's default on page switches. The URL's months, set in
            # session state on the first run, take precedence over it.
            month_from, month_to = st.select_slider(
                "Months", options=months, value=(months[0], months[-1]), key=KEY_MONTHS, format_func=month_name
            )
        st.button("Reset filters", on_click=_reset, width="stretch")
        st.caption("The address bar keeps these filters: copy the link to share exactly this view.")

    filters = Filters(
        regions=tuple(chosen_regions),
        sectors=tuple(chosen_sectors),
        partnerships=tuple(chosen_rsps),
        month_from=month_from,
        month_to=month_to,
    )
    _write_url(filters, opts["first"], opts["last"])
    return filters


def filter_params(filters: Filters) -> dict[str, list[str]]:
    """The URL parameters that reproduce `filters` (defaults left out)."""
    opts = _options()
    return to_params(filters, first_month=opts["first"], last_month=opts["last"])


def _write_url(filters: Filters, first: str | None, last: str | None) -> None:
    wanted = to_params(filters, first_month=first, last_month=last)
    for name in FILTER_PARAMS:
        if name in wanted:
            if st.query_params.get_all(name) != wanted[name]:
                st.query_params[name] = wanted[name]
        elif name in st.query_params:
            del st.query_params[name]


def show_url_notices() -> None:
    """Say once, on the page the link opened, which of its parameters were ignored."""
    for notice in st.session_state.pop(_NOTICES, []):
        st.warning(notice, icon="⚠️")


# ---------------------------------------------------------------- page parameters


def url_choice(
    widget: Callable[..., T],
    label: str,
    options: Sequence[T],
    *,
    param: str,
    default: T,
    format_func: Callable[[T], str] = str,
    **kwargs: Any,
) -> T:
    """A single-choice widget whose value also lives in the URL as `param` (absent = default)."""
    key = f"p_{param}"
    if key not in st.session_state:
        raw = st.query_params.get(param)
        if raw is not None and raw not in options:
            st.warning(f"Ignored “{param}={shown(raw)}” in the link: not one of the choices here.", icon="⚠️")
        st.session_state[key] = raw if raw in options else default
    value = widget(label, options, key=key, format_func=format_func, **kwargs)
    if value != default:
        if st.query_params.get(param) != value:
            st.query_params[param] = value
    elif param in st.query_params:
        del st.query_params[param]
    return value


def filters() -> Filters:
    """The filters the sidebar set in this run (dashboard.py draws the sidebar before the page)."""
    ensure_routed()
    return st.session_state["_filters"]


def ensure_routed() -> None:
    """Every page calls this first (via filters()) so it never runs without dashboard.py."""
    if "_filters" not in st.session_state:
        # The page was run without dashboard.py: a server's very first request was a page URL
        # (e.g. a shared /map link), and Streamlit, seeing a pages/ folder, ran the page alone in
        # its legacy mode. Declaring the navigation switches the process to dashboard.py's
        # routing; the rerun then draws this same page with the sidebar and filters.
        from ui import routes

        st.navigation(routes.pages(), position="hidden")
        st.rerun()


def page_header(title: str, filters: Filters, as_of_label: str | None = None) -> None:
    """Title, the 'as of' month, what the filters cover, and the illustrative-data label."""
    st.title(title)
    bits = []
    if as_of_label:
        bits.append(f"**As of {month_name(as_of_label)}**")
    bits.append(describe(filters))
    share = illustrative(filters)
    badge = ""
    if share > 0:
        badge = ":orange-badge[Illustrative data] " if share >= 1 else f":orange-badge[{share:.0%} illustrative data] "
    st.markdown(badge + " · ".join(bits))


def describe(filters: Filters) -> str:
    """Plain words for what the filters cover, e.g. 'Capital region · Healthcare · Jan 2024 – Oct 2026'."""
    opts = _options()
    parts = []
    if filters.regions:
        parts.append(
            ", ".join(opts["regions"][r] for r in filters.regions)
            + (" region" if len(filters.regions) == 1 else " regions")
        )
    if filters.sectors:
        parts.append(", ".join(opts["sectors"][s] for s in filters.sectors))
    if filters.partnerships:
        n = len(filters.partnerships)
        parts.append(f"{n} partnership{'s' if n > 1 else ''}")
    if not parts:
        count = opts["partnership_count"]
        parts.append("All 14 partnerships, statewide" if count == 14 else f"All {count:,} partnerships")
    first, last = filters.month_from or opts["first"], filters.month_to or opts["last"]
    if first and last:
        parts.append(f"{month_name(first)} – {month_name(last)}")
    return " · ".join(parts)


def suppress_below() -> int:
    """Counts below this are shown as "<n" in breakdowns that could identify people:
    RSP_SUPPRESS_BELOW (environment), else `suppress_below` in the app's secrets, else 5."""
    from queries.suppression import DEFAULT_THRESHOLD, threshold_from

    configured = os.environ.get("RSP_SUPPRESS_BELOW")
    if configured is None:
        try:
            configured = st.secrets.get("suppress_below")
        except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
            configured = None
    return DEFAULT_THRESHOLD if configured is None else threshold_from(configured)


def stop_if_empty(kpis: dict) -> None:
    """A plain sentence instead of empty charts when nothing matches the filters."""
    if kpis["months"] == 0:
        st.info("No monthly figures match these filters. Widen the month range or clear a filter in the sidebar.")
        st.stop()


# ---------------------------------------------------------------- charts and tables

# Streamlit's own table toolbar offers a CSV download that does not escape formula text;
# every table here gets an escaped download button instead (ui.export.safe_csv).
_HIDE_UNSAFE_DOWNLOAD = """<style>
[data-testid="stElementToolbar"] button[aria-label="Download as CSV"] { display: none !important; }
</style>"""


def hide_unescaped_downloads() -> None:
    st.html(_HIDE_UNSAFE_DOWNLOAD)


def illustrative(filters: Filters) -> float:
    """Share of the filtered figures that are illustrative (the page header and every chart note say so)."""
    from queries.data import illustrative_share

    return shared("illustrative", lambda: query(illustrative_share, filters), filters)


def chart_note(kpis: dict, filters: Filters) -> str:
    """The line under every chart title: what it covers, the 'as of' month, and the data's kind."""
    note = describe(filters)
    if kpis.get("as_of_label"):
        note = f"As of {month_name(kpis['as_of_label'])} · {note}"
    if illustrative(filters) > 0:
        note += " · illustrative data"
    return note


FILTER_KEYS = {"sector": KEY_SECTOR, "region": KEY_REGION}


def set_filter(kind: str, ids: list[str]) -> None:
    """Set the sidebar's sector or region filter, as picking it in the sidebar would."""
    known = _options()["sectors" if kind == "sector" else "regions"]
    chosen = [i for i in dict.fromkeys(ids) if i in known]
    if chosen:
        st.session_state[FILTER_KEYS[kind]] = chosen


def _filter_from_chart(key: str, kind: str) -> Callable[[], None]:
    """on_select callback of a plotly chart whose points carry sector or region ids as customdata."""

    def apply() -> None:
        state = st.session_state.get(key)
        points = state.selection.points if state is not None else []
        set_filter(kind, [str(p.get("customdata")) for p in points if p.get("customdata") is not None])

    return apply


def filter_from_map(key: str) -> Callable[[], None]:
    """on_select callback of the map: a clicked region becomes the region filter."""

    def apply() -> None:
        state = st.session_state.get(key)
        objects = state.selection.objects.get("regions", []) if state is not None else []
        set_filter("region", [str(o.get("properties", {}).get("region_id", "")) for o in objects])

    return apply


def active_filter_chips(filters: Filters) -> None:
    """What the sector and region filters hold, each as a chip that clears it."""
    opts = _options()
    chips = [("region", r, opts["regions"].get(r, r)) for r in filters.regions]
    chips += [("sector", s, opts["sectors"].get(s, s)) for s in filters.sectors]
    if not chips:
        st.caption("Click a bar or a region to filter the whole dashboard by it.")
        return
    columns = st.columns(len(chips) + 1)
    columns[0].markdown("**Filtered to:**")
    for column, (kind, value, name) in zip(columns[1:], chips, strict=True):
        column.button(
            f"{kind.capitalize()}: {name}",
            icon=":material/close:",
            key=f"chip_{kind}_{value}",
            on_click=_clear_one,
            args=(kind, value),
            help="Remove this filter",
        )


def _clear_one(kind: str, value: str) -> None:
    key = FILTER_KEYS[kind]
    st.session_state[key] = [v for v in st.session_state.get(key, []) if v != value]


def download_csv(df, file_stem: str, label: str = "Download CSV", where=None) -> None:
    """A CSV download of `df` (or of what the callable `df` returns) with formula-like text escaped."""
    from ui.export import safe_csv

    # Built only when clicked: most downloads are never used, and every run would pay for them.
    (where or st).download_button(
        label,
        lambda: safe_csv(df() if callable(df) else df),
        file_name=f"{file_stem}.csv",
        mime="text/csv",
        icon=":material/download:",
    )


def chart(fig, numbers, file_stem: str, where=None, filter_kind: str | None = None) -> None:
    """A plotly chart (PNG download in its toolbar) and, under it, its numbers as a table and a CSV.

    With filter_kind ("sector" or "region"), clicking a bar sets that sidebar filter (and the URL);
    the bars carry their ids as customdata."""
    from ui.charts import plotly_config

    target = where or st
    if filter_kind:
        key = f"click_{file_stem}"
        target.plotly_chart(
            fig,
            config=plotly_config(file_stem),
            key=key,
            on_select=_filter_from_chart(key, filter_kind),
            selection_mode="points",
        )
    else:
        target.plotly_chart(fig, config=plotly_config(file_stem))
    with target.expander("The numbers behind this chart"):
        st.dataframe(numbers, hide_index=True, width="stretch")
        download_csv(numbers, file_stem)
