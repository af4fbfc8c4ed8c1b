"""`python -m tests.paused_import ARGS` runs `python -m rsp_data ARGS` with the import stopped
inside its transaction (every row written, the rollups not yet refreshed) until it is killed:
the crash test's way to kill an import part-way, kept out of the production code."""

import sys
import time

from rsp_data import __main__ as cli
from rsp_data import rollups


def _pause(conn, touched) -> None:
    del conn
    print(f"paused with {len(list(touched))} rows written", flush=True)
    time.sleep(3600)


rollups.refresh = _pause
sys.exit(cli.main(sys.argv[1:]))
