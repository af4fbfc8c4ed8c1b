"""Settings of the server process itself, applied once per process.

The cyclic garbage collector. Python's collector walks every container object it tracks on its
oldest generation's passes, and a Streamlit server holds a few hundred thousand of them that live
as long as the process: modules, classes, functions, Streamlit's and Tornado's objects, plotly's
validators, SQLAlchemy's compiled caches. A query that reads tens of thousands of rows allocates
enough tuples to set off such a pass now and then, which made the slowest few calls in a hundred
(docs/benchmarks.md). `gc.freeze()` moves the objects alive at that moment to a permanent
generation the collector no longer walks. Objects created later are collected
as before, and a frozen object is still freed when its last reference goes; only a reference cycle
among frozen objects would stay, which is why garbage is collected first.
"""

from __future__ import annotations

import gc
import importlib

# What the pages import, so that their long-lived objects are frozen with the rest even when the
# first page opened does not need them all.
PAGE_MODULES = ("plotly.graph_objects", "plotly.express", "pydeck", "ui.charts", "ui.views", "ui.goals")

_settled = False


def settle_heap(modules: tuple[str, ...] = PAGE_MODULES) -> bool:
    """Import `modules`, collect garbage, then freeze every object alive out of the collector's
    passes; once per process (returns whether this call did it)."""
    global _settled
    if _settled:
        return False
    for name in modules:
        importlib.import_module(name)
    freeze_heap()
    _settled = True
    return True


def freeze_heap() -> None:
    """Collect garbage, then move every object alive out of the collector's passes."""
    gc.collect()
    gc.freeze()
