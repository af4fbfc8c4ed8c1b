"""Lighthouse's accessibility score of every page and presenter slide kind: a second opinion beside the axe
tests (tests/test_a11y.py), not a gate. `make lighthouse` installs Lighthouse 12 and runs this.

Starts the app on a fresh demo store (tests/browser_support.py), runs the `lighthouse` CLI from node_modules
with Debian's Chromium (desktop form factor, light scheme) and prints one Markdown row per page: the score and
the failed audits.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser_support import AppServer, chromium_path

VIEWS = {
    "Overview": "/",
    "Map": "/map",
    "Trends": "/trends",
    "Partnerships": "/partnerships",
    "Good jobs & reach": "/quality",
    "Data": "/data",
    "Reporting status": "/reporting",
    "Submit data": "/submit",
    "Presenter slide 1 (KPIs, goal)": "/?present=1&paused=1&slide=1",
    "Presenter slide 2 (map)": "/?present=1&paused=1&slide=2",
    "Presenter slide 3 (trend)": "/?present=1&paused=1&slide=3",
    "Presenter slide 4 (sector × region)": "/?present=1&paused=1&slide=4",
    "Presenter slide 5 (a spotlight)": "/?present=1&paused=1&slide=5",
}


def run(url: str, out: Path) -> dict:
    binary = ROOT / "node_modules" / ".bin" / "lighthouse"
    subprocess.run(
        [
            str(binary),
            url,
            "--only-categories=accessibility",
            "--preset=desktop",
            "--output=json",
            f"--output-path={out}",
            "--quiet",
            "--max-wait-for-load=60000",
            "--chrome-flags=--headless=new --no-sandbox --disable-gpu",
        ],
        check=True,
        env={**os.environ, "CHROME_PATH": chromium_path()},
        timeout=300,
    )
    report = json.loads(out.read_text())
    category = report["categories"]["accessibility"]
    failed = [
        ref["id"]
        for ref in category["auditRefs"]
        if ref["weight"] > 0 and report["audits"][ref["id"]]["score"] not in (None, 1)
    ]
    return {"score": round(category["score"] * 100), "failed": failed, "version": report["lighthouseVersion"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="names of VIEWS to run (default all)")
    args = parser.parse_args()
    with AppServer() as app, tempfile.TemporaryDirectory() as tmp:
        version = None
        rows = []
        for name, path in VIEWS.items():
            if args.only and name not in args.only:
                continue
            result = run(app.base_url + path, Path(tmp) / "report.json")
            version = result["version"]
            rows.append(f"| {name} | {result['score']} | {', '.join(result['failed']) or '—'} |")
            print(rows[-1], file=sys.stderr, flush=True)
    print(f"Lighthouse {version}, accessibility category, desktop, light scheme\n")
    print("| page | score | failed audits |\n|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
