"""scripts/bench.py on a tiny synthetic store (about 2,000 rows, SQLite only, 2 repetitions, no page
or memory step): it prints a row per query of the workload, and every store answer agreed with the
pandas baseline's. Correctness only: no timing is asserted. About 15 s.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _load_module():
    spec = importlib.util.spec_from_file_location("bench_script", REPO_ROOT / "scripts" / "bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_script"] = module
    spec.loader.exec_module(module)
    return module


bench = _load_module()


def test_bench_prints_every_query_and_the_answers_agree(tmp_path, capsys):
    status = bench.main(
        [
            "--sizes", "2000", "--stores", "sqlite", "--repeat", "2", "--store-dir", str(tmp_path),
            "--no-pages", "--no-memory", "--no-write",
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert status == 0, out
    rows = [line for line in out.splitlines() if line.startswith("| `")]
    names = [q.name for q in bench.workload()]
    for name in names:
        # once in the printed table, once in the report's
        assert sum(row.startswith(f"| `{name}` |") for row in rows) == 2, name
    with_baseline = [q.name for q in bench.workload() if q.pandas is not None]
    assert len(with_baseline) >= 15
    for row in rows:
        name = row.split("`")[1]
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert cells[-2] == ("agree" if name in with_baseline else "no baseline"), row
    assert "DIFFER" not in out
    assert "answers agree for every query with a baseline" in out
    # the store was built once and is reused by a second run with the same synth arguments
    assert list(tmp_path.glob("synth-*.sqlite.built.json"))


def test_the_mix_is_seeded_and_covers_every_kind(tmp_path):
    import random

    from rsp_data.store import make_engine
    from rsp_data.synth import synthesize

    engine = make_engine(f"sqlite:///{tmp_path / 's.sqlite'}")
    synthesize(engine, 30, 24, seed=7, log=lambda m: None)
    uni = bench.Universe.read(engine)
    first = [bench.draw(random.Random(1), uni, bench.SEARCH_MIX, deep="table") for _ in range(1)]
    again = [bench.draw(random.Random(1), uni, bench.SEARCH_MIX, deep="table") for _ in range(1)]
    assert first == again
    rng = random.Random(3)
    kinds = {bench.draw(rng, uni, bench.SEARCH_MIX).mix for _ in range(300)}
    assert kinds == set(bench.SEARCH_MIX)
    engine.dispose()


def test_the_section_is_replaced_and_the_analysis_and_other_sections_kept(tmp_path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text(
        "# Benchmarks\n\n## Load: concurrent sessions\n\nload figures\n\n"
        f"{bench.SECTION}\n\nold figures\n\n### Analysis\n\nhand-written\n\n## Later\n\nmore\n"
    )
    bench.write_section(f"{bench.SECTION}\n\nnew figures\n", doc)
    text = doc.read_text()
    assert "old figures" not in text and "new figures" in text
    assert text.index("new figures") < text.index("hand-written") < text.index("## Later")
    assert "load figures" in text and "more" in text
