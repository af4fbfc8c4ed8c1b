"""python -m rsp_data synth: seeded, repeatable, realistic shape, rollups in step, on both stores."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlalchemy import func, select

from rsp_data import rollups, schema
from rsp_data.store import make_engine
from rsp_data.synth import LAST_MONTH, SEASON, STATES, synthesize
from tests.store_helpers import run_cli


def facts_frame(engine) -> pd.DataFrame:
    facts = schema.monthly_metrics
    with engine.connect() as conn:
        rows = conn.execute(select(facts).order_by(facts.c.rsp_id, facts.c.month)).mappings().all()
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def synthetic(stores):
    engine = make_engine(stores.url("synth"))
    report = synthesize(engine, 120, 36, seed=11, log=lambda _: None)
    yield engine, report
    engine.dispose()


def test_shape_and_rollups(synthetic):
    engine, report = synthetic
    df = facts_frame(engine)
    assert report.rows == len(df) > 0
    assert df["month"].max().strftime("%Y-%m") == LAST_MONTH.strftime("%Y-%m")
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.regions)).scalar_one() == len(STATES) == 51
        assert conn.execute(select(func.count()).select_from(schema.sectors)).scalar_one() == 6
        assert conn.execute(select(func.count()).select_from(schema.partnerships)).scalar_one() == 120
        kinds = conn.execute(select(schema.import_batches.c.kind, schema.import_batches.c.rows_held)).all()
        assert rollups.check(conn) == []
    assert kinds == [("demo", len(df))]  # labelled illustrative, like the demo data
    # Flows are consistent: completions never exceed enrolments, placements never completions.
    assert (df["trainees_completed"] <= df["trainees_enrolled"]).all()
    assert (df["placements"] <= df["trainees_completed"]).all()
    assert (df["employers_engaged"] >= 1).all()
    # Some report the optional metrics, some do not.
    assert 0 < df["avg_starting_wage"].notna().mean() < 1
    assert 0 < df["trainees_underrepresented"].notna().mean() < 1
    # Seasonality: September enrols more than July, as SEASON says.
    by_month = df.groupby(df["month"].map(lambda m: m.month))["trainees_enrolled"].mean()
    assert SEASON[8] > SEASON[6] and by_month[9] > by_month[7]


def test_same_seed_same_rows(synthetic, stores):
    engine, _ = synthetic
    again = make_engine(stores.url("synth-again"))
    synthesize(again, 120, 36, seed=11, log=lambda _: None)
    pd.testing.assert_frame_equal(
        facts_frame(engine).drop(columns="batch_id"), facts_frame(again).drop(columns="batch_id")
    )
    other = make_engine(stores.url("synth-other"))
    synthesize(other, 120, 36, seed=12, log=lambda _: None)
    assert not facts_frame(engine)["placements"].equals(facts_frame(other)["placements"])
    for e in (again, other):
        e.dispose()


def test_cli_refuses_to_overwrite_without_replace(tmp_path):
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    first = run_cli("synth", "--partnerships", "5", "--months", "6", "--url", url)
    assert first.returncode == 0, first.stderr
    assert "5 partnerships, 6 months" in first.stdout
    second = run_cli("synth", "--partnerships", "5", "--months", "6", "--url", url)
    assert second.returncode != 0
    assert "--replace" in second.stderr + second.stdout
    third = run_cli("synth", "--partnerships", "7", "--months", "6", "--url", url, "--replace")
    assert third.returncode == 0, third.stderr
    checked = run_cli("check-rollups", "--url", url)
    assert checked.returncode == 0 and "in step" in checked.stdout
