"""Scale benchmark (issue 4): every query behind the pages at 1 and 10 million monthly rows, on the
embedded SQLite store and on PostgreSQL, beside the usual Streamlit pattern (the whole fact table
in one pandas DataFrame, filtered and grouped per interaction) and an in-memory DuckDB copy of it.

    python scripts/bench.py                                  # 1M and 10M rows, both stores, all steps
    python scripts/bench.py --sizes 1000000 --repeat 10      # a quicker run
    python scripts/bench.py --sizes 2000 --stores sqlite --no-pages --no-memory --no-write
    python scripts/bench.py --sizes 10000000 --no-pages --no-memory --only map underrep   # some queries

Writes the section "## Scale: 1 million and 10 million rows" of docs/benchmarks.md after a complete
run (both sizes, both stores, the baseline, pages and memory); a partial run only prints, unless
``--write``, and ``--no-write`` never writes. Exit status 1 when a store's answer and the pandas
answer differed.

Steps, per size:

1. **Stores.** ``rsp_data.synth`` writes a seeded synthetic store (the partnership count is chosen
   so the fact table has about the asked rows) into a SQLite file and into a database of a
   PostgreSQL server this script starts (Debian's binaries, data kept under ``var/bench/pg``,
   fsync off: a read benchmark). Both are kept under ``var/bench/`` (git-ignored) and reused when
   the synth arguments match; ``--rebuild`` writes them again.
2. **Queries.** The workload is the set of query functions of ``queries/`` that the pages call
   (WORKLOAD below). Each is called ``--repeat`` times on each store with no Streamlit cache, each
   call with a fresh choice from a seeded mix of what users click (no filter, a region, a sector,
   region and sector, a month range, one partnership, a search term, a deep page). The stores and
   the baseline are called one after the other with the same arguments, repetition by repetition,
   so they share the machine's state. One untimed call first (on every store and the baseline,
   with the first repetition's arguments) warms the caches, and its answers must agree: each
   store's answer is compared with the baseline's.
3. **Baseline.** The fact table joined with the partnerships, regions, sectors and batches, read
   whole into one DataFrame as ``pd.read_sql`` under ``st.cache_data`` would hold it (read time
   printed, not counted), month parsed to datetime64; every query is the same filter + groupby in
   pandas. Its memory: ``memory_usage(deep=True)`` and the growth of this process's RSS. Beside it the
   **DuckDB baseline** (``--no-duckdb`` skips it): the same frame copied into an in-memory DuckDB
   database (copy time printed, not counted), every query one SQL statement over that table, as tools
   like Evidence do; timed and compared with the pandas answers as the stores are, and no bound applies
   to it. The table gives each store's ratio to both.
4. **Pages.** Every page of ui/routes.py rendered through Streamlit's AppTest on each store:
   *cold* = Streamlit's data caches cleared (``st.cache_data`` and the views memo), the engine kept
   (a connection pool is open); *warm* = the same page run again at once. Median of ``--page-runs``.
5. **App memory.** ``streamlit run`` on the largest store, five sessions of scripts/load.py
   interacting for ``--memory-duration`` seconds; the server's peak VmRSS against 1 GB.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import json
import math
import mmap
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import numpy as np
import pandas as pd
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from rsp_data.metrics import CARRY, OPTIONAL_KEYS
from rsp_data.store import PG_SESSION_OPTIONS, make_engine, sqlite_driver
from ui.process import freeze_heap

BENCH_DIR = REPO_ROOT / "var" / "bench"
BENCHMARKS = REPO_ROOT / "docs" / "benchmarks.md"
SECTION = "## Scale: 1 million and 10 million rows"
KEPT = "### Analysis"
BOUND_MS = 100.0
TIMEOUT_NOTE = "statement"
BOUND_RATIO = 10.0  # a store's median at least 10× faster than the pandas baseline's (issue 17)
MEMORY_BOUND_MB = 1024.0
# The optional metrics (NULL = not reported; float64 with NaN in the baseline, as pd.read_sql hands
# nullable numbers) and the names queries/quality.py gives its sums and ratios: named here alone (a rename
# of the schema's or quality_by's names is a change of these lines).
OPTIONAL = OPTIONAL_KEYS  # every optional column of the facts (rsp_data/metrics.py)
WAGE, NO_BACHELOR, UNDERREP = "avg_starting_wage", "placements_no_bachelor", "trainees_underrepresented"
# The sums rsp_data/metrics.py names for the average wage and the share (metrics.parts).
WAGE_DOLLARS, WAGE_PLACEMENTS = "avg_starting_wage_weighted", "avg_starting_wage_weight"
NO_BACHELOR_PLACEMENTS = "no_bachelor_share_base"
NO_BACHELOR_SHARE = "no_bachelor_share"
# PostgreSQL settings beyond the defaults (printed with the figures). fsync etc. off: a read benchmark.
PG_SETTINGS = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "shared_buffers": "1GB",
    "work_mem": "64MB",
    "maintenance_work_mem": "512MB",
    "effective_cache_size": "8GB",
    "max_wal_size": "4GB",
}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- stores


def mean_rows(partnerships: int, months: int, seed: int) -> int:
    """Monthly rows synth writes for these arguments (from the registry alone: cheap)."""
    from rsp_data.rollups import month_index
    from rsp_data.synth import LAST_MONTH, partnership_table

    part = partnership_table(partnerships, months, seed)
    return int((month_index(LAST_MONTH) - part["launch"] + 1).sum())


def partnerships_for(rows: int, months: int, seed: int) -> int:
    """The partnership count whose synthetic store has about `rows` monthly rows."""
    n = max(1, round(rows / 112))
    for _ in range(3):
        got = mean_rows(n, months, seed)
        n = max(1, round(n * rows / max(got, 1)))
    return n


@dataclass
class StoreInfo:
    store: str  # "sqlite" or "postgresql"
    url: str
    partnerships: int
    months: int
    seed: int
    rows: int = 0
    build_seconds: float = 0.0
    reused: bool = False
    size_mb: float = 0.0


def synth_key(partnerships: int, months: int, seed: int) -> str:
    return f"{partnerships}x{months}-seed{seed}"


def code_hash() -> str:
    """A hash of the code that writes a store (synth, schema, metrics, rollups, migrations): a kept store is
    reused only when it was written by the same code."""
    import hashlib

    digest = hashlib.sha256()
    names = ("synth.py", "schema.py", "metrics.py", "months.py", "rollups.py", "migrate.py")
    files = [REPO_ROOT / "rsp_data" / name for name in names]
    files += sorted((REPO_ROOT / "rsp_data" / "migrations").rglob("*.py"))
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def kept(marker: Path) -> dict | None:
    """The marker of a kept store written by the current code, else None."""
    if not marker.exists():
        return None
    saved = json.loads(marker.read_text())
    if saved.get("code") != code_hash():
        log(f"{marker.name}: written by other code (rsp_data changed): building it again")
        return None
    return saved


def _build(info: StoreInfo, marker: Path, saved: dict | None) -> StoreInfo:
    from rsp_data.synth import synthesize

    if saved:
        info.rows, info.build_seconds, info.reused = saved["rows"], saved["seconds"], True
        return info
    log(f"building the {info.store} store {synth_key(info.partnerships, info.months, info.seed)} …")
    marker.unlink(missing_ok=True)
    engine = make_engine(info.url)
    try:
        report = synthesize(engine, info.partnerships, info.months, info.seed, replace=True, log=lambda m: None)
    finally:
        engine.dispose()
    info.rows, info.build_seconds = report.rows, report.seconds
    marker.write_text(json.dumps({"rows": report.rows, "seconds": report.seconds, "code": code_hash()}))
    log(f"  {report}")
    return info


def sqlite_store(directory: Path, partnerships: int, months: int, seed: int, rebuild: bool) -> StoreInfo:
    key = synth_key(partnerships, months, seed)
    path = directory / f"synth-{key}.sqlite"
    marker = directory / f"synth-{key}.sqlite.built.json"
    saved = None if rebuild else kept(marker)
    if not saved:
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    info = _build(StoreInfo("sqlite", f"sqlite:///{path}", partnerships, months, seed), marker, saved)
    info.size_mb = path.stat().st_size / 2**20
    return info


class PgCluster:
    """A PostgreSQL server whose data directory stays under var/bench/pg between runs."""

    def __init__(self, directory: Path):
        from tests.pg_server import free_port, pg_bin

        binaries = pg_bin()
        if binaries is None:
            raise RuntimeError("PostgreSQL binaries not found: `make system-packages` installs them")
        self.base = directory / "pg"
        self.bin = binaries
        self.as_postgres = os.geteuid() == 0
        self.port = free_port()

    def _run(self, *args) -> subprocess.CompletedProcess:
        command = [str(a) for a in args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, check=True, capture_output=True, text=True, timeout=300)

    def start(self) -> None:
        data = self.base / "data"
        if not (data / "PG_VERSION").exists():
            shutil.rmtree(self.base, ignore_errors=True)
            self.base.mkdir(parents=True)
            if self.as_postgres:
                shutil.chown(self.base, "postgres")
            # C.UTF-8: strings sort by code point, as in SQLite and pandas (the answers are compared).
            self._run(
                self.bin / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                "--locale=C.UTF-8", "--no-sync",
            )  # fmt: skip
        settings = " ".join(f"-c {k}={v}" for k, v in PG_SETTINGS.items())
        status = subprocess.run(
            [*(["runuser", "-u", "postgres", "--"] if self.as_postgres else []), str(self.bin / "pg_ctl"), "-D",
             str(data), "status"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        if status.returncode == 0:
            raise RuntimeError(
                f"a PostgreSQL server already runs on {data} (another bench run, or one that was killed): "
                f"stop it with `runuser -u postgres -- {self.bin / 'pg_ctl'} -D {data} stop`"
            )
        self._run(
            self.bin / "pg_ctl", "-D", data, "-l", self.base / "server.log", "-w", "start",
            "-o", f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 {settings}",
        )  # fmt: skip

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(self.bin / "pg_ctl", "-D", self.base / "data", "-m", "fast", "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def ensure_database(self, database: str, fresh: bool) -> None:
        admin = create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database}).first()
                if exists and fresh:
                    conn.execute(text(f'DROP DATABASE "{database}"'))  # a generated name, not input
                if not exists or fresh:
                    conn.execute(text(f'CREATE DATABASE "{database}"'))
        finally:
            admin.dispose()

    def version(self) -> str:
        engine = create_engine(self.url("postgres"))
        try:
            with engine.connect() as conn:
                return str(conn.execute(text("SHOW server_version")).scalar())
        finally:
            engine.dispose()

    def settings(self) -> dict[str, str]:
        names = [*PG_SETTINGS, "jit", "max_parallel_workers_per_gather", "random_page_cost"]
        engine = create_engine(self.url("postgres"))
        try:
            with engine.connect() as conn:
                return {n: str(conn.execute(text(f"SHOW {n}")).scalar()) for n in names}
        finally:
            engine.dispose()


def pg_store(cluster: PgCluster, directory: Path, partnerships: int, months: int, seed: int, rebuild: bool):
    key = synth_key(partnerships, months, seed)
    database = "bench_" + key.replace("-", "_")
    marker = directory / f"pg-{key}.built.json"
    saved = None if rebuild else kept(marker)
    if not saved:
        marker.unlink(missing_ok=True)
    cluster.ensure_database(database, fresh=not saved)
    url = cluster.url(database)
    info = _build(StoreInfo("postgresql", url, partnerships, months, seed), marker, saved)
    engine = create_engine(info.url)
    try:
        with engine.connect() as conn:
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar()
        info.size_mb = int(size) / 2**20
    finally:
        engine.dispose()
    return info


def store_files(engine: Engine, cluster: PgCluster | None) -> list[Path]:
    """The files that hold a store: the SQLite file (and its WAL), or the PostgreSQL database's
    directory under the cluster's data directory."""
    if engine.dialect.name == "sqlite":
        path = Path(engine.url.database)
        return [p for p in (path, Path(f"{path}-wal")) if p.exists()]
    assert cluster is not None
    with engine.connect() as conn:
        oid = conn.execute(text("SELECT oid FROM pg_database WHERE datname = current_database()")).scalar()
    return sorted(p for p in (cluster.base / "data" / "base" / str(oid)).iterdir() if p.is_file())


class Resident:
    """The files of the stores kept in the OS page cache while the timed calls run: each file
    mapped and locked in memory (mlock), as on a server with memory to spare, where a store that
    has answered for a while stays cached. These VMs page out file pages that went unused for about
    a minute even with most memory free (DAMON's paddr "pageout" scheme: age ≥ 12 × 5 s, 128 MB/s),
    so a store's pages were read back from disk in the middle of the run, while the baseline's
    DataFrame (anonymous memory, no swap) could not be paged out. Where locking is refused, the
    files are read once instead (`how` says which)."""

    def __init__(self) -> None:
        self.maps: list[mmap.mmap] = []
        self.how = "locked"

    def hold(self, paths: list[Path]) -> tuple[float, float]:
        """Map, read and lock these files; (MB, seconds)."""
        started, size = time.perf_counter(), 0
        libc = ctypes.CDLL(None, use_errno=True)
        for path in paths:
            with open(path, "rb") as f:
                length = os.fstat(f.fileno()).st_size
                if not length:
                    continue
                mapped = mmap.mmap(f.fileno(), length, prot=mmap.PROT_READ)
            view = np.frombuffer(mapped, dtype=np.uint8)
            if self.how == "locked" and libc.mlock(ctypes.c_void_p(view.ctypes.data), ctypes.c_size_t(length)) != 0:
                self.how = f"read once (mlock refused: {os.strerror(ctypes.get_errno())})"
            if self.how != "locked":
                int(view[:: mmap.PAGESIZE].sum())  # every page read once
            del view  # (the mapping stays, and with it the lock)
            self.maps.append(mapped)
            size += length
        return size / 2**20, time.perf_counter() - started

    def release(self) -> None:
        for mapped in self.maps:
            mapped.close()  # (munmap unlocks)
        self.maps = []


# ---------------------------------------------------------------- the workload


@dataclass(frozen=True)
class Call:
    """One user interaction's arguments: the filters, and what else the query takes."""

    mix: str  # which kind of click from the mix
    filters: Any
    search: str = ""
    after: tuple[str, str] | None = None
    offset: int = 0
    ids: tuple[str, ...] = ()
    total: int | None = None  # the Partnerships table's count, which the page has read before its page

    def describe(self) -> str:
        f = self.filters
        bits = [f"{name}={value}" for name, value in (
            ("regions", ",".join(f.regions)), ("sectors", ",".join(f.sectors)),
            ("partnerships", ",".join(f.partnerships)), ("from", f.month_from), ("to", f.month_to),
            ("search", self.search), ("after", self.after and "/".join(self.after)), ("offset", self.offset),
        ) if value]  # fmt: skip
        return f"{self.mix}: " + (" ".join(bits) or "no filter")


@dataclass
class Universe:
    """What users can pick from in one store (read once, untimed)."""

    registry: pd.DataFrame  # rsp_id, name, region_id, sector_id (sorted by rsp_id)
    regions: list[str]
    region_names: list[str]
    sectors: list[str]
    months: list[str]  # every 'YYYY-MM' from the first to the last month with data

    @classmethod
    def read(cls, engine: Engine) -> Universe:
        from queries.registry import month_bounds
        from rsp_data.months import labels_between

        with engine.connect() as conn:
            registry = pd.DataFrame(
                conn.execute(text("SELECT rsp_id, name, region_id, sector_id FROM partnerships ORDER BY rsp_id")).all(),
                columns=["rsp_id", "name", "region_id", "sector_id"],
            )
            regions = conn.execute(text("SELECT region_id, name FROM regions ORDER BY region_id")).all()
            sectors = [r[0] for r in conn.execute(text("SELECT sector_id FROM sectors ORDER BY sector_id"))]
        first, last = month_bounds(engine)
        return cls(registry, [r[0] for r in regions], [r[1] for r in regions], sectors, labels_between(first, last))


FILTER_MIX = ("none", "region", "sector", "region+sector", "months", "region+months", "partnership")
SEARCH_MIX = (*FILTER_MIX, "search", "search+region")


def draw(rng: random.Random, uni: Universe, mix: tuple[str, ...], *, deep: str | None = None) -> Call:
    """A fresh click from the mix: concrete regions, sectors, months, partnership or search text.
    deep="data": a keyset page somewhere in the Data table; deep="table": a page of the
    Partnerships table in its second half."""
    from queries.filters import Filters

    kind = rng.choice(mix)
    regions = sectors = partnerships = ()
    month_from = month_to = None
    search = ""
    if "region" in kind:
        regions = (rng.choice(uni.regions),)
    if "sector" in kind and kind != "search":
        sectors = (rng.choice(uni.sectors),)
    if "months" in kind:
        a, b = sorted(rng.sample(range(len(uni.months)), 2))
        month_from, month_to = uni.months[a], uni.months[b]
    if kind == "partnership":
        partnerships = (rng.choice(list(uni.registry["rsp_id"])),)
    if kind.startswith("search"):
        words = [
            rng.choice(uni.region_names).split()[0][:5].lower(),  # part of a state's name
            f"partnership {rng.randrange(1, 100)}",  # a number seen on a card
            rng.choice(["health", "manufact", "logist", "technology", "bio", "construction"]),
            f"p{rng.randrange(len(uni.registry)):06d}"[:5],  # part of an id
        ]
        search = rng.choice(words)
    filters = Filters(regions, sectors, partnerships, month_from, month_to)
    after, offset = None, 0
    if deep == "data":
        rsp = rng.choice(list(uni.registry["rsp_id"]))
        after = (rsp, rng.choice(uni.months))
    elif deep == "table":
        scope = uni.registry
        if regions:
            scope = scope[scope["region_id"].isin(regions)]
        if sectors:
            scope = scope[scope["sector_id"].isin(sectors)]
        n = len(scope) if not partnerships else 1
        offset = (rng.randrange(n // 2, max(n, n // 2 + 1)) // 25) * 25 if n > 25 else 0
    ids = tuple(sorted(rng.sample(list(uni.registry["rsp_id"]), min(25, len(uni.registry)))))
    return Call(kind, filters, search, after, offset, ids)


# --- the pandas baseline: one DataFrame of every fact row, filtered and grouped per interaction

BASELINE_SQL = f"""
SELECT f.rsp_id, p.name, p.region_id, r.name AS region_name, p.sector_id, s.name AS sector_name,
       p.gjc_supported AS gjc, f.month, f.employers_engaged, f.trainees_enrolled, f.trainees_completed,
       f.placements, {", ".join(f"f.{m}" for m in OPTIONAL)},
       f.batch_id, b.kind AS source
FROM monthly_metrics f
JOIN partnerships p ON p.rsp_id = f.rsp_id
JOIN regions r ON r.region_id = p.region_id
JOIN sectors s ON s.sector_id = p.sector_id
JOIN import_batches b ON b.batch_id = f.batch_id
ORDER BY f.rsp_id, f.month
"""


def rss_mb() -> float:
    text_ = Path("/proc/self/status").read_text()
    return next(int(line.split()[1]) for line in text_.splitlines() if line.startswith("VmRSS:")) / 1024


def load_baseline(engines: dict[str, Engine]) -> tuple[pd.DataFrame, float, str]:
    """The whole fact table, joined, as `pd.read_sql` hands it to `st.cache_data` (strings, int64
    counts, the optional metrics as float64 with NaN where not reported, month as datetime64). Read
    through PostgreSQL's COPY and pandas' CSV reader when PostgreSQL is there (the same frame, read in
    a fraction of the time), else with pd.read_sql."""
    import tempfile

    started = time.perf_counter()
    if "postgresql" in engines:
        how = "COPY from PostgreSQL + pd.read_csv"
        raw = engines["postgresql"].raw_connection()
        try:
            with tempfile.NamedTemporaryFile(suffix=".csv", dir=BENCH_DIR if BENCH_DIR.exists() else None) as tmp:
                sql = f"COPY ({BASELINE_SQL.strip()}) TO STDOUT WITH (FORMAT csv, HEADER)"
                with raw.cursor() as cur:
                    cur.execute("SET statement_timeout = 0")  # the bench engine's call timeout is for the queries
                with raw.cursor() as cur, cur.copy(sql) as copy:
                    for chunk in copy:
                        tmp.write(chunk)
                tmp.flush()
                strings = ("rsp_id", "name", "region_id", "region_name", "sector_id", "sector_name", "source")
                dtypes = {c: "str" for c in strings} | dict.fromkeys(OPTIONAL, "float64")  # empty field = NULL = NaN
                df = pd.read_csv(tmp.name, parse_dates=["month"], dtype=dtypes)
        finally:
            raw.close()
        df["gjc"] = df["gjc"].map({"t": True, "f": False}).astype(bool)
    else:
        how = "pd.read_sql"
        with next(iter(engines.values())).connect() as conn:
            # dtype: a chunk where nobody reported a metric would otherwise be all None (object).
            chunks = list(
                pd.read_sql(
                    text(BASELINE_SQL),
                    conn,
                    chunksize=1_000_000,
                    parse_dates=["month"],
                    dtype=dict.fromkeys(OPTIONAL, "float64"),
                )
            )
        df = pd.concat(chunks, ignore_index=True)
        del chunks
        df["gjc"] = df["gjc"].astype(bool)
    return df, time.perf_counter() - started, how


BASE = ("employers_engaged", "trainees_enrolled", "trainees_completed", "placements")
FLOWS = BASE[1:]
GROUP_COLS = {
    "sector": ("sector_id", "sector_name"),
    "region": ("region_id", "region_name"),
    "partnership": ("rsp_id", "name"),
}
PARTNERSHIP_COLS = [c for cols in GROUP_COLS.values() for c in cols]  # what a carried report keeps of its row


def _mask(df: pd.DataFrame, f, *, months: bool = True) -> np.ndarray:
    m = np.ones(len(df), dtype=bool)
    if f.regions:
        m &= df["region_id"].isin(f.regions).to_numpy()
    if f.sectors:
        m &= df["sector_id"].isin(f.sectors).to_numpy()
    if f.partnerships:
        m &= df["rsp_id"].isin(f.partnerships).to_numpy()
    if months and f.month_from:
        m &= (df["month"] >= pd.Timestamp(f"{f.month_from}-01")).to_numpy()
    if months and f.month_to:
        m &= (df["month"] <= pd.Timestamp(f"{f.month_to}-01")).to_numpy()
    return m


def _rates(out: pd.DataFrame) -> pd.DataFrame:
    for key, num, den in (
        ("completion_rate", "trainees_completed", "trainees_enrolled"),
        ("placement_rate", "placements", "trainees_completed"),
    ):
        d = out[den].astype("float64")
        out[key] = out[num].astype("float64") / d.where(d > 0)
    return out


def _stock(sub: pd.DataFrame, as_of) -> pd.DataFrame:
    """The rows employers engaged (a stock) is read from at `as_of`: each partnership's latest report in the
    filtered rows `sub`, when it is at most CARRY months before `as_of` (rsp_data/metrics.py)."""
    recent = sub[sub["month"] >= as_of - pd.DateOffset(months=CARRY)]
    return recent.drop_duplicates("rsp_id", keep="last")  # the frame is in (rsp_id, month) order


def _with_carried(sub: pd.DataFrame) -> pd.DataFrame:
    """`sub`'s partnership columns, months and BASE metrics and, for each of its months and each partnership that
    did not report it, a row with that partnership's latest report of employers engaged of the CARRY months before
    (flows 0): summing employers engaged by month gives each month's stock."""
    cols = [*PARTNERSHIP_COLS, "month", *BASE]
    months = sub["month"].unique()
    same = sub["rsp_id"].shift(-1) == sub["rsp_id"]  # the frame is in (rsp_id, month) order
    next_report = sub["month"].shift(-1).where(same)
    # only a report its partnership did not follow the next month carries: into the months before its next report
    ends = next_report.isna() | (next_report > sub["month"] + pd.DateOffset(months=1))
    last, next_report = sub.loc[ends, cols], next_report[ends]
    carried = []
    for k in range(1, CARRY + 1):
        to = last["month"] + pd.DateOffset(months=k)
        moved = to.isin(months) & (next_report.isna() | (next_report > to))
        carried.append(last[moved].assign(month=to[moved], **dict.fromkeys(FLOWS, 0)))
    carried = [c for c in carried if len(c)]
    return pd.concat([sub[cols], *carried], ignore_index=True) if carried else sub  # (no gaps: the reports alone)


def pd_metrics_by(df: pd.DataFrame, f, by: str | None) -> pd.DataFrame:
    sub = df[_mask(df, f)]
    as_of = sub["month"].max() if len(sub) else None
    at = sub[sub["month"] == as_of]
    stock = _stock(sub, as_of) if as_of is not None else sub.iloc[0:0]
    if by is None:
        row = {"group_id": "all", "group_name": "All partnerships", **{m: int(sub[m].sum()) for m in FLOWS}}
        row |= {"employers_engaged": int(stock["employers_engaged"].sum()), "reporting": len(at)}
        row["months"] = int(sub["month"].nunique())
        out = pd.DataFrame([row])
    else:
        key, name = GROUP_COLS[by]
        grouped = sub.groupby(key, sort=False)
        out = grouped[list(FLOWS)].sum()
        out["months"] = grouped["month"].nunique()
        out["group_name"] = grouped[name].first()
        employers = stock.groupby(key, sort=False)["employers_engaged"].sum()
        out["employers_engaged"] = employers.reindex(out.index).fillna(0).astype("int64")
        out["reporting"] = at.groupby(key, sort=False).size().reindex(out.index).fillna(0).astype("int64")
        out = out.rename_axis("group_id").reset_index()
    out = _rates(out)
    out["as_of"] = as_of
    return out.sort_values("group_name", kind="stable").reset_index(drop=True)


def pd_partnership_table(df: pd.DataFrame, f, search: str) -> pd.DataFrame:
    """Per partnership over the range (the Partnerships table before paging), searched."""
    sub = df[_mask(df, f)]
    if not len(sub):
        return pd.DataFrame(columns=["group_id", "group_name", "sector_id", "region_id", *BASE, "months", "reporting"])
    as_of = sub["month"].max()
    grouped = sub.groupby("rsp_id", sort=False)
    out = grouped[list(FLOWS)].sum()
    out["months"] = grouped["month"].nunique()
    for col, src in (("group_name", "name"), ("sector_id", "sector_id"), ("region_id", "region_id")):
        out[col] = grouped[src].first()
    stock = _stock(sub, as_of).set_index("rsp_id")["employers_engaged"]
    out["employers_engaged"] = stock.reindex(out.index).fillna(0).astype("int64")
    out["reporting"] = out.index.isin(sub.loc[sub["month"] == as_of, "rsp_id"]).astype("int64")
    out = out.rename_axis("group_id").reset_index()
    if search.strip():
        needle = search.strip().lower()
        hit = out["group_name"].str.lower().str.contains(needle, regex=False)
        hit |= out["group_id"].str.lower().str.contains(needle, regex=False)
        out = out[hit]
    return out


def pd_partnership_rows(df: pd.DataFrame, f, order_by: str, limit: int, offset: int, search: str) -> pd.DataFrame:
    """A sorted page of the per-partnership table, with rates (partnership_rows)."""
    out = _rates(pd_partnership_table(df, f, search))
    if order_by == "placements_per_employer":
        den = out["employers_engaged"].astype("float64")
        value = out["placements"].astype("float64") / den.where(den > 0)
    else:
        value = out[order_by]
    out = out.assign(_v=value).sort_values(["_v", "group_id"], ascending=[False, True], na_position="last")
    out = out.drop(columns="_v").iloc[offset : offset + limit]
    out["as_of"] = df["month"][_mask(df, f)].max() if len(out) else None
    return out


def pd_metrics_by_cell(df: pd.DataFrame, f) -> pd.DataFrame:
    sub = df[_mask(df, f)]
    keys = ["sector_id", "region_id"]
    grouped = sub.groupby(keys, sort=False)
    out = grouped[list(FLOWS)].sum()
    as_of = sub["month"].max() if len(sub) else None
    stock = _stock(sub, as_of) if as_of is not None else sub.iloc[0:0]
    employers = stock.groupby(keys, sort=False)["employers_engaged"].sum()
    out["employers_engaged"] = employers.reindex(out.index).fillna(0).astype("int64")
    out["reporting"] = sub[sub["month"] == as_of].groupby(keys, sort=False).size().reindex(out.index)
    out["reporting"] = out["reporting"].fillna(0).astype("int64")
    out["sector_name"] = grouped["sector_name"].first()
    out["region_name"] = grouped["region_name"].first()
    return _rates(out.reset_index())


def pd_monthly_totals(df: pd.DataFrame, f, split: str | None, top: int = 12) -> pd.DataFrame:
    sub = df[_mask(df, f)]
    rows = _with_carried(sub)  # each month's stock: its reports and the latest reports carried into it
    if split is None:
        out = rows.groupby("month", sort=False)[list(BASE)].sum().reset_index()
        out["group_id"] = "all"
        out["group_name"] = "All partnerships"
    elif f.partnerships:
        key, name = GROUP_COLS[split]
        out = rows.groupby(["month", key], sort=False).agg(**{m: (m, "sum") for m in BASE}, group_name=(name, "first"))
        out = out.reset_index().rename(columns={key: "group_id"})
    else:  # the `top` groups by placements over the range, and the rest as one group (when more)
        key, name = GROUP_COLS[split]
        per = sub.groupby(key, sort=False)["placements"].sum().reset_index()
        leaders = per.sort_values(["placements", key], ascending=[False, True], kind="stable")[key]
        mine = rows[rows[key].isin(leaders.head(top))]
        out = mine.groupby(["month", key], sort=False).agg(**{m: (m, "sum") for m in BASE}, group_name=(name, "first"))
        out = out.reset_index().rename(columns={key: "group_id"})
        if split == "partnership" or len(leaders) > top:
            total = rows.groupby("month")[list(BASE)].sum()
            others = total.sub(out.groupby("month")[list(BASE)].sum(), fill_value=0)
            others = others[others.abs().sum(axis=1) > 0].reset_index()
            others["group_id"] = "others"
            others["group_name"] = f"All other {split}s"
            out = pd.concat([out, others], ignore_index=True)
    return out.sort_values(["month", "group_name"]).reset_index(drop=True)


def _grant_mask(df: pd.DataFrame, f) -> np.ndarray:
    from queries.goals import grant_start

    m = _mask(df, f.with_(month_from=None))
    return m & df["gjc"].to_numpy() & (df["month"] >= pd.Timestamp(grant_start())).to_numpy()


def pd_goal_progress(df: pd.DataFrame, f) -> tuple:
    sub = df[_grant_mask(df, f)]
    through = sub["month"].max() if len(sub) else None
    return int(sub["placements"].sum()), through, int(sub["rsp_id"].nunique())


def pd_grant_by_month(df: pd.DataFrame, f) -> pd.DataFrame:
    """Placements a month from the grant's start through the last month with figures (0 between)."""
    from queries.goals import grant_start

    sub = df[_grant_mask(df, f)]
    per = sub.groupby("month")["placements"].sum()
    if per.empty:
        return pd.DataFrame({"month": [], "placements": [], "cumulative": []})
    months = pd.date_range(pd.Timestamp(grant_start()), per.index.max(), freq="MS")
    out = per.reindex(months, fill_value=0).rename_axis("month").reset_index()
    out["cumulative"] = out["placements"].cumsum()
    return out


def pd_monthly_rows(df: pd.DataFrame, f, after, limit: int = 100) -> pd.DataFrame:
    m = _mask(df, f)
    if after is not None:
        rsp, month = after
        ids, months = df["rsp_id"].to_numpy(), df["month"].to_numpy()
        m &= (ids > rsp) | ((ids == rsp) & (months > np.datetime64(f"{month}-01")))
    out = df.iloc[np.flatnonzero(m)[:limit]]  # the frame is in (rsp_id, month) order, as the table
    return pd.DataFrame(
        {
            "rsp_id": out["rsp_id"],
            "partnership": out["name"],
            "sector": out["sector_name"],
            "region": out["region_name"],
            "month": out["month"].dt.strftime("%Y-%m"),
            **{m_: out[m_] for m_ in BASE},
            "source": out["source"].map({"demo": "illustrative", "import": "imported"}),
        }
    ).reset_index(drop=True)


def pd_partnership_list(df: pd.DataFrame, ids) -> pd.DataFrame:
    sub = df[df["rsp_id"].isin(ids)]
    out = sub.groupby("rsp_id").agg(
        name=("name", "first"),
        sector_name=("sector_name", "first"),
        region_name=("region_name", "first"),
        first_month=("month", "min"),
        last_month=("month", "max"),
    )
    for col in ("first_month", "last_month"):
        out[col] = out[col].dt.strftime("%Y-%m")
    return out.reset_index().sort_values("name")


def pd_search(df: pd.DataFrame, text_: str, regions, sectors, limit: int = 50) -> pd.DataFrame:
    from queries.filters import Filters

    sub = df[_mask(df, Filters(regions=tuple(regions), sectors=tuple(sectors)))]
    names = sub[["rsp_id", "name"]].drop_duplicates("rsp_id")
    if text_.strip():
        needle = text_.strip().lower()
        hit = names["name"].str.lower().str.contains(needle, regex=False)
        hit |= names["rsp_id"].str.lower().str.contains(needle, regex=False)
        names = names[hit]
    return names.sort_values("name").head(limit)


def pd_share(df: pd.DataFrame, f) -> float:
    m = _mask(df, f)
    return float(df["source"].eq("demo").to_numpy()[m].mean()) if m.any() else 0.0


def pd_named_list(df: pd.DataFrame, key: str, name: str) -> pd.DataFrame:
    return df[[key, name]].drop_duplicates(key).sort_values(name).rename(columns={name: "name"})


# --- the Good jobs & reach page (queries/quality.py) in pandas

QUALITY_COUNTS = OPTIONAL[1:]
# What quality_by sums per group (queries.quality.SUMMED): "months" = partnership-months with data.
QUALITY_SUMS = (
    "months", "trainees_enrolled", "placements", *QUALITY_COUNTS, WAGE_DOLLARS, WAGE_PLACEMENTS,
    NO_BACHELOR_PLACEMENTS, *[f"{m}_rows" for m in OPTIONAL],
)  # fmt: skip


def _quality_terms(sub: pd.DataFrame) -> pd.DataFrame:
    """Per fact row, the terms quality_by sums: the wage as dollars over the placements it covers,
    the placements of the rows that reported placements_no_bachelor, and whether each metric was
    reported (NaN = not)."""
    placements = sub["placements"].astype("float64")
    wage = sub[WAGE]
    out = pd.DataFrame(
        {
            "months": np.ones(len(sub)),
            "trainees_enrolled": sub["trainees_enrolled"],
            "placements": sub["placements"],
            **{m: sub[m].fillna(0) for m in QUALITY_COUNTS},
            WAGE_DOLLARS: (wage * placements).where(wage.notna(), 0.0),
            WAGE_PLACEMENTS: placements.where(wage.notna(), 0.0),
            NO_BACHELOR_PLACEMENTS: placements.where(sub[NO_BACHELOR].notna(), 0.0),
            **{f"{m}_rows": sub[m].notna() for m in OPTIONAL},
        },
        index=sub.index,
    )
    return out


def _quality_ints(out: pd.DataFrame) -> pd.DataFrame:
    """Every sum but the weighted wage as int64 (they are whole counts held as floats)."""
    for c in QUALITY_SUMS:
        if c != WAGE_DOLLARS and c in out:
            out[c] = np.rint(out[c].astype("float64")).astype("int64")
    return out


def _quality_ratios(out: pd.DataFrame) -> pd.DataFrame:
    """The weighted wage and the no-bachelor share of each row's sums (NaN without a denominator)."""
    weight = out[WAGE_PLACEMENTS].astype("float64")
    out[WAGE] = out[WAGE_DOLLARS].astype("float64") / weight.where(weight > 0)
    den = out[NO_BACHELOR_PLACEMENTS].astype("float64")
    out[NO_BACHELOR_SHARE] = out[NO_BACHELOR].astype("float64") / den.where(den > 0)
    return out


def pd_quality_summary(df: pd.DataFrame, f) -> dict:
    sub = df[_mask(df, f)]
    sums = _quality_terms(sub).sum()
    out: dict[str, Any] = {c: round(float(sums[c])) for c in QUALITY_SUMS if c != WAGE_DOLLARS}
    out[WAGE_DOLLARS] = float(sums[WAGE_DOLLARS])
    wp, nb = out[WAGE_PLACEMENTS], out[NO_BACHELOR_PLACEMENTS]
    out[WAGE] = out[WAGE_DOLLARS] / wp if wp > 0 else float("nan")
    out[NO_BACHELOR_SHARE] = out[NO_BACHELOR] / nb if nb > 0 else float("nan")
    out["partnerships"] = int(sub["rsp_id"].nunique())
    out["reporting"] = {m: int(sub.loc[sub[m].notna(), "rsp_id"].nunique()) for m in OPTIONAL}
    return out


def _quality_groups(sub: pd.DataFrame, by: str) -> pd.DataFrame:
    """The sums per sector, region or partnership with data: group_id, group_name, QUALITY_SUMS
    (and sector_id, region_id by partnership)."""
    key, name = GROUP_COLS[by]
    grouped = _quality_terms(sub).groupby(sub[key], sort=False)
    out = _quality_ints(grouped.sum())
    names = sub.groupby(key, sort=False)[[name, *(["sector_id", "region_id"] if by == "partnership" else [])]].first()
    out = names.rename(columns={name: "group_name"}).join(out)
    return out.rename_axis("group_id").reset_index()


def pd_quality_by(df: pd.DataFrame, f, by: str, metric: str = WAGE, top: int | None = None):
    """quality_by: by sector or region, every group with data, by name; by partnership with `top`,
    the partnerships that reported `metric` highest first (ties by id), and beyond `top` of them the
    top − 1 leaders and an "All other N partnerships" row of the totals minus the leaders'."""
    sub = df[_mask(df, f)]
    out = _quality_ratios(_quality_groups(sub, by))
    if by != "partnership":
        return out.sort_values("group_name", kind="stable").reset_index(drop=True)
    reported_by = f"{NO_BACHELOR}_rows" if metric == NO_BACHELOR_SHARE else f"{metric}_rows"
    ranked = out[(out[reported_by] > 0) & out[metric].notna()]
    ranked = ranked.sort_values([metric, "group_id"], ascending=[False, True])
    if top is None or len(ranked) <= top:
        return ranked.reset_index(drop=True)
    head = ranked.iloc[: top - 1]
    rest = out[list(QUALITY_SUMS)].sum() - head[list(QUALITY_SUMS)].sum()
    other = pd.DataFrame([{"group_id": "others", "group_name": f"All other {len(ranked) - len(head):,} partnerships",
                           "sector_id": None, "region_id": None, **rest.to_dict()}])  # fmt: skip
    return pd.concat([head, _quality_ratios(_quality_ints(other))], ignore_index=True)


def pd_quality_monthly(df: pd.DataFrame, f) -> pd.DataFrame:
    sub = df[_mask(df, f)]
    out = _quality_ints(_quality_terms(sub).groupby(sub["month"]).sum())
    return _quality_ratios(out.rename_axis("month").reset_index())


def pd_underrepresented_by_month(df: pd.DataFrame, f, months: int = 12, max_rows: int = 40):
    """Under-represented trainees by partnership (rows: names) and month (columns: 'YYYY-MM') over the
    last `months` months of the range from the first month anybody reported them: (counts, reported).
    The partnerships that reported them then, the largest total first (ties by id); beyond `max_rows`,
    the max_rows − 1 largest and one row "Other partnerships (n)" of the rest."""
    empty = pd.DataFrame(), pd.DataFrame()
    if not len(df):
        return empty
    lo, hi = df["month"].min(), df["month"].max()
    last = min(hi, pd.Timestamp(f"{f.month_to}-01")) if f.month_to else hi
    first = pd.Timestamp(f"{f.month_from}-01") if f.month_from else None
    if last < lo or (first is not None and first > last):
        return empty
    window = pd.date_range(end=last, periods=months, freq="MS")
    if first is not None:
        window = window[window >= first]
    m = _mask(df, f, months=False) & df["month"].isin(window).to_numpy() & df[UNDERREP].notna()
    sub = df.loc[m, ["rsp_id", "name", "month", UNDERREP]]
    if sub.empty:
        return empty
    window = window[window >= sub["month"].min()]
    count = sub.groupby("month")[UNDERREP].agg(["sum", "size"]).reindex(window, fill_value=0)
    total = sub.groupby("rsp_id", as_index=False)[UNDERREP].sum()
    ranked = total.sort_values([UNDERREP, "rsp_id"], ascending=[False, True])["rsp_id"]
    ids = ranked.head(max_rows - 1 if len(ranked) > max_rows else max_rows).tolist()
    mine = sub[sub["rsp_id"].isin(ids)]
    grid = mine.groupby(["rsp_id", "month"])[UNDERREP].agg(["sum", "size"])
    counts = grid["sum"].unstack().reindex(index=ids, columns=window).fillna(0).astype("int64")
    rows = grid["size"].unstack().reindex(index=ids, columns=window).fillna(0).astype("int64")
    names = mine.drop_duplicates("rsp_id").set_index("rsp_id")["name"]
    labels = names.reindex(ids).tolist()
    if len(ranked) > max_rows:
        label = f"Other partnerships ({len(ranked) - len(ids)})"
        counts.loc[label] = np.rint(count["sum"].to_numpy() - counts.sum(axis=0).to_numpy()).astype("int64")
        rows.loc[label] = count["size"].to_numpy() - rows.sum(axis=0).to_numpy()
        labels.append(label)
    reported = rows > 0
    counts.index = reported.index = pd.Index(labels, name="Partnership")
    counts.columns = reported.columns = window.strftime("%Y-%m")
    return counts, reported


# --- the DuckDB baseline: the same joined fact table in an in-memory DuckDB database, one SQL statement a query
# (what Evidence-like tools do: an embedded analytical engine over a copy of the data).


def load_duckdb(df: pd.DataFrame) -> tuple[Any, float, float]:
    """The baseline's frame copied into a table `facts` of an in-memory DuckDB database (NaN = NULL, month as a
    DATE, rows in (rsp_id, month) order): (connection, seconds, MB DuckDB holds)."""
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect(":memory:")
    con.register("frame", df)
    nulls = ", ".join(f"CASE WHEN isnan({m}) THEN NULL ELSE {m} END AS {m}" for m in OPTIONAL)
    con.execute(
        f"CREATE TABLE facts AS SELECT * EXCLUDE (month, {', '.join(OPTIONAL)}), CAST(month AS DATE) AS month, "
        f"{nulls} FROM frame ORDER BY rsp_id, month"
    )
    con.unregister("frame")
    mb = float(con.execute("SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory()").fetchone()[0]) / 2**20
    return con, time.perf_counter() - started, mb


def duckdb_version(con) -> str:
    version, threads = con.execute("SELECT version(), current_setting('threads')").fetchone()
    return f"{version}, {threads} threads"


def _month(value: str) -> date:
    return date.fromisoformat(f"{value}-01")


def _where(f, *, months: bool = True, extra: tuple[str, ...] = ()) -> tuple[str, dict[str, Any]]:
    """The filters as a WHERE clause with named parameters."""
    clauses, params = list(extra), {}
    for col, values in (("region_id", f.regions), ("sector_id", f.sectors), ("rsp_id", f.partnerships)):
        if values:
            names = [f"{col}_{i}" for i in range(len(values))]
            clauses.append(f"{col} IN ({', '.join('$' + n for n in names)})")
            params |= dict(zip(names, values, strict=True))
    if months and f.month_from:
        clauses.append("month >= $month_from")
        params["month_from"] = _month(f.month_from)
    if months and f.month_to:
        clauses.append("month <= $month_to")
        params["month_to"] = _month(f.month_to)
    return ("WHERE " + " AND ".join(clauses)) if clauses else "", params


def _searched(search: str, params: dict[str, Any], name: str = "name", key: str = "rsp_id") -> tuple[str, ...]:
    if not search.strip():
        return ()
    params["needle"] = search.strip().lower()
    return (f"(contains(lower({name}), $needle) OR contains(lower({key}), $needle))",)


def _df(con, sql: str, params: dict[str, Any]) -> pd.DataFrame:
    return con.execute(sql, params).df()


def _sums(cols, prefix: str = "") -> str:
    return ", ".join(f"CAST(sum({prefix}{c}) AS BIGINT) AS {c}" for c in cols)


RATES_SQL = (
    "CASE WHEN trainees_enrolled > 0 THEN trainees_completed / trainees_enrolled END AS completion_rate, "
    "CASE WHEN trainees_completed > 0 THEN placements / trainees_completed END AS placement_rate"
)


def _sub(where: str) -> str:
    """The CTEs `filtered`, `latest` and `sub`: the filtered rows, each with `counts`: whether employers engaged (a
    stock) is read from it at the as-of month (the last month of the rows): its partnership's latest report, at most
    CARRY months before."""
    return f"""filtered AS (SELECT * FROM facts {where}),
        latest AS (SELECT rsp_id, max(month) AS month FROM filtered
                   WHERE month >= (SELECT max(month) FROM filtered) - to_months({CARRY}) GROUP BY rsp_id),
        sub AS (SELECT filtered.*, latest.rsp_id IS NOT NULL AS counts
                FROM filtered LEFT JOIN latest USING (rsp_id, month))"""


def _at_as_of() -> str:
    """employers_engaged at the as-of month and the partnerships reporting that month, over `sub`'s rows."""
    return (
        "coalesce(CAST(sum(employers_engaged) FILTER (WHERE counts) AS BIGINT), 0) AS employers_engaged, "
        "count(*) FILTER (WHERE month = (SELECT max(month) FROM sub)) AS reporting"
    )


def _carried_sql(where: str) -> str:
    """The CTEs `sub` (the filtered rows) and, through `ends` and `moved`, `rows`: `sub`'s rows and, for each of its
    months and each partnership that did not report it, a row with that partnership's latest report of employers
    engaged of the CARRY months before (flows 0): summing employers engaged by month gives each month's stock."""
    cols = ", ".join(PARTNERSHIP_COLS)
    return f"""sub AS (SELECT * FROM facts {where}),
        ends AS (SELECT {cols}, month, employers_engaged,
                        lead(month) OVER (PARTITION BY rsp_id ORDER BY month) AS next_report FROM sub
                 QUALIFY next_report IS NULL OR next_report > month + to_months(1)),  -- the reports that may carry
        moved AS (SELECT *, CAST(month + to_months(k) AS DATE) AS to_month
                  FROM ends, range(1, {CARRY + 1}) AS steps(k)),
        rows AS (
            SELECT {cols}, month, {", ".join(BASE)} FROM sub
            UNION ALL BY NAME
            SELECT {cols}, to_month AS month, employers_engaged, 0 AS trainees_enrolled, 0 AS trainees_completed,
                   0 AS placements
            FROM moved WHERE to_month IN (SELECT month FROM sub) AND (next_report IS NULL OR next_report > to_month))"""


def duck_metrics_by(con, f, by: str | None) -> pd.DataFrame:
    where, params = _where(f)
    key, name = GROUP_COLS[by] if by else ("'all'", "'All partnerships'")
    group = f"GROUP BY {key}" if by else ""
    return _df(
        con,
        f"""WITH {_sub(where)}
        SELECT *, {RATES_SQL}, (SELECT max(month) FROM sub) AS as_of FROM (
            SELECT {key} AS group_id, any_value({name}) AS group_name, {_sums(FLOWS)}, count(DISTINCT month) AS months,
                   {_at_as_of()}
            FROM sub {group}) ORDER BY group_name""",
        params,
    )


def duck_kpi(con, f) -> dict:
    out = duck_metrics_by(con, f, None).iloc[0].to_dict()
    return {k: (0 if k in FLOWS and pd.isna(v) else v) for k, v in out.items()}  # SUM over no rows


def duck_metrics_by_cell(con, f) -> pd.DataFrame:
    where, params = _where(f)
    return _df(
        con,
        f"""WITH {_sub(where)}
        SELECT *, {RATES_SQL} FROM (
            SELECT sector_id, region_id, {_sums(FLOWS)}, {_at_as_of()}, any_value(sector_name) AS sector_name,
                   any_value(region_name) AS region_name
            FROM sub GROUP BY sector_id, region_id)""",
        params,
    )


def duck_monthly_totals(con, f, split: str | None, top: int = 12) -> pd.DataFrame:
    where, params = _where(f)
    if split is None:  # each month's stock from `rows`: its reports and the latest reports carried into it
        sql = f"""WITH {_carried_sql(where)}
                  SELECT month, 'all' AS group_id, 'All partnerships' AS group_name, {_sums(BASE)}
                  FROM rows GROUP BY month ORDER BY month"""
    elif f.partnerships:
        key, name = GROUP_COLS[split]
        sql = f"""WITH {_carried_sql(where)}
                  SELECT month, {key} AS group_id, any_value({name}) AS group_name, {_sums(BASE)}
                  FROM rows GROUP BY month, {key} ORDER BY month, group_name"""
    else:  # the `top` groups by placements over the range, and the rest as one group (when more)
        key, name = GROUP_COLS[split]
        params |= {"top": top, "others": f"All other {split}s"}
        nonzero = " OR ".join(f"sum({m}) <> 0" for m in BASE)
        sql = f"""WITH {_carried_sql(where)},
            per AS (SELECT {key} AS k, sum(placements) AS p FROM sub GROUP BY k),
            leaders AS (SELECT k FROM per ORDER BY p DESC, k LIMIT $top),
            tagged AS (SELECT *, {key} IN (SELECT k FROM leaders) AS leads FROM rows)
            SELECT month, {key} AS group_id, any_value({name}) AS group_name, {_sums(BASE)}
            FROM tagged WHERE leads GROUP BY month, {key}
            UNION ALL
            SELECT month, 'others', $others, {_sums(BASE)} FROM tagged
            WHERE NOT leads AND {"true" if split == "partnership" else "(SELECT count(*) FROM per) > $top"}
            GROUP BY month HAVING {nonzero}
            ORDER BY month, group_name"""
    return _df(con, sql, params)


def _grant_where(f) -> tuple[str, dict[str, Any]]:
    from queries.goals import grant_start

    where, params = _where(f.with_(month_from=None), extra=("gjc", "month >= $grant"))
    params["grant"] = pd.Timestamp(grant_start()).date()
    return where, params


def duck_goal_progress(con, f) -> tuple:
    where, params = _grant_where(f)
    placements, through, partnerships = con.execute(
        f"SELECT coalesce(sum(placements), 0), max(month), count(DISTINCT rsp_id) FROM facts {where}", params
    ).fetchone()
    return int(placements), through, int(partnerships)


def duck_grant_by_month(con, f) -> pd.DataFrame:
    where, params = _grant_where(f)
    return _df(
        con,
        f"""WITH per AS (SELECT month, sum(placements) AS placements FROM facts {where} GROUP BY month),
        months AS (SELECT CAST(generate_series AS DATE) AS month
                   FROM generate_series(CAST($grant AS TIMESTAMP), CAST((SELECT max(month) FROM per) AS TIMESTAMP),
                                        INTERVAL 1 MONTH))
        SELECT month, CAST(coalesce(placements, 0) AS BIGINT) AS placements,
               CAST(sum(coalesce(placements, 0)) OVER (ORDER BY month) AS BIGINT) AS cumulative
        FROM months LEFT JOIN per USING (month) ORDER BY month""",
        params,
    )


def _partnership_table(f, search: str) -> tuple[str, dict[str, Any]]:
    """CTEs `sub` (the filtered rows) and `t` (per partnership over the range, searched, with rates)."""
    where, params = _where(f)
    hit = _searched(search, params, "group_name", "group_id")
    return (
        f"""WITH {_sub(where)},
        t AS (SELECT *, {RATES_SQL} FROM (
            SELECT rsp_id AS group_id, any_value(name) AS group_name, any_value(sector_id) AS sector_id,
                   any_value(region_id) AS region_id, {_sums(FLOWS)}, count(DISTINCT month) AS months, {_at_as_of()}
            FROM sub GROUP BY rsp_id) {"WHERE " + hit[0] if hit else ""})""",
        params,
    )


def duck_partnership_rows(con, f, order_by: str, limit: int, offset: int, search: str) -> pd.DataFrame:
    ctes, params = _partnership_table(f, search)
    value = (
        "CASE WHEN employers_engaged > 0 THEN placements / employers_engaged END"
        if order_by == "placements_per_employer"
        else order_by
    )
    params |= {"limit": limit, "offset": offset}
    return _df(
        con,
        f"""{ctes} SELECT *, (SELECT max(month) FROM sub) AS as_of FROM t
        ORDER BY {value} DESC NULLS LAST, group_id LIMIT $limit OFFSET $offset""",
        params,
    )


def duck_partnership_count(con, f, search: str) -> int:
    params: dict[str, Any] = {}
    where, more = _where(f, extra=_searched(search, params))
    return int(duck_scalar(con, f"SELECT count(DISTINCT rsp_id) FROM facts {where}", params | more))


def duck_monthly_rows(con, f, after, limit: int = 100) -> pd.DataFrame:
    extra: tuple[str, ...] = ()
    if after is not None:
        extra = ("(rsp_id > $after_id OR (rsp_id = $after_id AND month > $after_month))",)
    where, params = _where(f, extra=extra)
    if after is not None:
        params |= {"after_id": after[0], "after_month": _month(after[1])}
    params["limit"] = limit
    return _df(
        con,
        f"""SELECT rsp_id, name AS partnership, sector_name AS sector, region_name AS region,
               strftime(month, '%Y-%m') AS month, {", ".join(BASE)},
               CASE source WHEN 'demo' THEN 'illustrative' WHEN 'import' THEN 'imported' END AS source
        FROM facts {where} ORDER BY rsp_id, month LIMIT $limit""",
        params,
    )


def duck_scalar(con, sql: str, params: dict[str, Any] | None = None) -> Any:
    return con.execute(sql, params or {}).fetchone()[0]


def duck_row_count(con, f) -> int:
    where, params = _where(f)
    return int(duck_scalar(con, f"SELECT count(*) FROM facts {where}", params))


def duck_partnership_list(con, ids) -> pd.DataFrame:
    from queries.filters import Filters

    where, params = _where(Filters(partnerships=tuple(ids)))
    return _df(
        con,
        f"""SELECT rsp_id, any_value(name) AS name, any_value(sector_name) AS sector_name,
               any_value(region_name) AS region_name, strftime(min(month), '%Y-%m') AS first_month,
               strftime(max(month), '%Y-%m') AS last_month
        FROM facts {where} GROUP BY rsp_id ORDER BY name, rsp_id""",
        params,
    )


def duck_search(con, text_: str, regions, sectors, limit: int = 50) -> pd.DataFrame:
    from queries.filters import Filters

    params: dict[str, Any] = {}
    hit = _searched(text_, params)
    where, more = _where(Filters(regions=tuple(regions), sectors=tuple(sectors)), extra=hit)
    return _df(
        con,
        f"""SELECT rsp_id, any_value(name) AS name FROM facts {where}
        GROUP BY rsp_id ORDER BY name, rsp_id LIMIT {int(limit)}""",
        params | more,
    )


def duck_share(con, f) -> float:
    where, params = _where(f)
    return float(
        duck_scalar(con, f"SELECT coalesce(avg(CAST(source = 'demo' AS DOUBLE)), 0) FROM facts {where}", params)
    )


def duck_named_list(con, key: str, name: str) -> pd.DataFrame:
    return _df(con, f"SELECT {key}, any_value({name}) AS name FROM facts GROUP BY {key} ORDER BY name, {key}", {})


# What quality_by sums, as SQL over the fact rows (the terms of _quality_terms).
QUALITY_TERMS_SQL = {
    "months": "count(*)",
    "trainees_enrolled": "sum(trainees_enrolled)",
    "placements": "sum(placements)",
    **{m: f"coalesce(sum({m}), 0)" for m in QUALITY_COUNTS},
    WAGE_DOLLARS: f"coalesce(sum({WAGE} * placements), 0)",
    WAGE_PLACEMENTS: f"coalesce(sum(placements) FILTER (WHERE {WAGE} IS NOT NULL), 0)",
    NO_BACHELOR_PLACEMENTS: f"coalesce(sum(placements) FILTER (WHERE {NO_BACHELOR} IS NOT NULL), 0)",
    **{f"{m}_rows": f"count({m})" for m in OPTIONAL},
}
QUALITY_RATIOS_SQL = {
    WAGE: f"CASE WHEN {WAGE_PLACEMENTS} > 0 THEN {WAGE_DOLLARS} / {WAGE_PLACEMENTS} END",
    NO_BACHELOR_SHARE: f"CASE WHEN {NO_BACHELOR_PLACEMENTS} > 0 THEN {NO_BACHELOR} / {NO_BACHELOR_PLACEMENTS} END",
}


def _quality_sums_sql() -> str:
    return ", ".join(
        f"coalesce({sql}, 0) AS {c}" if c == WAGE_DOLLARS else f"CAST(round(coalesce({sql}, 0)) AS BIGINT) AS {c}"
        for c, sql in QUALITY_TERMS_SQL.items()
    )


def _quality_ratios_sql() -> str:
    return ", ".join(f"{sql} AS {c}" for c, sql in QUALITY_RATIOS_SQL.items())


def duck_quality_summary(con, f) -> dict:
    where, params = _where(f)
    reporting = ", ".join(f"count(DISTINCT rsp_id) FILTER (WHERE {m} IS NOT NULL) AS {m}_reporting" for m in OPTIONAL)
    row = _df(
        con,
        f"""SELECT *, {_quality_ratios_sql()} FROM (
            SELECT {_quality_sums_sql()}, count(DISTINCT rsp_id) AS partnerships, {reporting} FROM facts {where})""",
        params,
    ).iloc[0]
    out: dict[str, Any] = {c: (float(row[c]) if c == WAGE_DOLLARS else int(row[c])) for c in QUALITY_SUMS}
    out |= {c: float("nan") if pd.isna(row[c]) else float(row[c]) for c in QUALITY_RATIOS_SQL}
    out["partnerships"] = int(row["partnerships"])
    out["reporting"] = {m: int(row[f"{m}_reporting"]) for m in OPTIONAL}
    return out


def duck_quality_by(con, f, by: str, metric: str = WAGE, top: int | None = None) -> pd.DataFrame:
    """quality_by as duckdb answers it: the groups by name; by partnership the ranked ones, and beyond `top`
    the top − 1 leaders and one row of every other partnership's sums."""
    where, params = _where(f)
    key, name = GROUP_COLS[by]
    ids = ", any_value(sector_id) AS sector_id, any_value(region_id) AS region_id" if by == "partnership" else ""
    groups = f"""WITH g AS (SELECT *, {_quality_ratios_sql()} FROM (
        SELECT {key} AS group_id, any_value({name}) AS group_name{ids}, {_quality_sums_sql()}
        FROM facts {where} GROUP BY {key}))"""
    if by != "partnership":
        return _df(con, f"{groups} SELECT * FROM g ORDER BY group_name, group_id", params)
    reported_by = f"{NO_BACHELOR}_rows" if metric == NO_BACHELOR_SHARE else f"{metric}_rows"
    cap = top if top is not None else 2**62
    sums = ", ".join(c for c in QUALITY_TERMS_SQL)
    other_sums = ", ".join(f"{'' if c == WAGE_DOLLARS else 'CAST('}sum({c}){'' if c == WAGE_DOLLARS else ' AS BIGINT)'}"
                           f" AS {c}" for c in QUALITY_TERMS_SQL)  # fmt: skip
    params["cap"] = cap
    return _df(
        con,
        f"""{groups},
        ranked AS (SELECT *, row_number() OVER (ORDER BY {metric} DESC, group_id) AS rank, count(*) OVER () AS n
                   FROM g WHERE {reported_by} > 0 AND {metric} IS NOT NULL),
        head AS (SELECT * FROM ranked WHERE n <= $cap OR rank < $cap),
        picked AS (
            SELECT group_id, group_name, sector_id, region_id, {sums}, rank FROM head
            UNION ALL
            SELECT 'others', 'All other ' || format('{{:,}}', any_value(n) - ($cap - 1)) || ' partnerships',
                   NULL, NULL, {other_sums}, $cap
            FROM g, (SELECT max(n) AS n FROM ranked) WHERE group_id NOT IN (SELECT group_id FROM head)
            HAVING any_value(n) > $cap)
        SELECT * EXCLUDE (rank), {_quality_ratios_sql()} FROM picked ORDER BY rank""",
        params,
    )


def duck_quality_monthly(con, f) -> pd.DataFrame:
    where, params = _where(f)
    return _df(
        con,
        f"""SELECT *, {_quality_ratios_sql()} FROM (
            SELECT month, {_quality_sums_sql()} FROM facts {where} GROUP BY month) ORDER BY month""",
        params,
    )


def duck_underrepresented_by_month(con, f, months: int = 12, max_rows: int = 40):
    """One statement for the cells (the leaders' and one row of the others', per month of the window); the grid
    of the page (every month of the window, 0 where nobody reported) shaped from them in pandas."""
    empty = pd.DataFrame(), pd.DataFrame()
    where, params = _where(f, months=False, extra=(f"{UNDERREP} IS NOT NULL",))
    params |= {"to": _month(f.month_to) if f.month_to else None, "from": _month(f.month_from) if f.month_from else None}
    params |= {"span": months - 1, "max_rows": max_rows}
    cells = _df(
        con,
        f"""WITH b AS (SELECT least(max(month), coalesce($to, max(month))) AS last FROM facts),
        w AS (SELECT greatest(CAST(last - to_months($span) AS DATE), coalesce($from, DATE '0001-01-01')) AS start,
                     last FROM b),
        sub AS (SELECT rsp_id, name, month, {UNDERREP} AS v FROM facts {where}
                AND month BETWEEN (SELECT start FROM w) AND (SELECT last FROM w)),
        ranked AS (SELECT rsp_id, any_value(name) AS name,
                          row_number() OVER (ORDER BY sum(v) DESC, rsp_id) AS rank, count(*) OVER () AS n
                   FROM sub GROUP BY rsp_id),
        tagged AS (SELECT sub.*, CASE WHEN n <= $max_rows OR rank < $max_rows THEN rank ELSE $max_rows END AS row,
                          CASE WHEN n <= $max_rows OR rank < $max_rows THEN ranked.name
                               ELSE 'Other partnerships (' || (n - $max_rows + 1) || ')' END AS label
                   FROM sub JOIN ranked USING (rsp_id))
        SELECT row, label, month, CAST(round(sum(v)) AS BIGINT) AS count, count(*) AS reported,
               (SELECT min(month) FROM sub) AS first, (SELECT last FROM w) AS last
        FROM tagged GROUP BY row, label, month ORDER BY row, month""",
        params,
    )
    if cells.empty:
        return empty
    window = pd.date_range(cells["first"].iloc[0], cells["last"].iloc[0], freq="MS")
    labels = cells.drop_duplicates("row").sort_values("row")["label"].tolist()
    grid = {
        col: cells.pivot(index="label", columns="month", values=col)
        .reindex(index=labels, columns=window)
        .fillna(0)
        .astype("int64")
        for col in ("count", "reported")
    }
    counts, reported = grid["count"], grid["reported"] > 0
    counts.index = reported.index = pd.Index(labels, name="Partnership")
    counts.columns = reported.columns = window.strftime("%Y-%m")
    return counts, reported


# --- comparing answers


def _canon(value: Any) -> Any:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp | datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, np.bool_ | bool):
        return int(value)
    if isinstance(value, np.integer | int):
        return int(value)
    if isinstance(value, np.floating | float):
        return float(f"{float(value):.10g}")  # sums of floats may differ in the last bits by store
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            if len(value) == 10 and value[4] == "-" and value[7] == "-":  # a date as SQLite text
                return date.fromisoformat(value).isoformat()
        return value
    return value


def rows_of(df: pd.DataFrame, cols: list[str], sort: list[str] | None = None) -> list[tuple]:
    if df is None or len(df) == 0:
        return []
    df = df[cols]
    if sort:
        df = df.sort_values(sort, kind="stable")
    return [tuple(_canon(v) for v in row) for row in df.itertuples(index=False, name=None)]


def differ(a: Any, b: Any) -> str | None:
    """None when two canonical answers agree, else a short description of the first difference."""
    if a == b:
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{len(a)} rows vs {len(b)} rows"
        i = next(i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y)
        return f"row {i}: {a[i]} vs {b[i]}"
    return f"{a} vs {b}"


def generic(value: Any) -> Any:
    """A canonical form of any answer: frames as rows in their order, dicts sorted by key."""
    if isinstance(value, pd.DataFrame):
        return [tuple(str(c) for c in value.columns), *rows_of(value, list(value.columns))]
    if isinstance(value, dict):
        return tuple(sorted((str(k), generic(v)) for k, v in value.items()))
    if isinstance(value, tuple | list):
        return tuple(generic(v) for v in value)
    return _canon(value)


# What the Good jobs & reach page shows, as it reads it: the counts exact, the wage to the cent and the
# share to a hundredth of a percent (the weighted wage, a sum of floats, only through them).
READABLE = {WAGE: 2, NO_BACHELOR_SHARE: 4}
# The quality queries give the optional metrics' own sums (not the months, enrolments or placements).
QUALITY_SHOWN = [c for c in QUALITY_SUMS if c not in (WAGE_DOLLARS, "months", "trainees_enrolled", "placements")]
QUALITY_SHOWN += list(READABLE)
MONTHLY_QUALITY_COLS = ["month", WAGE_PLACEMENTS, *QUALITY_COUNTS, *[f"{m}_rows" for m in OPTIONAL],
                        WAGE]  # fmt: skip


def _readable(key: str, value: Any) -> Any:
    value = _canon(value)
    return round(value, READABLE[key]) if key in READABLE and value is not None else value


def quality_summary_canon(d: dict) -> tuple:
    shown = tuple((k, _readable(k, d[k])) for k in QUALITY_SHOWN)
    return (*shown, ("partnerships", int(d["partnerships"])), *sorted((k, int(v)) for k, v in d["reporting"].items()))


def quality_rows(df: pd.DataFrame, cols: list[str]) -> list[tuple]:
    """The rows in their order (by name, or ranked), the ratios as the page shows them."""
    if df is None or len(df) == 0:
        return []
    return [
        tuple(_readable(c, v) for c, v in zip(cols, row, strict=True))
        for row in df[cols].itertuples(index=False, name=None)
    ]


def quality_table_canon(answer: tuple) -> tuple:
    """(counts, reported) with their row labels and month columns."""
    return tuple(
        (tuple(str(c) for c in t.columns), *[(str(i), *(_canon(v) for v in row)) for i, row in t.iterrows()])
        for t in answer
        if len(t)
    )


METRIC_COLS = ["group_id", "group_name", *BASE, "completion_rate", "placement_rate", "months", "reporting", "as_of"]
MONTHLY_COLS = ["month", "group_id", "group_name", *BASE]
TABLE_COLS = ["group_id", "group_name", "sector_id", "region_id", *BASE, "months", "reporting"]
PAGE_COLS = ["group_id", "group_name", *BASE, "completion_rate", "placement_rate", "months", "reporting", "as_of"]
CELL_COLS = ["sector_id", "region_id", "sector_name", "region_name", *BASE, "reporting", "completion_rate",
             "placement_rate"]  # fmt: skip
ROW_COLS = ["rsp_id", "partnership", "sector", "region", "month", *BASE, "source"]  # (the required metrics)


@dataclass(frozen=True)
class Query:
    """One query behind a page: the store's function, the pandas equivalent, and a canonical form."""

    name: str
    pages: str
    sql: Callable[[Engine, Call], Any]
    pandas: Callable[[pd.DataFrame, Call], Any] | None
    canon: Callable[[Any], Any]
    mix: tuple[str, ...] = FILTER_MIX
    deep: str | None = None
    # The registry lists: the baseline can only list what has facts, so the store's answer is compared
    # on the ids (this column of the partnerships) that have partnerships with facts.
    with_data: str | None = None
    # The DuckDB baseline: the same answer from one SQL statement over the joined table (None: no baseline).
    duckdb: Callable[[Any, Call], Any] | None = None


def _kpi_canon(d: dict) -> tuple:
    return tuple(_canon(d[k]) for k in (*BASE, "completion_rate", "placement_rate", "months", "reporting", "as_of"))


def workload() -> list[Query]:
    from queries import data, goals, metrics, quality, registry

    def kpi_pd(df, c):
        return pd_metrics_by(df, c.filters, None).iloc[0].to_dict()

    def metrics_q(by, pages):
        return Query(
            f"metrics_by({by})",
            pages,
            lambda e, c: metrics.metrics_by(e, c.filters, by),
            lambda df, c: pd_metrics_by(df, c.filters, by),
            lambda r: rows_of(r, METRIC_COLS, ["group_id"]),
            duckdb=lambda con, c: duck_metrics_by(con, c.filters, by),
        )

    def monthly_q(split, pages):
        return Query(
            f"monthly_totals({split})",
            pages,
            lambda e, c: metrics.monthly_totals(e, c.filters, split),
            lambda df, c: pd_monthly_totals(df, c.filters, split),
            lambda r: rows_of(r, MONTHLY_COLS, ["month", "group_id"]),
            duckdb=lambda con, c: duck_monthly_totals(con, c.filters, split),
        )

    def rows_q(name, pages, order_by, limit, deep):
        return Query(
            name,
            pages,
            lambda e, c: metrics.partnership_rows(
                e,
                c.filters,
                order_by=order_by,
                descending=True,
                limit=limit,
                offset=c.offset,
                search=c.search,
                total=c.total,
            ),
            lambda df, c: pd_partnership_rows(df, c.filters, order_by, limit, c.offset, c.search),
            lambda r: rows_of(r, PAGE_COLS),
            SEARCH_MIX if deep else FILTER_MIX,
            deep,
            duckdb=lambda con, c: duck_partnership_rows(con, c.filters, order_by, limit, c.offset, c.search),
        )

    return [
        Query("data_version", "every run", lambda e, c: data.data_version(e), None, lambda r: r),
        Query(
            "partnership_count (registry)",
            "sidebar",
            lambda e, c: registry.partnership_count(e),
            lambda df, c: int(df["rsp_id"].nunique()),
            int,
            duckdb=lambda con, c: int(duck_scalar(con, "SELECT count(DISTINCT rsp_id) FROM facts")),
        ),
        Query(
            "month_bounds",
            "sidebar",
            lambda e, c: registry.month_bounds(e),
            lambda df, c: tuple(df["month"].agg(["min", "max"]).dt.strftime("%Y-%m")),
            tuple,
            duckdb=lambda con, c: con.execute(
                "SELECT strftime(min(month), '%Y-%m'), strftime(max(month), '%Y-%m') FROM facts"
            ).fetchone(),
        ),
        Query(
            "region_list",
            "sidebar",
            lambda e, c: registry.region_list(e),
            lambda df, c: pd_named_list(df, "region_id", "region_name"),
            lambda r: rows_of(r, ["region_id", "name"]),
            with_data="region_id",
            duckdb=lambda con, c: duck_named_list(con, "region_id", "region_name"),
        ),
        Query(
            "sector_list",
            "sidebar",
            lambda e, c: registry.sector_list(e),
            lambda df, c: pd_named_list(df, "sector_id", "sector_name"),
            lambda r: rows_of(r, ["sector_id", "name"]),
            with_data="sector_id",
            duckdb=lambda con, c: duck_named_list(con, "sector_id", "sector_name"),
        ),
        Query(
            "search_partnerships",
            "sidebar picker",
            lambda e, c: registry.search_partnerships(e, c.search, c.filters.regions, c.filters.sectors),
            lambda df, c: pd_search(df, c.search, c.filters.regions, c.filters.sectors),
            lambda r: rows_of(r, ["rsp_id", "name"]),
            SEARCH_MIX,
            duckdb=lambda con, c: duck_search(con, c.search, c.filters.regions, c.filters.sectors),
        ),
        Query(
            "partnership_list(25 ids)",
            "partnerships, map",
            lambda e, c: registry.partnership_list(e, c.ids),
            lambda df, c: pd_partnership_list(df, c.ids),
            lambda r: rows_of(r, ["rsp_id", "name", "sector_name", "region_name", "first_month", "last_month"]),
            duckdb=lambda con, c: duck_partnership_list(con, c.ids),
        ),
        Query(
            "illustrative_share",
            "every page",
            lambda e, c: data.illustrative_share(e, c.filters),
            lambda df, c: pd_share(df, c.filters),
            lambda r: round(float(r), 9),
            duckdb=lambda con, c: duck_share(con, c.filters),
        ),
        Query(
            "kpi_summary",
            "every page",
            lambda e, c: metrics.kpi_summary(e, c.filters),
            kpi_pd,
            _kpi_canon,
            duckdb=lambda con, c: duck_kpi(con, c.filters),
        ),
        metrics_q("sector", "overview"),
        metrics_q("region", "overview, map"),
        Query(
            "metrics_by_cell",
            "partnerships (sector × region)",
            lambda e, c: metrics.metrics_by_cell(e, c.filters),
            lambda df, c: pd_metrics_by_cell(df, c.filters),
            lambda r: rows_of(r, CELL_COLS, ["sector_id", "region_id"]),
            duckdb=lambda con, c: duck_metrics_by_cell(con, c.filters),
        ),
        monthly_q(None, "overview, trends, partnerships"),
        monthly_q("sector", "trends"),
        monthly_q("region", "trends (top 12 + others)"),
        monthly_q("partnership", "trends (top 12 + others)"),
        Query(
            "goal_progress",
            "overview",
            lambda e, c: goals.goal_progress(e, c.filters),
            lambda df, c: pd_goal_progress(df, c.filters),
            lambda r: (
                tuple(_canon(v) for v in r)
                if isinstance(r, tuple)
                else (r.placements, _canon(r.through), r.partnerships)
            ),
            duckdb=lambda con, c: duck_goal_progress(con, c.filters),
        ),
        Query(
            "grant_placements_by_month",
            "overview, trends",
            lambda e, c: goals.grant_placements_by_month(e, c.filters),
            lambda df, c: pd_grant_by_month(df, c.filters),
            lambda r: rows_of(r, ["month", "placements", "cumulative"]),
            duckdb=lambda con, c: duck_grant_by_month(con, c.filters),
        ),
        rows_q("partnership_rows(table page)", "partnerships table (25, deep page)", "placements", 25, "table"),
        rows_q("partnership_rows(map 300)", "map markers", "placements", 300, None),
        rows_q("partnership_rows(ranking)", "partnerships rankings", "placement_rate", 15, None),
        Query(
            "partnership_count",
            "partnerships table",
            lambda e, c: metrics.partnership_count(e, c.filters, c.search),
            lambda df, c: len(pd_partnership_table(df, c.filters, c.search)),
            int,
            SEARCH_MIX,
            duckdb=lambda con, c: duck_partnership_count(con, c.filters, c.search),
        ),
        Query(
            "monthly_rows(page)",
            "data table (keyset)",
            lambda e, c: data.monthly_rows(e, c.filters, after=c.after, limit=100),
            lambda df, c: pd_monthly_rows(df, c.filters, c.after),
            lambda r: rows_of(r, ROW_COLS),
            FILTER_MIX,
            "data",
            duckdb=lambda con, c: duck_monthly_rows(con, c.filters, c.after),
        ),
        Query(
            "monthly_row_count",
            "data",
            lambda e, c: data.monthly_row_count(e, c.filters),
            lambda df, c: int(_mask(df, c.filters).sum()),
            int,
            duckdb=lambda con, c: duck_row_count(con, c.filters),
        ),
        Query("load_history", "data", lambda e, c: data.load_history(e), None, lambda r: len(r)),
        Query("goal_list", "overview, profile", lambda e, c: goals.goal_list(e), None, generic),
        # Good jobs & reach (queries/quality.py)
        Query(
            "quality_summary",
            "good jobs & reach",
            lambda e, c: quality.quality_summary(e, c.filters),
            lambda df, c: pd_quality_summary(df, c.filters),
            quality_summary_canon,
            duckdb=lambda con, c: duck_quality_summary(con, c.filters),
        ),
        *[
            Query(
                f"quality_by({by})",
                "good jobs & reach",
                lambda e, c, by=by: quality.quality_by(e, c.filters, by, metric=WAGE),
                lambda df, c, by=by: pd_quality_by(df, c.filters, by),
                lambda r: quality_rows(r, ["group_id", "group_name", *QUALITY_SHOWN]),
                duckdb=lambda con, c, by=by: duck_quality_by(con, c.filters, by),
            )
            for by in ("sector", "region")
        ],
        Query(  # as the page asks for it (ui/views.quality_breakdown): the leaders and all the others
            "quality_by(partnership, top 15)",
            "good jobs & reach",
            lambda e, c: quality.quality_by(e, c.filters, "partnership", metric=WAGE, top=15),
            lambda df, c: pd_quality_by(df, c.filters, "partnership", metric=WAGE, top=15),
            lambda r: quality_rows(r, ["group_id", "group_name", "sector_id", "region_id", *QUALITY_SHOWN]),
            duckdb=lambda con, c: duck_quality_by(con, c.filters, "partnership", metric=WAGE, top=15),
        ),
        Query(
            "quality_monthly",
            "good jobs & reach",
            lambda e, c: quality.quality_monthly(e, c.filters),
            lambda df, c: pd_quality_monthly(df, c.filters),
            lambda r: quality_rows(r, MONTHLY_QUALITY_COLS),
            duckdb=lambda con, c: duck_quality_monthly(con, c.filters),
        ),
        Query(
            "suppressed_by_month",
            "good jobs & reach (table)",
            lambda e, c: quality.suppressed_by_month(e, c.filters, "trainees_underrepresented"),
            lambda df, c: pd_underrepresented_by_month(df, c.filters),
            quality_table_canon,
            duckdb=lambda con, c: duck_underrepresented_by_month(con, c.filters),
        ),
    ]


# ---------------------------------------------------------------- running it


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100), None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, min(len(ordered), math.ceil(q / 100 * len(ordered)))) - 1]


@dataclass
class QueryResult:
    query: Query
    times: dict[str, list[float]] = field(default_factory=dict)  # store, "pandas" or "duckdb" -> ms
    mismatches: list[str] = field(default_factory=list)
    slowest: dict[str, tuple[float, str]] = field(default_factory=dict)  # who -> (ms, the call)
    failures: dict[str, int] = field(default_factory=dict)  # store -> calls that raised an error
    failure_text: dict[str, str] = field(default_factory=dict)  # store -> the first error
    timeouts: dict[str, int] = field(default_factory=dict)  # store -> calls that hit the statement timeout
    stopped: dict[str, int] = field(default_factory=dict)  # who -> repetitions done when its time ran out

    def median(self, who: str) -> float | None:
        values = self.times.get(who) or []
        return statistics.median(values) if values else None

    def p95(self, who: str) -> float | None:
        return percentile(self.times.get(who) or [], 95)

    def ratio(self, store: str, baseline: str = "pandas") -> float | None:
        base, mine = self.median(baseline), self.median(store)
        return base / mine if base is not None and mine else None

    @property
    def agreed(self) -> bool | None:
        return None if self.query.pandas is None else not self.mismatches

    @property
    def differ(self) -> list[str]:
        """Answers that differed (a compared call that timed out is not one)."""
        return [m for m in self.mismatches if "not compared" not in m]

    def answers(self) -> str:
        if self.differ:
            return "**DIFFER**"
        if self.mismatches:
            return "not compared (timed out or failed)"
        if self.query.pandas is not None and "pandas" in self.times:
            return "agree"
        return "no baseline" + (", stores agree" if len(self.times) > 1 else "")


def bench_engine(url: str, call_timeout: float) -> Engine:
    """The app's engine (rsp_data.store.make_engine); on PostgreSQL with a statement_timeout, so that
    a pathological plan costs the run `call_timeout` seconds a call, not minutes."""
    if not url.startswith("postgresql") or not call_timeout:
        return make_engine(url)
    from sqlalchemy.engine import make_url

    # The URL's own options come first in the app's sessions (rsp_data.store.pg_options).
    timeout = f"-c statement_timeout={int(call_timeout * 1000)}"
    return make_engine(make_url(url).update_query_dict({"options": timeout}).render_as_string(hide_password=False))


class TimedOut:
    """The answer of a call that hit the statement timeout (its time counts as the timeout)."""

    def __repr__(self) -> str:
        return "timed out"


def _is_timeout(exc: Exception) -> bool:
    return "statement timeout" in str(exc) or "QueryCanceled" in type(getattr(exc, "orig", exc)).__name__


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return (time.perf_counter() - started) * 1000, result


MIN_REPEAT = 5  # repetitions a query always gets, whatever its time budget


def run_queries(
    engines: dict[str, Engine],
    df: pd.DataFrame | None,
    uni: Universe,
    repeat: int,
    seed: int,
    budget: float = float("inf"),
    store_budget: float = float("inf"),
    call_timeout: float = 0.0,
    only: tuple[str, ...] = (),
    duck: Any = None,
) -> list[QueryResult]:
    """Each query `repeat` times on every store and on the baseline, side by side, each time with a
    fresh click from the mix; the untimed first call of each checks that the answers agree. A query
    stops calling the baseline once its calls of it took `budget` seconds, and a store once they
    took `store_budget` seconds (a pathological query), each after MIN_REPEAT repetitions at least;
    the table says how many each got. `only`: just the queries whose names contain one of these
    (a developer's quicker run; each keeps its own click sequence). `duck`: the DuckDB baseline's connection
    (timed and compared as the pandas baseline is, after it)."""
    results = []
    for number, query in enumerate(workload()):
        if only and not any(part in query.name for part in only):
            continue
        rng = random.Random(seed * 1000 + number)
        calls = [draw(rng, uni, query.mix, deep=query.deep) for _ in range(repeat + 1)]
        if query.deep == "table":  # the page passes the count it shows (timed as partnership_count), untimed here
            from dataclasses import replace

            from queries.metrics import partnership_count

            first = next(iter(engines.values()))
            calls = [replace(c, total=partnership_count(first, c.filters, c.search)) for c in calls]
        baselines = [
            *(["pandas"] if query.pandas and df is not None else []),
            *(["duckdb"] if query.duckdb and duck is not None else []),
        ]
        res = QueryResult(query, {who: [] for who in [*engines, *baselines]})
        spent = dict.fromkeys(res.times, 0.0)
        for i, call in enumerate(calls):
            answers = {}
            for store, engine in engines.items():
                if i and store in res.stopped:
                    continue
                try:
                    ms, answers[store] = timed(lambda engine=engine, call=call, query=query: query.sql(engine, call))
                except SQLAlchemyError as exc:
                    if not _is_timeout(exc):  # a query that fails: counted and named, the run goes on
                        res.failures[store] = res.failures.get(store, 0) + 1
                        res.failure_text.setdefault(store, f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}")
                        answers[store] = TimedOut()
                        continue
                    ms, answers[store] = max(call_timeout * 1000, 0.0), TimedOut()
                    res.timeouts[store] = res.timeouts.get(store, 0) + 1
                if i:
                    res.times[store].append(ms)
                    spent[store] += ms / 1000
                    if ms > res.slowest.get(store, (-1.0, ""))[0]:
                        res.slowest[store] = (ms, call.describe())
            for who, answer in (("pandas", query.pandas), ("duckdb", query.duckdb)):
                if who in res.times and (i == 0 or who not in res.stopped):
                    data = df if who == "pandas" else duck
                    ms, answers[who] = timed(lambda answer=answer, data=data, call=call: answer(data, call))
                    if i:
                        res.times[who].append(ms)
                        spent[who] += ms / 1000
            for who, seconds in spent.items():
                limit = budget if who in BASELINES else store_budget
                if who not in res.stopped and MIN_REPEAT <= i < repeat and seconds > limit:
                    res.stopped[who] = i  # this one stops here; the others go on to `repeat`
            if i == 0:  # warm-up call: the answers must agree
                canon = {who: query.canon(a) for who, a in answers.items() if not isinstance(a, TimedOut)}
                for who, a in answers.items():
                    if isinstance(a, TimedOut):
                        what = "failed" if who in res.failures else "timed out"
                        res.mismatches.append(f"{who}: the compared call {what}, not compared ({call.describe()})")
                if query.with_data and "pandas" in canon:
                    have = set(uni.registry[query.with_data])
                    canon = {w: [r for r in v if r[0] in have] if w != "pandas" else v for w, v in canon.items()}
                reference = canon.get("pandas", next(iter(canon.values())))
                for who, value in canon.items():
                    problem = differ(value, reference)
                    if problem:
                        res.mismatches.append(
                            f"answers differ, {who} vs {'pandas' if 'pandas' in canon else 'first store'} "
                            f"({call.describe()}): {problem}"
                        )
        results.append(res)
        log(f"  {query.name}: " + ", ".join(f"{w} p50 {res.median(w):.1f} ms" for w in res.times if res.times[w]))
    return results


# --- pages through AppTest


def page_render_times(url: str, runs: int, timeout: float) -> dict[str, dict[str, Any]]:
    """Median cold and warm run time of every page (ui/routes.py) through AppTest on `url`.

    cold = st.cache_data and the views memo (ui.cache._memo) cleared, the engine (a cached
    resource, with its connection pool) kept; warm = the same page run again at once."""
    import streamlit as st
    from streamlit.runtime.scriptrunner import script_runner
    from streamlit.testing.v1 import AppTest

    from ui import routes

    class _AfterNavigation:  # what a server's script runner reads once st.navigation ran (tests/conftest.py)
        uses_pages_directory = False

    previous_url = os.environ.get("DATABASE_URL")
    previous_pm = script_runner.PagesManager
    os.environ["DATABASE_URL"] = url
    script_runner.PagesManager = _AfterNavigation
    out: dict[str, dict[str, Any]] = {}
    try:
        at = AppTest.from_file(str(REPO_ROOT / "dashboard.py"), default_timeout=timeout)
        at.run()  # opens the engine; the first page
        from ui import cache, store

        for path, title, _ in routes.ROUTES:
            cold: list[float] = []
            warm: list[float] = []
            problems: list[str] = []
            for _ in range(runs):
                st.cache_data.clear()
                cache._memo.clear()
                try:
                    ms, _ = timed(lambda path=path: at.switch_page(path).run())
                    cold.append(ms)
                    ms, _ = timed(lambda: at.run())
                    warm.append(ms)
                except RuntimeError as exc:  # AppTest's timeout
                    problems.append(str(exc)[:120])
                    break
                problems += [f"exception: {e.value[:120]}" for e in at.exception]
                problems += [f"error: {e.value[:120]}" for e in at.error]
            out[title] = {
                "cold": statistics.median(cold) if cold else None,
                "warm": statistics.median(warm) if warm else None,
                "problems": sorted(set(problems)),
            }
            log(
                f"  page {title}: cold {_ms(out[title]['cold'])}, warm {_ms(out[title]['warm'])} ms"
                + (f" ({'; '.join(out[title]['problems'])})" if problems else "")
            )
        store._engine_for.clear()
    finally:
        script_runner.PagesManager = previous_pm
        if previous_url is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = previous_url
    return out


# --- the app's memory with five sessions


def _load_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("load_script", REPO_ROOT / "scripts" / "load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["load_script"] = module
    spec.loader.exec_module(module)
    return module


def app_memory(url: str, sessions: int, duration: float) -> dict[str, Any]:
    """`streamlit run` on `url`, a warm-up visit of every page, then `sessions` sessions of
    scripts/load.py for `duration` s; the server's VmRSS before, peak and after."""
    import asyncio
    import tempfile

    load = _load_module()
    port = load.free_port()
    args = [
        sys.executable, "-m", "streamlit", "run", "dashboard.py",
        "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="rsp-bench-") as tmp:
        log_path = Path(tmp) / "streamlit.log"
        with open(log_path, "wb") as server_log:
            proc = subprocess.Popen(
                args,
                cwd=REPO_ROOT,
                env={**os.environ, "DATABASE_URL": url, "PYTHONUNBUFFERED": "1"},
                stdout=server_log,
                stderr=subprocess.STDOUT,
            )
            base_url = f"http://127.0.0.1:{port}"
            peak = [0.0]
            anon = [0.0]  # the server's own memory (RssAnon): VmRSS also counts the store's mapped pages
            done = threading.Event()

            def sample() -> None:  # the whole time, warm-up included (run_level samples its own part)
                while not done.wait(0.5):
                    with contextlib.suppress(Exception):
                        peak[0] = max(peak[0], load.tree_rss_mb(proc.pid))
                        anon[0] = max(anon[0], _status_kb(proc.pid, "RssAnon") / 1024)

            sampler = threading.Thread(target=sample, daemon=True)
            try:
                load._wait_healthy(base_url, proc, 120.0, log_path)
                rss_start = load.tree_rss_mb(proc.pid)
                sampler.start()
                started = time.perf_counter()
                asyncio.run(load.warm_up(base_url, timeout=300))
                warm_seconds = time.perf_counter() - started
                level = asyncio.run(load.run_level(base_url, sessions, duration, server_pid=proc.pid, timeout=120))
            finally:
                done.set()
                if sampler.is_alive():
                    sampler.join(timeout=5)
                proc.terminate()
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
    return {
        "sessions": sessions,
        "duration": duration,
        "rss_start": rss_start,
        "warm_seconds": warm_seconds,
        "rss_before": level.rss_before,
        "rss_peak": max(level.rss_peak or 0.0, peak[0]),
        "anon_peak": anon[0],
        "rss_end": level.rss_end,
        "interactions": level.interactions,
        "errors": len(level.errors),
        "error_kinds": load.error_kinds(level.errors)[:3],
        "p50": percentile(level.latencies, 50),
        "p95": percentile(level.latencies, 95),
    }


def _status_kb(pid: int, field: str) -> int:
    """A kB field of /proc/PID/status (0 when it cannot be read)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
    return 0


# ---------------------------------------------------------------- the report


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _ratio(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}×" if value >= 10 else f"{value:.1f}×"


STORE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
BASELINES = {"pandas": "pandas", "duckdb": "DuckDB"}


def _label(rows: int) -> str:
    return f"{rows / 1e6:g}M" if rows >= 1e6 else f"{rows:,}"


def _flags(res: QueryResult, stores: list[str]) -> list[str]:
    flags = []
    for store in stores:
        p95, ratio = res.p95(store), res.ratio(store)
        if p95 is not None and p95 > BOUND_MS:
            flags.append(f"{STORE_NAMES[store]} p95 > {BOUND_MS:.0f} ms")
        if ratio is not None and ratio < BOUND_RATIO:
            flags.append(f"{STORE_NAMES[store]} < {BOUND_RATIO:.0f}×")
    for store, count in res.failures.items():
        flags.append(f"{STORE_NAMES[store]}: {count} call(s) FAILED")
    for store, count in res.timeouts.items():
        flags.append(f"{STORE_NAMES[store]}: {count} call(s) hit the {TIMEOUT_NOTE} timeout")
    if res.differ:
        flags.append("ANSWERS DIFFER")
    return flags


def query_table(results: list[QueryResult], stores: list[str]) -> list[str]:
    head = ["query", "page"]
    for store in stores:
        head += [f"{STORE_NAMES[store]} p50", "p95"]
    head += ["pandas p50", "p95", "DuckDB p50", "p95"]
    head += [f"ratio {STORE_NAMES[s]}" for s in stores]
    head += [f"ratio {STORE_NAMES[s]} to DuckDB" for s in stores]
    head += ["answers", "flags"]
    lines = ["| " + " | ".join(head) + " |", "|---|---|" + "---:|" * (len(head) - 4) + "---|---|"]
    for res in results:
        cells = [
            f"`{res.query.name}`",
            res.query.pages
            + (
                " (n: " + ", ".join(f"{(STORE_NAMES | BASELINES)[w]} {n}" for w, n in res.stopped.items()) + ")"
                if res.stopped
                else ""
            ),
        ]
        for store in stores:
            cells += [_ms(res.median(store)), _ms(res.p95(store))]
        for baseline in BASELINES:
            cells += [_ms(res.median(baseline)), _ms(res.p95(baseline))]
        cells += [_ratio(res.ratio(s)) for s in stores]
        cells += [_ratio(res.ratio(s, "duckdb")) for s in stores]
        cells.append(res.answers())
        flags = _flags(res, stores)
        cells.append("**" + "; ".join(flags) + "**" if flags else "ok")
        lines.append("| " + " | ".join(cells) + " |")
    return lines


@dataclass
class SizeResult:
    target: int
    stores: dict[str, StoreInfo]
    baseline: dict[str, Any]
    queries: list[QueryResult]
    pages: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # store -> page -> figures
    memory: dict[str, dict[str, Any]] = field(default_factory=dict)  # store -> figures


def machine() -> dict[str, str]:
    import sqlalchemy
    import streamlit

    cpu = "?"
    with contextlib.suppress(OSError):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    mem = "?"
    with contextlib.suppress(OSError, StopIteration):
        kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        mem = f"{kb / 2**20:.1f} GiB"
    driver = sqlite_driver()
    return {
        "cpu": f"{os.cpu_count()} CPUs ({cpu})",
        "ram": mem,
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": f"{driver.sqlite_version} ({driver.__name__.split('.')[0]})",
        "libs": f"pandas {pd.__version__}, SQLAlchemy {sqlalchemy.__version__}, Streamlit {streamlit.__version__}",
    }


def report(
    sizes: list[SizeResult],
    stores: list[str],
    args: argparse.Namespace,
    command: str,
    started: datetime,
    info: dict[str, Any],
) -> str:
    m = info["machine"]
    lines = [
        SECTION,
        "",
        f"Command: `{command}`  ",
        f"Run: {started:%Y-%m-%d %H:%M} UTC ({info['minutes']:.0f} min)  ",
        f"Machine: {m['cpu']}, {m['ram']} RAM, {m['os']}, Python {m['python']}, SQLite {m['sqlite']}"
        + (f", PostgreSQL {info['pg_version']}" if info.get("pg_version") else "")
        + (f", DuckDB {info['duckdb']}" if info.get("duckdb") else "")
        + f"; {m['libs']}  ",
        f"Settings: {args.repeat} timed calls per query per store (after one untimed call whose answers are "
        f"compared; once its calls of a query took {args.query_budget:.0f} s the baseline stops, and a store "
        f"after {args.store_budget:.0f} s, each after {MIN_REPEAT} calls at least, marked n:), "
        f"seed {args.seed}, synthetic stores of "
        f"`python -m rsp_data synth --months {args.months} --seed {args.seed}` kept in `var/bench/`; "
        "SQLite: the app's engine (`rsp_data.store.make_engine`), default pragmas; "
        + (
            "each store's files kept in the OS page cache while the timed calls, pages and memory steps run ("
            + (
                "mapped and locked with mlock"
                if info.get("resident", "locked") == "locked"
                else f"{info['resident']}: they may be paged out during the run"
            )
            + ", as on a server with memory to spare: this VM pages out file pages unused for about a minute, "
            "see `Resident` in the script; `--cold` skips it)"
            if not args.cold
            else "the stores' files not read before the timed calls (`--cold`)"
        )
        + (
            "; PostgreSQL: a server this script starts, "
            + ", ".join(f"{k}={v}" for k, v in info["pg_settings"].items())
            + f" (fsync off: a read benchmark; C.UTF-8 collation); the query calls run in the app's sessions "
            f"(`{PG_SESSION_OPTIONS}`, rsp_data/store.py) with statement_timeout="
            f"{args.call_timeout:.0f} s (a call that hits it counts as {args.call_timeout:.0f} s and is flagged)"
            if info.get("pg_settings")
            else ""
        )
        + "; the process's objects frozen out of the garbage collector's passes before the timed calls, "
        "as the app's server does on its first run (`ui/process.py`).",
        "",
        "Method (`scripts/bench.py`, docstring): every query function of `queries/` that a page calls, called "
        "with no Streamlit cache, each call with a fresh seeded click from the mix (no filter, a region, a sector, "
        "region + sector, a month range, region + months, one partnership, and for the searchable ones a search "
        "term, alone or with a region; the Data and Partnerships tables at a deep page). The stores and the "
        "baseline answer the same calls one after the other, so they share the machine's state. **Baseline**: the "
        "pattern most Streamlit dashboards use, the whole fact table joined with its partnership, region, sector "
        "and batch names in one pandas DataFrame (as `pd.read_sql` + `st.cache_data` hold it; reading it is not "
        "counted), filtered with boolean masks and grouped with pandas per call, the registry lists derived from "
        "the same frame. **DuckDB baseline** (no bound applies to it): the same joined table copied into an "
        "in-memory DuckDB database (copying it is not counted), each query answered by one SQL statement over it, "
        "as tools like Evidence do; its answers are compared with the pandas baseline's as the stores' are. "
        "Ratio = pandas median / store median; ratio to DuckDB = DuckDB median / store median. Times in ms, wall "
        "clock, including building the result DataFrame. p95 is nearest-rank.",
        "",
        "### Stores",
        "",
        "| rows | store | partnerships | monthly rows | build | size on disk |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for size in sizes:
        for store, si in size.stores.items():
            built = f"{si.build_seconds:,.0f} s" + (" (reused)" if si.reused else "")
            lines.append(
                f"| {_label(size.target)} | {STORE_NAMES[store]} | {si.partnerships:,} | {si.rows:,} | {built} | "
                f"{si.size_mb:,.0f} MB |"
            )
    lines += ["", "### Queries", ""]
    for size in sizes:
        rows = next(iter(size.stores.values())).rows
        lines += [f"**{_label(size.target)} rows** ({rows:,} monthly rows):", ""]
        lines += query_table(size.queries, stores)
        lines.append("")
        for res in size.queries:
            for problem in res.mismatches[:3]:
                lines.append(f"- `{res.query.name}`: {problem[:400]}")
            for store, text_ in res.failure_text.items():
                lines.append(f"- `{res.query.name}` on {STORE_NAMES[store]} failed: {text_}")
            for store in stores:
                if (res.p95(store) or 0) > BOUND_MS and store in res.slowest:
                    ms, what = res.slowest[store]
                    lines.append(f"- `{res.query.name}` on {STORE_NAMES[store]}: slowest call {_ms(ms)} ms ({what})")
        if lines[-1]:
            lines.append("")
    lines += [
        "### Baseline memory",
        "",
        "| rows | read into pandas (not counted) | read with | `memory_usage(deep=True)` | process RSS growth | "
        "copied into DuckDB (not counted) | DuckDB memory | its RSS growth |",
        "|---:|---:|---|---:|---:|---:|---:|---:|",
    ]
    for size in sizes:
        b = size.baseline
        if b:
            lines.append(
                f"| {_label(size.target)} | {b['load_seconds']:,.0f} s | {b['how']} | {b['deep_mb']:,.0f} MB | "
                f"{b['rss_growth_mb']:,.0f} MB | "
                + (
                    f"{b['duckdb_seconds']:,.1f} s | {b['duckdb_mb']:,.0f} MB | {b['duckdb_rss_mb']:,.0f} MB |"
                    if "duckdb_seconds" in b
                    else "— | — | — |"
                )
            )
    if any(size.pages for size in sizes):
        lines += [
            "",
            "### Page render time (AppTest)",
            "",
            "Each page of `ui/routes.py` run through `streamlit.testing.v1.AppTest` (the whole script: "
            "`dashboard.py`, the sidebar and the page; no browser). **Cold** = Streamlit's data caches cleared "
            "(`st.cache_data.clear()` and the views memo `ui.cache._memo`), the engine and its connection pool "
            f"kept; **warm** = the same page run again at once. Median of {args.page_runs} runs, ms.",
            "",
        ]
        head = ["rows", "page"] + [f"{STORE_NAMES[s]} {k}" for s in stores for k in ("cold", "warm")]
        lines += ["| " + " | ".join(head) + " |", "|---:|---|" + "---:|" * (len(head) - 2)]
        problems = []
        for size in sizes:
            titles = list(dict.fromkeys(t for s in size.pages.values() for t in s))
            for title in titles:
                cells = [_label(size.target), title]
                for store in stores:
                    fig = size.pages.get(store, {}).get(title, {})
                    cells += [_ms(fig.get("cold")), _ms(fig.get("warm"))]
                    for p in fig.get("problems", []):
                        problems.append(f"- {_label(size.target)}, {STORE_NAMES[store]}, {title}: {p}")
                lines.append("| " + " | ".join(cells) + " |")
        if problems:
            lines += ["", *problems]
    if any(size.memory for size in sizes):
        lines += [
            "",
            "### App memory",
            "",
            "`streamlit run dashboard.py` on the store, one warm-up session visiting every page, then "
            f"{args.memory_sessions} sessions of `scripts/load.py` (filter changes and page switches, think time "
            f"2–8 s) for {args.memory_duration:.0f} s each. RSS = `VmRSS` of the server process, sampled every "
            "0.5 s from start to end (warm-up included). It counts the pages of a SQLite store the server has "
            "memory-mapped (shared with the OS cache, dropped under memory pressure); *own* is the peak of "
            "`RssAnon`, the server's own memory, sampled with it. The bound is judged on the peak RSS.",
            "",
            "| rows | store | RSS at start MB | before sessions MB | peak MB | own peak MB | end MB | bound 1 GB | "
            "interactions | errors | p50 / p95 ms |",
            "|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---:|",
        ]
        for size in sizes:
            for store, mem in size.memory.items():
                ok = mem["rss_peak"] < MEMORY_BOUND_MB
                lines.append(
                    f"| {_label(size.target)} | {STORE_NAMES[store]} | {mem['rss_start']:,.0f} | "
                    f"{mem['rss_before']:,.0f} | {mem['rss_peak']:,.0f} | {mem.get('anon_peak', 0):,.0f} | "
                    f"{mem['rss_end']:,.0f} | "
                    f"{'met' if ok else '**not met**'} | {mem['interactions']} | {mem['errors']} | "
                    f"{_ms(mem['p50'])} / {_ms(mem['p95'])} |"
                )
                for kind, count in mem.get("error_kinds", []):
                    lines.append(f"  - {count} × `{kind[:200]}`")
    lines += ["", "### Against the bounds", ""]
    lines += summary_lines(sizes, stores)
    return "\n".join(lines) + "\n"


def summary_lines(sizes: list[SizeResult], stores: list[str]) -> list[str]:
    out = []
    for size in sizes:
        label = _label(size.target)
        for store in stores:
            worst = max(size.queries, key=lambda r: r.p95(store) or 0.0)
            ratios = [(r.ratio(store), r) for r in size.queries if r.ratio(store) is not None]
            low = min(ratios, key=lambda x: x[0]) if ratios else None
            line = f"- {label}, {STORE_NAMES[store]}: worst p95 {_ms(worst.p95(store))} ms (`{worst.query.name}`)"
            if low:
                line += f"; lowest ratio {_ratio(low[0])} (`{low[1].query.name}`)"
            to_duck = [(r.ratio(store, "duckdb"), r) for r in size.queries if r.ratio(store, "duckdb") is not None]
            if to_duck:
                worst_duck = min(to_duck, key=lambda x: x[0])
                line += f"; lowest ratio to DuckDB {_ratio(worst_duck[0])} (`{worst_duck[1].query.name}`, no bound)"
            over = [r.query.name for r in size.queries if (r.p95(store) or 0) > BOUND_MS]
            under = [r.query.name for r in size.queries if r.ratio(store) is not None and r.ratio(store) < BOUND_RATIO]
            line += (f"; p95 over {BOUND_MS:.0f} ms: " + (", ".join(f"`{q}`" for q in over) if over else "none")) + (
                f"; ratio under {BOUND_RATIO:.0f}×: " + (", ".join(f"`{q}`" for q in under) if under else "none")
            )
            out.append(line)
        failed = [f"`{r.query.name}` on {STORE_NAMES[w]}" for r in size.queries for w in r.failures]
        if failed:
            out.append(f"- {_label(size.target)}: **queries that failed**: " + ", ".join(failed))
        differ_ = [r.query.name for r in size.queries if r.differ]
        out.append(
            f"- {label}: answers "
            + (
                "differ for " + ", ".join(f"`{q}`" for q in differ_)
                if differ_
                else "agree for every query with a baseline"
            )
        )
    return out


def write_section(text_: str, path: Path = BENCHMARKS) -> None:
    """Replace (or append) SECTION in `path`, keeping every other section and a hand-written
    "### Analysis" part of this section (placed after the new figures)."""
    body = path.read_text() if path.exists() else "# Benchmarks\n\n"
    lines = body.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == SECTION), None)
    block = text_.rstrip("\n") + "\n"
    if start is None:
        new = body.rstrip("\n") + "\n\n" + block
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        kept = next((i for i in range(start + 1, end) if lines[i].rstrip() == KEPT), None)
        if kept is not None:
            block += "\n" + "".join(lines[kept:end]).rstrip("\n") + "\n"
        tail = "".join(lines[end:])
        new = "".join(lines[:start]) + block + ("\n" + tail if tail else "")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(new)


# ---------------------------------------------------------------- command line


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000], help="monthly rows (1M 10M)")
    parser.add_argument("--stores", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    parser.add_argument(
        "--repeat", type=int, default=60, help="timed calls per query per store (60: the p95 is then the 4th slowest)"
    )
    parser.add_argument(
        "--query-budget",
        type=float,
        default=60.0,
        help=f"seconds a query's calls may take before the baseline stops repeating (at least {MIN_REPEAT}; 60)",
    )
    parser.add_argument(
        "--store-budget",
        type=float,
        default=300.0,
        help=f"the same for each store (a pathological query; at least {MIN_REPEAT} calls; 300)",
    )
    parser.add_argument(
        "--call-timeout",
        type=float,
        default=30.0,
        help="PostgreSQL statement_timeout in seconds for the query calls (a call that hits it counts as it; 30)",
    )
    parser.add_argument("--months", type=int, default=240, help="synth --months (240)")
    parser.add_argument("--seed", type=int, default=2026, help="synth --seed and the click mix's seed (2026)")
    parser.add_argument("--rebuild", action="store_true", help="write the stores again even when kept ones match")
    parser.add_argument("--store-dir", type=Path, default=BENCH_DIR, help="where stores are kept (var/bench)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the pandas baseline (and the DuckDB one)")
    parser.add_argument("--no-duckdb", action="store_true", help="skip the DuckDB baseline")
    parser.add_argument(
        "--cold", action="store_true", help="do not hold the stores' files in the OS cache during the timed calls"
    )
    parser.add_argument(
        "--only", nargs="+", default=[], help="only the queries whose names contain one of these (never written)"
    )
    parser.add_argument("--no-pages", action="store_true", help="skip the AppTest page render times")
    parser.add_argument("--page-runs", type=int, default=3, help="cold+warm runs per page (3)")
    parser.add_argument("--page-timeout", type=float, default=180.0, help="seconds per AppTest run (180)")
    parser.add_argument("--no-memory", action="store_true", help="skip the app memory step")
    parser.add_argument("--memory-sessions", type=int, default=5)
    parser.add_argument("--memory-duration", type=float, default=30.0, help="seconds the sessions run (30)")
    parser.add_argument(
        "--memory-stores",
        nargs="+",
        choices=["sqlite", "postgresql"],
        default=None,
        help="stores for the memory step at the largest size (default: --stores)",
    )
    parser.add_argument("--no-write", action="store_true", help=f"do not write {BENCHMARKS.relative_to(REPO_ROOT)}")
    parser.add_argument("--write", action="store_true", help="write it after a partial run too (not after --only)")
    args = parser.parse_args(argv)
    if any(s < 100 for s in args.sizes) or not 1 <= args.repeat <= 1000:
        parser.error("--sizes: at least 100 rows; --repeat: 1 to 1000")
    return args


def partial(args: argparse.Namespace) -> list[str]:
    """What a run leaves out of the complete one the committed figures come from."""
    complete = parse_args([])
    missing = [
        f"--{name.replace('_', '-')}"
        for name in ("no_baseline", "no_duckdb", "no_pages", "no_memory")
        if getattr(args, name)
    ]
    missing += [
        f"--{name}" for name in ("sizes", "stores") if sorted(getattr(args, name)) != sorted(getattr(complete, name))
    ]
    missing += ["--only"] if args.only else []
    return missing


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    clock = time.perf_counter()
    stores = list(args.stores)
    args.store_dir.mkdir(parents=True, exist_ok=True)
    info: dict[str, Any] = {"machine": machine()}
    cluster = PgCluster(args.store_dir) if "postgresql" in stores else None
    sizes: list[SizeResult] = []
    resident = Resident()
    try:
        if cluster:
            cluster.start()
            info["pg_version"] = cluster.version()
            info["pg_settings"] = cluster.settings()
        for target in args.sizes:
            n = partnerships_for(target, args.months, args.seed)
            log(f"== {_label(target)} rows: {n:,} partnerships × {args.months} months, seed {args.seed}")
            built: dict[str, StoreInfo] = {}
            for store in stores:
                if store == "sqlite":
                    built[store] = sqlite_store(args.store_dir, n, args.months, args.seed, args.rebuild)
                else:
                    assert cluster is not None
                    built[store] = pg_store(cluster, args.store_dir, n, args.months, args.seed, args.rebuild)
                si = built[store]
                print(
                    f"{_label(target)} {STORE_NAMES[store]}: {si.rows:,} rows, {n:,} partnerships, "
                    f"built in {si.build_seconds:,.0f} s{' (reused)' if si.reused else ''}, {si.size_mb:,.0f} MB",
                    flush=True,
                )
            engines = {store: bench_engine(si.url, args.call_timeout) for store, si in built.items()}
            uni = Universe.read(engines[stores[0]])
            df, baseline, duck = None, {}, None
            if not args.no_baseline:
                gc.collect()
                before = rss_mb()
                df, seconds, how = load_baseline(engines)
                gc.collect()
                baseline = {
                    "load_seconds": seconds,
                    "deep_mb": df.memory_usage(deep=True).sum() / 2**20,
                    "rss_growth_mb": rss_mb() - before,
                    "rows": len(df),
                    "how": how,
                }
                print(
                    f"{_label(target)} baseline: {len(df):,} rows read in {seconds:,.0f} s ({how}; not counted); "
                    f"memory_usage(deep=True) {baseline['deep_mb']:,.0f} MB, RSS +{baseline['rss_growth_mb']:,.0f} MB",
                    flush=True,
                )
                if not args.no_duckdb:
                    before = rss_mb()
                    duck, seconds, mb = load_duckdb(df)
                    baseline |= {"duckdb_seconds": seconds, "duckdb_mb": mb, "duckdb_rss_mb": rss_mb() - before}
                    info["duckdb"] = duckdb_version(duck)
                    print(
                        f"{_label(target)} DuckDB baseline: copied in {seconds:,.1f} s (not counted); "
                        f"{mb:,.0f} MB in DuckDB, RSS +{baseline['duckdb_rss_mb']:,.0f} MB",
                        flush=True,
                    )
            if not args.cold:
                for store, engine in engines.items():
                    mb, seconds = resident.hold(store_files(engine, cluster))
                    where = f"in the OS cache ({resident.how})"
                    print(f"  {STORE_NAMES[store]}: {mb:,.0f} MB of files {where} in {seconds:.1f} s")
                info["resident"] = resident.how
            # What is alive now lives on, as the app server's startup objects do: out of the
            # collector's passes, as the server does on its first run (ui/process.py).
            freeze_heap()
            queries = run_queries(
                engines,
                df,
                uni,
                args.repeat,
                args.seed,
                args.query_budget,
                args.store_budget,
                args.call_timeout,
                tuple(args.only),
                duck,
            )
            for engine in engines.values():
                engine.dispose()
            if duck is not None:
                duck.close()
            del df
            gc.collect()
            result = SizeResult(target, built, baseline, queries)
            sizes.append(result)
            print(f"\n{_label(target)} rows, times in ms:")
            print("\n".join(query_table(queries, stores)), flush=True)
            for res in queries:
                for problem in res.mismatches[:3]:
                    print(f"  {res.query.name}: {problem[:400]}", flush=True)
            if not args.no_pages:
                for store in stores:
                    log(f"pages on {STORE_NAMES[store]} at {_label(target)} …")
                    result.pages[store] = page_render_times(built[store].url, args.page_runs, args.page_timeout)
            if not args.no_memory and target == max(args.sizes):
                for store in args.memory_stores or stores:
                    if store in built:
                        log(f"app memory on {STORE_NAMES[store]} at {_label(target)} …")
                        result.memory[store] = app_memory(built[store].url, args.memory_sessions, args.memory_duration)
            resident.release()
    finally:
        resident.release()
        if cluster:
            cluster.stop()
        gc.unfreeze()  # frozen objects are never freed at exit: DuckDB's bindings would report them as leaks
    info["minutes"] = (time.perf_counter() - clock) / 60
    command = "python scripts/bench.py " + " ".join(sys.argv[1:] if argv is None else argv)
    text_ = report(sizes, stores, args, command.strip(), started, info)
    print()
    print(text_)
    missing = partial(args)
    if args.no_write or args.only or (missing and not args.write):
        if not args.no_write:
            print(f"Not written to {BENCHMARKS.relative_to(REPO_ROOT)}: a partial run ({', '.join(missing)})")
    else:
        write_section(text_)
        print(f"Wrote the section “{SECTION[3:]}” of {BENCHMARKS.relative_to(REPO_ROOT)}")
    return 1 if any(r.differ or r.failures for s in sizes for r in s.queries) else 0


if __name__ == "__main__":
    sys.exit(main())
