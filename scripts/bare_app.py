"""The floor for scripts/browser_bench.py: a bare Streamlit app, one metric and one plotly bar chart, served
the same way as the dashboard (same Streamlit, same .streamlit/config.toml). Nothing else on purpose."""

import plotly.graph_objects as go
import streamlit as st

st.metric("Placements", "1,234")
st.plotly_chart(go.Figure(go.Bar(x=["A", "B", "C"], y=[3, 1, 2])))
