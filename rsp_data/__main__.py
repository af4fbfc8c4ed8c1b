"""Command line of the metrics store: `python -m rsp_data init [--demo] [--url URL]`."""

from __future__ import annotations

import argparse
import sys

from sqlalchemy.exc import SQLAlchemyError

from rsp_data.store import database_url, init_store, make_engine


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rsp_data", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    init = sub.add_parser("init", help="create the schema and registry (idempotent)")
    init.add_argument("--demo", action="store_true", help="also load the illustrative demo data")
    init.add_argument("--url", help="database URL (default: DATABASE_URL, else the embedded SQLite file)")
    args = parser.parse_args(argv)

    if args.command == "init":
        url = args.url or database_url()
        try:
            report = init_store(make_engine(url), demo=args.demo)
        except SQLAlchemyError as exc:
            print(
                f"init failed on {_redact(url)}: {exc.__class__.__name__}: {exc.args[0] if exc.args else exc}",
                file=sys.stderr,
            )
            return 1
        print(f"{_redact(url)}: {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
