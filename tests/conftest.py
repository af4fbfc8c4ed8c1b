"""Shared fixtures: a real SQLite store with a small hand-made fact set, and the full demo store.

The hand-made facts (E = employers_engaged, En = trainees_enrolled, C = trainees_completed,
P = placements). Every figure asserted in tests/test_queries.py is computed by hand from this table.

| rsp_id (region, sector, gjc)                          | month   |  E | En |  C |  P |
|-------------------------------------------------------|---------|----|----|----|----|
| capital-technology (capital, technology, gjc)         | 2022-07 | 10 |  5 |  1 |  1 |
|                                                       | 2022-08 | 12 |  6 |  2 |  1 |
|                                                       | 2022-09 | 15 |  4 |  3 |  2 |
|                                                       | 2022-10 | 16 |  3 |  4 |  3 |
| southwest-technology (southwest, technology, gjc)     | 2022-07 | 20 |  8 |  2 |  2 |
|                                                       | 2022-08 | 21 |  2 |  4 |  3 |
|                                                       | 2022-09 | 23 |  7 |  5 |  4 |
|                                                       | 2022-10 | 25 |  1 |  6 |  5 |
| southwest-manufacturing (southwest, manufacturing,gjc)| 2022-07 | 30 | 10 |  0 |  0 |
|   (NO row in 2022-10, the last month)                 | 2022-08 | 31 |  9 |  8 |  2 |
|                                                       | 2022-09 | 33 |  2 | 10 |  8 |
| capital-healthcare (capital, healthcare, gjc)         | 2022-09 |  5 |  6 |  2 |  1 |
|                                                       | 2022-10 |  6 |  2 |  3 |  3 |
| capital-logistics (capital, logistics, NOT gjc)       | 2022-08 |  7 |  3 |  1 |  1 |
|                                                       | 2022-10 |  9 |  2 |  2 |  2 |

Monthly totals over all five:
  2022-07: E 10+20+30=60,       En 5+8+10=23,     C 1+2+0=3,       P 1+2+0=3
  2022-08: E 12+21+31+7=71,     En 6+2+9+3=20,    C 2+4+8+1=15,    P 1+3+2+1=7
  2022-09: E 15+23+33+5=76,     En 4+7+2+6=19,    C 3+5+10+2=20,   P 2+4+8+1=15
  2022-10: E 16+25+6+9=56,      En 3+1+2+2=8,     C 4+6+3+2=15,    P 3+5+3+2=13
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, insert, text

from rsp_data import rollups
from rsp_data.months import month_to_date
from rsp_data.schema import import_batches, monthly_metrics
from rsp_data.store import init_store, make_engine

# (rsp_id, month, employers_engaged, trainees_enrolled, trainees_completed, placements)
FACTS: list[tuple[str, str, int, int, int, int]] = [
    ("capital-technology", "2022-07", 10, 5, 1, 1),
    ("capital-technology", "2022-08", 12, 6, 2, 1),
    ("capital-technology", "2022-09", 15, 4, 3, 2),
    ("capital-technology", "2022-10", 16, 3, 4, 3),
    ("southwest-technology", "2022-07", 20, 8, 2, 2),
    ("southwest-technology", "2022-08", 21, 2, 4, 3),
    ("southwest-technology", "2022-09", 23, 7, 5, 4),
    ("southwest-technology", "2022-10", 25, 1, 6, 5),
    ("southwest-manufacturing", "2022-07", 30, 10, 0, 0),
    ("southwest-manufacturing", "2022-08", 31, 9, 8, 2),
    ("southwest-manufacturing", "2022-09", 33, 2, 10, 8),
    ("capital-healthcare", "2022-09", 5, 6, 2, 1),
    ("capital-healthcare", "2022-10", 6, 2, 3, 3),
    ("capital-logistics", "2022-08", 7, 3, 1, 1),
    ("capital-logistics", "2022-10", 9, 2, 2, 2),
]

FIXTURE_RSPS = sorted({f[0] for f in FACTS})


def _fill_facts(engine) -> None:
    with engine.begin() as conn:
        batch_id = conn.execute(
            insert(import_batches).values(
                kind="import",
                file_name="hand_made.csv",
                checksum="0" * 64,
                loaded_by="tests/conftest.py",
                loaded_at=datetime(2022, 11, 5, 12, 0, tzinfo=UTC),
                rows_added=len(FACTS),
                rows_changed=0,
                note="hand-made test facts",
            )
        ).inserted_primary_key[0]
        conn.execute(
            insert(monthly_metrics),
            [
                {
                    "rsp_id": rsp,
                    "month": month_to_date(month),
                    "employers_engaged": e,
                    "trainees_enrolled": en,
                    "trainees_completed": c,
                    "placements": p,
                    "batch_id": batch_id,
                }
                for rsp, month, e, en, c, p in FACTS
            ],
        )
        rollups.rebuild_all(conn)  # what every writer does: the pages read the rollups


BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def pg_server():
    """One PostgreSQL server for the whole run, started by the tests themselves."""
    from tests.pg_server import start_server

    server = start_server()
    yield server
    server.stop()


class StoreFactory:
    """Empty databases on demand, on one backend: a SQLite file, or a new PostgreSQL database."""

    def __init__(self, backend: str, tmp_path_factory, request):
        self.backend = backend
        self._tmp = tmp_path_factory
        self._request = request
        self._count = 0

    def url(self, name: str = "store") -> str:
        self._count += 1
        if self.backend == "sqlite":
            return f"sqlite:///{self._tmp.mktemp(name)}/{name}.sqlite"
        server = self._request.getfixturevalue("pg_server")
        database = f"t_{uuid.uuid4().hex[:16]}"
        admin = create_engine(server.admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{database}"'))  # a generated name, not input
        admin.dispose()
        return server.url(database)

    def engine(self, name: str = "store", demo: bool = False):
        eng = make_engine(self.url(name))
        init_store(eng, demo=demo)
        return eng


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture(scope="module")
def stores(backend, tmp_path_factory, request) -> StoreFactory:
    """Make stores on the current backend: every test using it runs on SQLite and on PostgreSQL."""
    return StoreFactory(backend, tmp_path_factory, request)


@pytest.fixture(scope="module")
def demo_template(stores) -> str:
    """URL of one store built by init_store(..., demo=True) on the module's backend; tests that
    write take copies of it."""
    url = stores.url("demo-template")
    eng = make_engine(url)
    init_store(eng, demo=True)
    eng.dispose()
    return url


@pytest.fixture
def demo_copy(demo_template, tmp_path):
    """An engine on a fresh copy of the demo template, for a test that writes; dropped after."""
    from tests.store_helpers import copy_store, drop_store

    url, _ = copy_store(demo_template, tmp_path)
    eng = make_engine(url)
    yield eng
    eng.dispose()
    drop_store(url)


@pytest.fixture(scope="module")
def engine(stores):
    """A real store (SQLite, then PostgreSQL): schema + committed registry (no demo) + the facts above."""
    eng = stores.engine("facts")
    _fill_facts(eng)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module")
def demo_engine(stores):
    """A real store (SQLite, then PostgreSQL) filled with the committed illustrative demo data."""
    eng = stores.engine("demo", demo=True)
    yield eng
    eng.dispose()


class _PagesManagerAfterNavigation:
    """What Streamlit's script runner reads once st.navigation has run in a server process."""

    uses_pages_directory = False


@pytest.fixture
def as_server(monkeypatch):
    """Make AppTest rerun dashboard.py the way a running server does.

    A server sets PagesManager.uses_pages_directory to False the first time dashboard.py calls
    st.navigation, and it stays False. AppTest resets it before every run and, because the pages
    live in a folder named `pages/`, later runs would execute the page file alone (no dashboard.py,
    no sidebar, stale state). See tests/test_pages.py::server for the full story.
    """
    from streamlit.runtime.scriptrunner import script_runner

    monkeypatch.setattr(script_runner, "PagesManager", _PagesManagerAfterNavigation)
