"""The app's pages, in menu order: titles and icons live here, page files stay plain."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

FAVICON = Path(__file__).resolve().parent / "assets" / "favicon.png"

ROUTES = (
    ("pages/overview.py", "Overview", ":material/dashboard:"),
    ("pages/map.py", "Map", ":material/map:"),
    ("pages/trends.py", "Trends", ":material/show_chart:"),
    ("pages/partnerships.py", "Partnerships", ":material/groups:"),
    ("pages/quality.py", "Good jobs & reach", ":material/work:"),
    ("pages/data.py", "Data", ":material/table:"),
    ("pages/reporting.py", "Reporting status", ":material/event_available:"),
    ("pages/submit.py", "Submit data", ":material/upload_file:"),
)


def pages() -> list[st.Page]:
    # No icon on the Page itself: Streamlit would use it as the browser tab's icon and fetch that
    # from the internet. The menu draws the icons (from the bundled icon font) instead.
    return [st.Page(path, title=title, default=(i == 0)) for i, (path, title, _) in enumerate(ROUTES)]
