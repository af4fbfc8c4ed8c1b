"""Settings of the server process itself, applied once per process: its long-lived objects are frozen
out of the garbage collector's passes, which otherwise set off the slowest page runs (docs/benchmarks.md).
"""

from __future__ import annotations

import functools
import gc
import importlib

# Imported first so that the pages' long-lived objects are frozen even before a page needs them.
PAGE_MODULES = ("plotly.graph_objects", "plotly.express", "pydeck", "ui.charts", "ui.views", "ui.goals")


@functools.cache  # once per process
def settle_heap() -> None:
    """Import the pages' modules and freeze the heap."""
    for name in PAGE_MODULES:
        importlib.import_module(name)
    freeze_heap()


def freeze_heap() -> None:
    """Collect garbage first (a cycle among frozen objects would never be freed), then freeze."""
    gc.collect()
    gc.freeze()
