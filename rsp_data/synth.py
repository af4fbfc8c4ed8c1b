"""A seeded, repeatable synthetic national store, labelled synthetic everywhere: every state's sector
partnerships, monthly, over years (README, "National size"). Same arguments, same rows:

    python -m rsp_data synth --partnerships 60000 --months 240 [--url URL] [--seed 2026] [--replace]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, insert, select

from rsp_data import migrate, rollups, schema
from rsp_data.rollups import bulk_insert, index_month, month_index

LAST_MONTH = date(2026, 10, 1)
STATES = {  # 2020 census population, millions (rounded)
    "AL": ("Alabama", 5.0), "AK": ("Alaska", 0.7), "AZ": ("Arizona", 7.2), "AR": ("Arkansas", 3.0),
    "CA": ("California", 39.5), "CO": ("Colorado", 5.8), "CT": ("Connecticut", 3.6), "DE": ("Delaware", 1.0),
    "DC": ("District of Columbia", 0.7), "FL": ("Florida", 21.5), "GA": ("Georgia", 10.7), "HI": ("Hawaii", 1.5),
    "ID": ("Idaho", 1.8), "IL": ("Illinois", 12.8), "IN": ("Indiana", 6.8), "IA": ("Iowa", 3.2),
    "KS": ("Kansas", 2.9), "KY": ("Kentucky", 4.5), "LA": ("Louisiana", 4.7), "ME": ("Maine", 1.4),
    "MD": ("Maryland", 6.2), "MA": ("Massachusetts", 7.0), "MI": ("Michigan", 10.1), "MN": ("Minnesota", 5.7),
    "MS": ("Mississippi", 3.0), "MO": ("Missouri", 6.2), "MT": ("Montana", 1.1), "NE": ("Nebraska", 2.0),
    "NV": ("Nevada", 3.1), "NH": ("New Hampshire", 1.4), "NJ": ("New Jersey", 9.3), "NM": ("New Mexico", 2.1),
    "NY": ("New York", 20.2), "NC": ("North Carolina", 10.4), "ND": ("North Dakota", 0.8), "OH": ("Ohio", 11.8),
    "OK": ("Oklahoma", 4.0), "OR": ("Oregon", 4.2), "PA": ("Pennsylvania", 13.0), "RI": ("Rhode Island", 1.1),
    "SC": ("South Carolina", 5.1), "SD": ("South Dakota", 0.9), "TN": ("Tennessee", 6.9), "TX": ("Texas", 29.1),
    "UT": ("Utah", 3.3), "VT": ("Vermont", 0.6), "VA": ("Virginia", 8.6), "WA": ("Washington", 7.7),
    "WV": ("West Virginia", 1.8), "WI": ("Wisconsin", 5.9), "WY": ("Wyoming", 0.6),
}  # fmt: skip
SECTORS = {  # id: (name, weight, typical starting wage $/h): Connecticut's six, weighted as the national field is
    "healthcare": ("Healthcare", 0.30, 21.0),
    "manufacturing": ("Manufacturing", 0.28, 22.5),
    "technology": ("Information technology", 0.16, 27.0),
    "logistics": ("Transportation and logistics", 0.12, 20.0),
    "bioscience": ("Bioscience", 0.06, 25.0),
    "ace": ("Architecture, construction and engineering", 0.08, 24.0),
}
# Enrolment seasonality by calendar month (Jan..Dec): peaks in January and September.
SEASON = np.array([1.25, 1.0, 1.0, 0.95, 0.9, 0.75, 0.65, 0.8, 1.35, 1.15, 1.05, 0.85])
CHUNK = 2_000  # partnerships generated and written at a time: memory stays bounded at any size


@dataclass(frozen=True)
class SynthReport:
    partnerships: int
    months: int
    rows: int
    seconds: float

    def __str__(self) -> str:
        return (
            f"synthetic store: {self.partnerships:,} partnerships, {self.months} months "
            f"(to {LAST_MONTH:%Y-%m}), {self.rows:,} monthly rows, in {self.seconds:.0f} s"
        )


def partnership_table(n: int, months: int, seed: int) -> pd.DataFrame:
    """The synthetic registry: id, name, region, sector, launch month index, size, rates."""
    rng = np.random.default_rng([seed, 1])
    states = list(STATES)
    weights = np.array([STATES[s][1] for s in states])
    sector_ids = list(SECTORS)
    sector_w = np.array([SECTORS[s][1] for s in sector_ids])
    first = month_index(LAST_MONTH) - months + 1
    # A fifth launched before the period; the rest more often late than early (the field grew).
    late = first + (months * np.sqrt(rng.random(n))).astype(int)
    launch = np.where(rng.random(n) < 0.2, first, np.minimum(late, first + months - 1))
    df = pd.DataFrame(
        {
            "rsp_id": [f"p{i:06d}" for i in range(n)],
            "region_id": rng.choice(states, n, p=weights / weights.sum()),
            "sector_id": rng.choice(sector_ids, n, p=sector_w / sector_w.sum()),
            "launch": launch,
            "size": rng.lognormal(1.2, 0.7, n),
            "completion": rng.uniform(0.55, 0.9, n),
            "placement": rng.uniform(0.45, 0.85, n),
            "gjc": rng.random(n) < 0.2,
        }
    )
    df["name"] = [
        f"{STATES[r][0]} {SECTORS[s][0]} Partnership {i}"
        for i, r, s in zip(range(n), df["region_id"], df["sector_id"], strict=True)
    ]
    return df


def fact_rows(part: pd.DataFrame, months: int, seed: int, chunk_no: int) -> pd.DataFrame:
    """The monthly rows of a chunk of partnerships, from each one's launch to the last month."""
    rng = np.random.default_rng([seed, 2, chunk_no])
    last = month_index(LAST_MONTH)
    lengths = (last - part["launch"].to_numpy() + 1).astype(int)
    rsp = np.repeat(np.arange(len(part)), lengths)
    month_idx = np.concatenate([np.arange(s, last + 1) for s in part["launch"].to_numpy()])
    age = month_idx - np.repeat(part["launch"].to_numpy(), lengths)
    ramp = np.minimum(1.0, (age + 1) / 12)  # a new partnership grows over its first year
    size = part["size"].to_numpy()[rsp]
    enrolled = rng.poisson(size * SEASON[month_idx % 12] * ramp)
    completed = rng.binomial(enrolled, part["completion"].to_numpy()[rsp])
    placed = rng.binomial(completed, part["placement"].to_numpy()[rsp])
    # Employers engaged: a random walk around 2 + 3 x size, never below 1.
    steps = rng.integers(-1, 2, len(rsp))
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    walk = np.cumsum(steps)
    walk -= np.repeat(walk[starts] - steps[starts], lengths)
    employers = np.maximum(1, np.round(2 + 3 * size + walk)).astype(int)

    # Which partnerships report the starting wage, no-bachelor placements, work-based learning, under-represented.
    reports = (rng.random((len(part), 4)) < np.array([0.7, 0.6, 0.4, 0.5]))[rsp]
    wage_level = np.array([SECTORS[s][2] for s in part["sector_id"]])[rsp]
    wage = np.round(wage_level * rng.lognormal(0, 0.08, len(rsp)), 2)
    no_bachelor = rng.binomial(placed, 0.7)
    wbl = rng.poisson(size * (0.4 + 1.2 * np.isin(month_idx % 12, [5, 6, 7])))  # more in summer
    underrep = rng.binomial(enrolled, 0.35)
    # Credentials from a generator of their own, so the other figures stay as they were.
    extra = np.random.default_rng([seed, 3, chunk_no])
    credentialed = (extra.random(len(part)) < 0.55)[rsp]
    return pd.DataFrame(
        {
            "rsp_id": part["rsp_id"].to_numpy()[rsp],
            "month": [index_month(int(i)) for i in month_idx],
            "employers_engaged": employers,
            "trainees_enrolled": enrolled,
            "trainees_completed": completed,
            "placements": placed,
            "avg_starting_wage": np.where(reports[:, 0] & (placed > 0), wage, np.nan),
            "placements_no_bachelor": pd.arrays.IntegerArray(no_bachelor, ~reports[:, 1]),
            "wbl_started": pd.arrays.IntegerArray(wbl, ~reports[:, 2]),
            "trainees_underrepresented": pd.arrays.IntegerArray(underrep, ~reports[:, 3]),
            "credentials_earned": pd.arrays.IntegerArray(extra.binomial(completed, 0.7), ~credentialed),
        }
    )


def synthesize(engine: Engine, partnerships: int, months: int, seed: int = 2026, replace: bool = False, log=print):
    """Write the synthetic store at `engine` (schema via the migrations); a store with facts only if `replace`."""
    started = datetime.now(UTC)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        has_facts = conn.execute(select(func.count()).select_from(schema.monthly_metrics)).scalar_one()
        if has_facts and not replace:
            raise SystemExit(f"the store already holds {has_facts:,} monthly rows; add --replace to overwrite it")
        for table in reversed(schema.metadata.sorted_tables):  # alembic_version is not among them
            conn.execute(table.delete())
        conn.execute(insert(schema.import_lock).values(lock_id=1, holder=""))
        conn.execute(
            insert(schema.regions),
            [{"region_id": k.lower(), "name": v[0], "also_called": k, "towns": 0} for k, v in STATES.items()],
        )
        conn.execute(insert(schema.sectors), [{"sector_id": k, "name": v[0]} for k, v in SECTORS.items()])
        part = partnership_table(partnerships, months, seed)
        registry_rows = pd.DataFrame(
            {
                "rsp_id": part["rsp_id"],
                "name": part["name"],
                "name_source": "synthetic",
                "sector_id": part["sector_id"],
                "region_id": part["region_id"].str.lower(),
                "convener": "",
                "launched": [f"{index_month(int(i)):%Y-%m}" for i in part["launch"]],
                "published_size": "",
                "gjc_supported": part["gjc"],
                "number": np.arange(1, len(part) + 1),
            }
        )
        bulk_insert(conn, schema.partnerships, registry_rows)
        batch_id = conn.execute(
            insert(schema.import_batches).values(
                kind="demo",
                file_name=f"synth --partnerships {partnerships} --months {months} --seed {seed}",
                checksum=f"synth-{partnerships}-{months}-{seed}",
                loaded_by="python -m rsp_data synth",
                loaded_at=started,
                rows_added=0,
                rows_changed=0,
                note="Synthetic national data generated by rsp_data/synth.py; not real figures.",
            )
        ).inserted_primary_key[0]
    rows = 0
    for chunk_no, start in enumerate(range(0, partnerships, CHUNK)):
        facts = fact_rows(part.iloc[start : start + CHUNK], months, seed, chunk_no)
        facts["batch_id"] = batch_id
        with engine.begin() as conn:
            bulk_insert(conn, schema.monthly_metrics, facts)
        rows += len(facts)
        log(f"  facts: {min(start + CHUNK, partnerships):,} of {partnerships:,} partnerships, {rows:,} rows")
    log("  rollups: rebuilding from the facts")
    with engine.begin() as conn:
        conn.execute(
            schema.import_batches.update().where(schema.import_batches.c.batch_id == batch_id).values(rows_added=rows)
        )
        rollups.rebuild_all(conn, log=log)
        rollups.store_in_key_order(conn)
    rollups.compact(engine)  # VACUUM (ANALYZE on PostgreSQL)
    return SynthReport(partnerships, months, rows, (datetime.now(UTC) - started).total_seconds())
