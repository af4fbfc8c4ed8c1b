"""The shared filters: drawn in the sidebar, kept in the URL (a view is a shareable link), read from the URL alone
in presenter mode; page choices that also live in the URL; filter chips."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import streamlit as st

from queries import registry as registry_q
from queries.filters import FILTER_PARAMS, PARAM_RSP, Filters, parse_filters, shown, split_values, to_params
from rsp_data.metrics import MEASURES, METRICS
from rsp_data.months import labels_between
from ui.cache import memo, query
from ui.format import month_name

T = TypeVar("T")

_INITIALISED = "_filters_from_url_applied"
_NOTICES = "_url_notices"
KEY_REGION, KEY_SECTOR, KEY_RSP, KEY_MONTHS = "f_region", "f_sector", "f_rsp", "f_months"
KEY_RSP_SEARCH = "f_rsp_search"
FILTER_KEYS = {"sector": KEY_SECTOR, "region": KEY_REGION}
# Beyond this many partnerships (a national store) the sidebar searches them: nothing loads the whole registry.
MANY_PARTNERSHIPS = 300
SEARCH_LIMIT = 50


def options() -> dict[str, Any]:
    """The filter choices (shared, read only), once per data version."""
    return memo(_read_options)


def _read_options(q: Callable[..., Any]) -> dict[str, Any]:
    regions = q(registry_q.region_list)
    sectors = q(registry_q.sector_list)
    count = q(registry_q.partnership_count)
    first, last = q(registry_q.month_bounds)
    names = places = None  # too many partnerships to list
    if count <= MANY_PARTNERSHIPS:
        listed = q(registry_q.partnership_list)
        names = dict(zip(listed["rsp_id"], listed["name"], strict=True))
        # Plain tuples, no pandas: the sidebar narrows the partnership choices on every run.
        places = list(zip(listed["rsp_id"], listed["region_id"], listed["sector_id"], strict=True))
    return {
        "regions": dict(zip(regions["region_id"], regions["name"], strict=True)),
        "sectors": dict(zip(sectors["sector_id"], sectors["name"], strict=True)),
        "partnership_count": count,
        "partnership_names": names,
        "partnership_places": places,
        "first": first,
        "last": last,
    }


def partnership_names(ids: Iterable[str]) -> dict[str, str]:
    """Display names of these partnerships (of all of them, while there are few enough to list)."""
    names = options()["partnership_names"]
    if names is not None:
        return names
    wanted = tuple(sorted(set(ids)))
    found = query(registry_q.partnership_list, wanted) if wanted else None
    return {} if found is None else dict(zip(found["rsp_id"], found["name"], strict=True))


def _set_widgets(filters: Filters, notices: list[str]) -> None:
    opts = options()
    st.session_state[KEY_REGION] = list(filters.regions)
    st.session_state[KEY_SECTOR] = list(filters.sectors)
    st.session_state[KEY_RSP] = list(filters.partnerships)
    if opts["first"]:
        st.session_state[KEY_MONTHS] = (filters.month_from or opts["first"], filters.month_to or opts["last"])
    st.session_state[_NOTICES] = notices


def _reset() -> None:
    _set_widgets(Filters(), [])
    st.session_state[KEY_RSP_SEARCH] = ""


def url_filters() -> tuple[Filters, list[str]]:
    """Filters read from the URL alone (presenter mode draws no sidebar), with notices for bad values."""
    opts = options()
    params = {name: st.query_params.get_all(name) for name in FILTER_PARAMS}
    requested = [r for r in split_values(params, PARAM_RSP) if len(r) <= 60]  # at scale, a lookup of these ids alone
    return parse_filters(
        params,
        regions=opts["regions"],
        sectors=opts["sectors"],
        partnerships=list(partnership_names(requested)),
        first_month=opts["first"],
        last_month=opts["last"],
    )


def sidebar_filters() -> Filters:
    """Draw the shared filters in the sidebar, keep them in the URL, and return them."""
    opts = options()
    if not st.session_state.get(_INITIALISED):  # the link sets the filters on a first run, the widgets after it
        _set_widgets(*url_filters())
        st.session_state[_INITIALISED] = True
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
        if opts["partnership_places"] is not None:
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
            names = {**partnership_names(already), **dict(zip(found["rsp_id"], found["name"], strict=True))}
            rsp_options = list(dict.fromkeys([*already, *found["rsp_id"]]))
            placeholder = "All partnerships" if found.empty or not text.strip() else f"Pick from {len(found)} matches"
        chosen_rsps = st.multiselect(
            "Partnerships", rsp_options, format_func=names.get, key=KEY_RSP, placeholder=placeholder
        )
        month_from = month_to = None
        if opts["first"]:
            months = labels_between(opts["first"], opts["last"])
            if KEY_MONTHS not in st.session_state:
                st.session_state[KEY_MONTHS] = (months[0], months[-1])
            # A pair `value` keeps this a range slider when the frontend re-sends its default on page switches.
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
    wanted = filter_params(filters)
    for name in FILTER_PARAMS:
        set_param(name, wanted.get(name, []))
    return filters


def filter_params(filters: Filters) -> dict[str, list[str]]:
    """The URL parameters that reproduce `filters` (defaults left out)."""
    opts = options()
    return to_params(filters, first_month=opts["first"], last_month=opts["last"])


def set_param(name: str, values: list[str]) -> None:
    """Keep the URL's `name` holding `values` (absent when there are none), writing only changes."""
    if not values:
        st.query_params.pop(name, None)
    elif st.query_params.get_all(name) != values:
        st.query_params[name] = values


def show_url_notices() -> None:
    """Say once, on the page the link opened, which of its parameters were ignored."""
    for notice in st.session_state.pop(_NOTICES, []):
        st.warning(notice, icon="⚠️")


def url_choice(
    widget: Callable[..., T],
    label: str,
    options: Sequence[T],
    *,
    param: str,
    default: T,
    **kwargs: Any,
) -> T:
    """A single-choice widget whose value also lives in the URL as `param` (absent = default)."""
    key = f"p_{param}"
    if key not in st.session_state:
        raw = warn_unknown(param, options)
        st.session_state[key] = raw if raw in options else default
    value = widget(label, options, key=key, **kwargs)
    set_param(param, [] if value == default else [value])
    return value


def warn_unknown(param: str, options: Sequence[Any]) -> str | None:
    """The link's `param`, with a notice when it is not one of `options` (which then leaves it unused)."""
    raw = st.query_params.get(param)
    if raw is not None and raw not in options:
        st.warning(f"Ignored “{param}={shown(raw)}” in the link: not one of the choices here.", icon="⚠️")
    return raw


def measure_choice(widget: Callable[..., str], label: str = "Measure", measures: tuple[str, ...] = MEASURES) -> str:
    """The page's measure, kept in the URL as `metric` (the pages share it)."""
    return url_choice(
        widget, label, measures, param="metric", default="placements", format_func=lambda m: METRICS[m].label
    )


def filters() -> Filters:
    """The filters the sidebar set in this run (dashboard.py draws the sidebar before the page)."""
    ensure_routed()
    return st.session_state["_filters"]


def ensure_routed() -> None:
    """Every page calls this first (via filters()) so it never runs without dashboard.py."""
    if "_filters" not in st.session_state:
        # A first request for a page URL ran the page alone: declaring the navigation reruns it in dashboard.py.
        from ui import routes

        st.navigation(routes.pages(), position="hidden")
        st.rerun()


def set_filter(kind: str, ids: list[str]) -> None:
    """Set the sidebar's sector or region filter, as picking it in the sidebar would."""
    known = options()["sectors" if kind == "sector" else "regions"]
    chosen = [i for i in dict.fromkeys(ids) if i in known]
    if chosen:
        st.session_state[FILTER_KEYS[kind]] = chosen
        st.session_state[FILTERS_CHANGED] = True


def filter_from_chart(key: str, kind: str) -> Callable[[], None]:
    """on_select callback of a plotly chart whose points carry ids as customdata, or of the map's regions."""

    def apply() -> None:
        state = st.session_state.get(key)
        selection = state.selection if state is not None else {}
        ids = [p.get("customdata") for p in selection.get("points", [])]
        ids += [o.get("properties", {}).get("region_id") for o in selection.get("objects", {}).get("regions", [])]
        set_filter(kind, [str(i) for i in ids if i is not None])

    return apply


def active_filter_chips(filters: Filters) -> None:
    """What the sector and region filters hold, each as a chip that clears it."""
    opts = options()
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
    st.session_state[FILTERS_CHANGED] = True


FILTERS_CHANGED = "_filters_changed"  # a click inside a fragment changed the sidebar's filters


def page_fragment(body: Callable[..., None]) -> Callable[..., None]:
    """`st.fragment` for a page's own controls and the charts they change: changing them reruns only
    `body`; a click in it that sets a sidebar filter (a bar, a region, a chip) reruns the whole app."""

    @functools.wraps(body)
    def run(*args: Any, **kwargs: Any) -> None:
        if st.session_state.pop(FILTERS_CHANGED, False):
            st.rerun(scope="app")
        body(*args, **kwargs)

    return st.fragment(run)
