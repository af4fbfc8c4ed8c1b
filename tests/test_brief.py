"""The one-page partnership brief: generated for every partnership, with the figures the app shows."""

from __future__ import annotations

import re

import pytest

from queries.filters import Filters
from queries.metrics import kpi_summary, metrics_by
from queries.registry import partnership_list
from ui.brief import KPI_METRICS, brief_html
from ui.format import metric_value

KPI_RE = re.compile(r'data-metric="([a-z_]+)">([^<]*)<')


def shown_kpis(page: str) -> dict[str, str]:
    return dict(KPI_RE.findall(page))


def test_every_partnership_gets_a_brief_with_its_figures(demo_engine):
    ids = list(partnership_list(demo_engine)["rsp_id"])
    assert len(ids) == 14
    for rsp_id in ids:
        page = brief_html(demo_engine, rsp_id)
        kpis = kpi_summary(demo_engine, Filters(partnerships=(rsp_id,)))
        assert shown_kpis(page) == {m: metric_value(m, kpis[m]) for m in KPI_METRICS}, rsp_id
        assert "Illustrative data" in page and "ILLUSTRATIVE" in page
        assert f"as of <b>{kpis['as_of']:%b %Y}</b>" in page
        assert "<svg" in page  # the trend chart is in the file itself


def test_brief_compares_with_every_sector_peer(demo_engine):
    page = brief_html(demo_engine, "capital-healthcare")
    peers = metrics_by(demo_engine, Filters(sectors=("healthcare",)), "partnership")
    assert len(peers) == 4
    for row in peers.itertuples():
        assert f"<td>{row.group_name}</td>" in page
        assert f'<td class="n">{metric_value("placements", row.placements)}</td>' in page
    assert page.count('class="me"') == 1


def test_brief_honours_the_month_range(demo_engine):
    page = brief_html(demo_engine, "southwest-technology", "2024-01", "2024-12")
    kpis = kpi_summary(
        demo_engine, Filters(partnerships=("southwest-technology",), month_from="2024-01", month_to="2024-12")
    )
    assert shown_kpis(page)["placements"] == metric_value("placements", kpis["placements"])
    assert "as of <b>Dec 2024</b>" in page and "Jan 2024 – Dec 2024" in page


def test_brief_opens_offline_and_small(demo_engine):
    page = brief_html(demo_engine, "capital-technology")
    assert "<script" not in page
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing fetched from anywhere
    assert "@import" not in page and not re.search(r"url\((['\"])?(https?:)?//", page)
    assert len(page.encode()) < 200_000


@pytest.mark.parametrize("name", ["<script>alert(1)</script>", 'Tom & Jerry\'s "Partnership"'])
def test_brief_escapes_names(tmp_path, name):
    import dataclasses

    from rsp_data.registry import load_registry
    from rsp_data.store import init_store, make_engine

    reg = load_registry()
    first = dataclasses.replace(reg.partnerships[0], name=name)
    reg = dataclasses.replace(reg, partnerships=(first, *reg.partnerships[1:]))
    engine = make_engine(f"sqlite:///{tmp_path}/names.sqlite")
    init_store(engine, demo=True, reg=reg)
    page = brief_html(engine, first.id)
    assert name not in page
    assert "&lt;script&gt;" in page or "Tom &amp; Jerry" in page
