"""The app's pages, in menu order: titles and icons live here, page files stay plain."""

from __future__ import annotations

import streamlit as st

ROUTES = (
    ("pages/overview.py", "Overview", ":material/dashboard:"),
    ("pages/map.py", "Map", ":material/map:"),
    ("pages/trends.py", "Trends", ":material/show_chart:"),
    ("pages/partnerships.py", "Partnerships", ":material/groups:"),
    ("pages/data.py", "Data", ":material/table:"),
    ("pages/submit.py", "Submit data", ":material/upload_file:"),
)


def pages() -> list[st.Page]:
    return [st.Page(path, title=title, icon=icon, default=(i == 0)) for i, (path, title, icon) in enumerate(ROUTES)]
