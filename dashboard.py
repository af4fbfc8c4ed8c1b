"""RSP Metrics Dashboard: entry point. Page config, navigation and the shared sidebar filters."""

import streamlit as st

from ui import state

st.set_page_config(page_title="CT RSP Metrics Dashboard", page_icon=":material/handshake:", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("pages/map.py", title="Map", icon=":material/map:"),
        st.Page("pages/trends.py", title="Trends", icon=":material/show_chart:"),
        st.Page("pages/partnerships.py", title="Partnerships", icon=":material/groups:"),
        st.Page("pages/data.py", title="Data", icon=":material/table:"),
    ]
)

state.engine()  # a plain message instead of a page when the store is unavailable
st.session_state["_filters"] = state.sidebar_filters()
state.show_url_notices()
navigation.run()
