"""RSP Metrics Dashboard: entry point. Page config, navigation and the shared sidebar filters."""

import streamlit as st

from ui import process, routes, sidebar, store, widgets

st.set_page_config(page_title="CT RSP Metrics Dashboard", page_icon=str(routes.FAVICON), layout="wide")

PAGES = routes.pages()
# The menu is drawn by hand (below) so that every link carries the current filters: Streamlit's
# own menu clears the URL's query string on a page switch.
navigation = st.navigation(PAGES, position="hidden")

widgets.hide_unescaped_downloads()
store.engine()  # a plain message instead of a page when the store is unavailable
process.settle_heap()  # once per process: long-lived objects out of the garbage collector's passes
store.refresh_data_version()

if st.query_params.get("present") == "1":  # the chrome-free presenter view, on any page, keeping the filters
    from ui import present

    filters, notices = sidebar.url_filters()
    st.session_state["_filters"] = filters
    present.show(filters, notices)
else:
    menu = st.sidebar.container()
    filters = sidebar.sidebar_filters()
    st.session_state["_filters"] = filters
    params = sidebar.filter_params(filters)
    with menu:
        st.markdown("**CT RSP Metrics**")
        for page, (_, _, icon) in zip(PAGES, routes.ROUTES, strict=True):
            st.page_link(page, icon=icon, query_params=params, width="stretch")
        st.page_link(
            navigation,
            label="Present this view",
            icon=":material/slideshow:",
            query_params={**params, "present": "1"},
            width="stretch",
        )
        st.divider()
    sidebar.show_url_notices()
    navigation.run()
