"""Every chart, map and table of figures carries a text alternative (issue 19): Streamlit 1.67's `alt=` on
st.plotly_chart, st.pydeck_chart and st.dataframe, read from the element protos AppTest holds."""

from __future__ import annotations

import pytest

from tests.test_pages import assert_clean, open_app, server, store  # noqa: F401 - fixtures

# Every page that draws charts or tables, and a partnership's profile (its own charts and peers).
VIEWS = [
    ({}, "pages/overview.py"),
    ({}, "pages/map.py"),
    ({}, "pages/trends.py"),
    ({"view": "cumulative", "split": "region"}, "pages/trends.py"),
    ({"profile": "capital-technology", "compare": "true"}, "pages/partnerships.py"),  # with peers compared
    ({}, "pages/quality.py"),
    *[
        ({"question": q}, "pages/quality.py")  # each question's tab draws only its own charts
        for q in ("How much work-based learning?", "Who is being reached?", "Do trainees earn credentials?")
    ],
    ({}, "pages/data.py"),
    ({}, "pages/reporting.py"),
    *[({"present": "1", "paused": "1", "slide": str(n)}, None) for n in (1, 2, 3, 4, 5)],
]
HISTORY_COLUMNS = {"batch_id", "kind", "file_name"}  # the Data page's load history: a log, not a chart's numbers
NO_CHARTS = {
    "pages/data.py",
    "pages/reporting.py",
    "slide 1",
}  # tables only; the presenter's first slide: KPI tiles and the goal bar


def alts(at, kind: str) -> list[str]:
    return [element.proto.alt for element in at.get(kind)]


@pytest.mark.parametrize(("params", "page"), VIEWS, ids=str)
def test_every_chart_map_and_table_has_a_text_alternative(server, params, page):  # noqa: F811
    at = open_app(params, page=page)
    assert_clean(at)
    charts = alts(at, "plotly_chart") + alts(at, "deck_gl_json_chart")
    view = page or f"slide {params['slide']}"
    if view not in NO_CHARTS:
        assert charts, "no chart drawn: nothing was checked"
    assert all(a.strip() for a in charts), f"a chart or map without alt: {charts}"
    tables = [frame.proto.alt for frame in at.dataframe if not set(frame.value.columns) >= HISTORY_COLUMNS]
    assert all(a.strip() for a in tables), f"a table without alt: {tables}"
