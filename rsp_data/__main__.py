"""Command line of the metrics store: `python -m rsp_data -h` lists the commands.

Each acts on the store DATABASE_URL names (the embedded SQLite file otherwise). Exit status 0 on
success; non-zero with the report on stderr when a file is rejected or a rollback refused.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from rsp_data.schema import MAX_PARTNERSHIPS
from rsp_data.store import database_url, init_store, make_engine


def _redact(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _who(given: str | None) -> str:
    if given:
        return given
    try:
        return f"{getpass.getuser()} (command line)"
    except OSError:
        return "command line"


def _acting_as(args):
    """The grants.Writer that --as names (None without --as: the operator is trusted); False when it is not
    an identity (the reason printed)."""
    from rsp_data.grants import GrantError, Writer

    if not args.acting_as:
        return None
    try:
        return Writer.acting_as(args.acting_as)
    except GrantError as exc:
        print(f"--as: {exc}", file=sys.stderr)
        return False


def _fail(message, status: int) -> int:
    print(message, file=sys.stderr)
    return status


def _read(name: str) -> tuple[Path, bytes | None]:
    path = Path(name)
    try:
        return path, path.read_bytes()
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror}", file=sys.stderr)
        return path, None


def _cmd_init(args) -> int:
    from rsp_data import migrate

    engine = make_engine(args.url)
    before = migrate.current(engine)
    report = init_store(engine, demo=args.demo)
    after = migrate.current(engine)
    schema_note = f"schema at revision {after}" + (f" (upgraded from {before})" if before and before != after else "")
    print(f"{_redact(args.url)}: {report}; {schema_note}")
    return 0


def _cmd_synth(args) -> int:
    from rsp_data.synth import synthesize

    url = args.synth_url or f"sqlite:///var/synth-{args.partnerships}x{args.months}-seed{args.seed}.sqlite"
    if url.startswith("sqlite:///var/"):
        Path("var").mkdir(exist_ok=True)
    if args.partnerships < 1 or args.months < 1:
        return _fail("--partnerships and --months must be at least 1", 2)
    if args.partnerships > MAX_PARTNERSHIPS:
        return _fail(f"--partnerships: at most {MAX_PARTNERSHIPS:,} (the running totals' key)", 2)
    print(f"writing to {_redact(url)}")
    report = synthesize(make_engine(url), args.partnerships, args.months, args.seed, args.replace)
    print(report)
    print(f"open it with: DATABASE_URL='{_redact(url)}' make run")
    return 0


def _cmd_check_rollups(args) -> int:
    from rsp_data import rollups

    with make_engine(args.url).connect() as conn:
        problems = rollups.check(conn)
    for problem in problems:
        print(problem, file=sys.stderr)
    print("rollups in step with the facts" if not problems else f"{len(problems)} difference(s)")
    return 1 if problems else 0


def _cmd_import(args) -> int:
    from rsp_data.grants import refuse_rows
    from rsp_data.imports.apply import apply_import, plan_import
    from rsp_data.imports.read import ImportRejected, validate

    path, content = _read(args.file)
    if content is None:
        return 2
    writer = _acting_as(args)
    if writer is False:
        return 2
    engine = make_engine(args.url)
    init_store(engine)  # schema and registry present (no demo data): a fresh store just works
    if args.dry_run:
        report = validate(content, path.name)
        if report.ok and writer is not None:
            refuse_rows(engine, writer, report)
        if not report.ok:
            return _fail(report.text(), 1)
        plan = plan_import(engine, report)
        for change in plan.changed:
            diffs = ", ".join(f"{m} {change.old[m]} -> {new}" for m, new in change.new.items() if change.old[m] != new)
            print(f"change {change.rsp_id} {change.month:%Y-%m}: {diffs}")
        message = f"dry run, nothing written: {plan.summary()}"
    else:
        try:
            loaded_by = writer.identity if writer else _who(args.by)
            result = apply_import(engine, content, path.name, loaded_by, writer=writer)
        except ImportRejected as exc:
            return _fail(exc.report.text(), 1)
        plan, message = result.plan, result.message
    for problem in plan.report.warnings:
        print(problem, file=sys.stderr)
    print(message)
    return 0


def _cmd_import_goals(args) -> int:
    from rsp_data.goals import committed_goals, keep_committed, partnership_ids, plan_goals, read_goals, write_goals

    path, content = _read(args.file)
    if content is None:
        return 2
    engine = make_engine(args.url)
    init_store(engine)  # schema, registry and the committed goals present
    with engine.begin() as conn:
        report = keep_committed(read_goals(content, path.name, partnership_ids(conn)), committed_goals(conn))
        if not report.ok:
            return _fail(report.text(), 1)
        changes = plan_goals(conn, report.goals)
        for change in changes:
            print(change)
        counts = {a: sum(c.action == a for c in changes) for a in ("add", "change", "same")}
        summary = f"{counts['add']} goal(s) to add, {counts['change']} to change, {counts['same']} unchanged"
        if args.dry_run:
            print(f"dry run, nothing written: {summary}")
            return 0
        inserted, updated = write_goals(conn, report.goals)
    print(f"{path.name}: {inserted} goal(s) added, {updated} changed, {counts['same']} unchanged")
    return 0


def _cmd_history(args) -> int:
    from queries.data import load_history

    engine = make_engine(args.url)
    init_store(engine)
    history = load_history(engine)
    if history.empty:
        print("no batches yet")
        return 0
    for row in history.itertuples():
        rolled = row.rolled_back_at is not None and str(row.rolled_back_at) not in ("NaT", "None", "nan")
        state = f"rolled back {row.rolled_back_at:%Y-%m-%d %H:%M} by {row.rolled_back_by}" if rolled else ""
        print(
            f"{row.batch_id:>5}  {row.kind:<6}  {row.loaded_at:%Y-%m-%d %H:%M}  {row.loaded_by:<28}  "
            f"+{row.rows_added} ~{row.rows_changed}  {row.file_name}  {row.checksum[:12]}  {state}".rstrip()
        )
    return 0


def _cmd_rollback(args) -> int:
    from rsp_data.imports.apply import RollbackRefused, rollback

    writer = _acting_as(args)
    if writer is False:
        return 2
    engine = make_engine(args.url)
    init_store(engine)  # the grants table present in a store made before it
    try:
        count = rollback(engine, args.batch_id, writer.identity if writer else _who(args.by), writer=writer)
    except RollbackRefused as exc:
        return _fail(f"rollback refused: {exc}", 1)
    print(f"batch {args.batch_id} rolled back: {count} row(s) restored or removed")
    return 0


def _cmd_grant(args) -> int:
    from rsp_data.grants import ALL, GrantError, grant, identity_key

    if bool(args.rsp_ids) == args.all:
        return _fail("name the partnership ids, or --all (state staff: every partnership), not both", 2)
    engine = make_engine(args.url)
    init_store(engine)
    try:
        added = grant(engine, args.identity, None if args.all else args.rsp_ids, _who(args.by))
    except GrantError as exc:
        return _fail(exc, 2)
    who = identity_key(args.identity)
    if not added:
        print(f"{who} already had that grant: nothing changed")
    elif added == [ALL]:
        print(f"{who} may now write every partnership's figures ({ALL})")
    else:
        print(f"{who} may now write: {', '.join(added)}")
    return 0


def _cmd_revoke(args) -> int:
    from rsp_data.grants import GrantError, identity_key, revoke

    engine = make_engine(args.url)
    init_store(engine)
    try:
        gone = revoke(engine, args.identity, args.rsp_ids or None, _who(args.by))
    except GrantError as exc:
        return _fail(exc, 2)
    who = identity_key(args.identity)
    print(f"{who} may no longer write: {', '.join(gone)}" if gone else f"{who} had no such grant: nothing changed")
    return 0


def _cmd_grants(args) -> int:
    from rsp_data.grants import current_grants, grant_log

    engine = make_engine(args.url)
    init_store(engine)
    if args.log:
        for c in grant_log(engine):
            when, who = f"{c['changed_at']:%Y-%m-%d %H:%M}", c["changed_by"]
            print(f"{when}  {who:<28}  {c['action']:<6}  {c['identity']}  {c['rsp_id']}")
        return 0
    rows = current_grants(engine)
    if not rows:
        print("no grants: only the command line, the password administrator and admin_emails may write")
        return 0
    by_identity: dict[str, list[dict]] = {}
    for row in rows:
        by_identity.setdefault(row["identity"], []).append(row)
    for identity, held in by_identity.items():
        last = max(held, key=lambda r: r["granted_at"])
        ids = ", ".join(r["rsp_id"] for r in held)
        print(f"{identity:<40}  {ids}  (last granted {last['granted_at']:%Y-%m-%d} by {last['granted_by']})")
    return 0


def _cmd_status(args) -> int:
    import csv
    from datetime import date

    from queries import reporting
    from queries.filters import Filters
    from rsp_data.months import month_to_date

    today = date.fromisoformat(args.today) if args.today else reporting.today()
    try:
        month = month_to_date(args.month) if args.month else reporting.latest_due(today)
    except ValueError:
        return _fail(f"--month {args.month!r}: write the month as YYYY-MM, e.g. 2026-10", 2)
    engine = make_engine(args.url)
    init_store(engine)
    grid, _ = reporting.status_grid(engine, Filters(), today=today, last=month, months=1, limit=None)
    overdue = int((grid["status"] == reporting.OVERDUE).sum())
    if args.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(["rsp_id", "name", "month", "status", "days_late", "detail"])
        writer.writerows(grid[["rsp_id", "name", "month", "status", "days_late", "detail"]].itertuples(index=False))
    else:
        print(reporting.month_status(engine, Filters(), month, today=today).sentence())
        for row in grid.itertuples():
            print(f"  {reporting.SYMBOLS[row.status]} {row.status:<12} {row.rsp_id:<32} {row.detail}")
    return 3 if overdue else 0


def _cmd_hash_password(args) -> int:
    from rsp_data.auth import hash_password

    password = os.environ.get("RSP_NEW_PASSWORD") or getpass.getpass("New admin password: ")
    if len(password) < 12:
        return _fail("use at least 12 characters", 1)
    print(hash_password(password))
    return 0


def _cmd_viewer_role(args) -> int:
    from rsp_data.roles import create_viewer_role, validate_role_name, viewer_write_privileges

    url = make_url(args.url)
    if url.get_backend_name() != "postgresql":
        return _fail(
            f"viewer-role needs a PostgreSQL store; {_redact(args.url)} is {url.get_backend_name()}, which has "
            "no database roles. Give the viewing app a SQLite file it can only read (file permissions, "
            "e.g. chmod a-w) instead.",
            2,
        )
    try:
        validate_role_name(args.role)
    except ValueError as exc:
        return _fail(exc, 2)
    password = os.environ.get("RSP_VIEWER_PASSWORD")
    if not password:
        try:
            password = getpass.getpass(f"Password for {args.role}: ")
            if password and getpass.getpass("Same password again: ") != password:
                return _fail("the two passwords differ: nothing changed", 1)
        except EOFError:  # no terminal and nothing on stdin
            password = ""
    if not password:
        return _fail("the viewer needs a password (RSP_VIEWER_PASSWORD or the prompt): nothing changed", 2)
    engine = make_engine(args.url)
    create_viewer_role(engine, args.role, password)
    left = viewer_write_privileges(engine, args.role)
    shape = url.set(username=args.role, password="x").render_as_string(hide_password=True)
    print(f"{_redact(args.url)}: role {args.role} may connect and read every table (now and later), nothing else.")
    print(f"Give the viewing app DATABASE_URL={shape}  (*** = the viewer's password, URL-encoded)")
    if left:
        for privilege in left:
            print(f"warning: {args.role} can still write: {privilege}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rsp_data", description="The RSP metrics store.")
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, handler, summary: str, url: bool = True) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=summary)
        p.set_defaults(handler=handler)
        if url:
            p.add_argument("--url", help="database URL (default: DATABASE_URL, else the embedded SQLite file)")
        return p

    init = command("init", _cmd_init, "create the schema and registry (idempotent)")
    init.add_argument("--demo", action="store_true", help="also load the illustrative demo data")
    imp = command("import", _cmd_import, "import a CSV or XLSX file of monthly figures")
    goals = command("import-goals", _cmd_import_goals, "add or update goals from a CSV file (goals.csv shape)")
    for file_command in (imp, goals):
        file_command.add_argument("file")
        file_command.add_argument("--dry-run", action="store_true", help="check and preview, write nothing")
    rb = command("rollback", _cmd_rollback, "undo an import batch")
    rb.add_argument("batch_id", type=int)
    for writing, verb in ((imp, "importing"), (rb, "rolling back")):
        writing.epilog = (
            "Without --as the operator running this command is trusted with every partnership, as before grants "
            "existed; with --as EMAIL the same rules as on the Submit page apply."
        )
        acting = writing.add_mutually_exclusive_group()
        acting.add_argument("--by", help=f"who is {verb}, as recorded (default: your user name)")
        acting.add_argument(
            "--as",
            dest="acting_as",
            metavar="EMAIL",
            help=f"act for a convener: an e-mail (or sub:SUBJECT) whose grants are checked and who is recorded as "
            f"{verb}",
        )
    command("history", _cmd_history, "list the batches loaded into the store")
    gr = command("grant", _cmd_grant, "let an e-mail (or sub:SUBJECT) write partnerships' figures; --all: every one")
    gr.add_argument("identity", metavar="EMAIL")
    gr.add_argument("rsp_ids", nargs="*", metavar="RSP_ID")
    gr.add_argument("--all", action="store_true", help="every partnership (state staff)")
    rv = command(
        "revoke",
        _cmd_revoke,
        "take back grants: the partnership ids named (all: the grant of every one), or every grant when none is",
    )
    rv.add_argument("identity", metavar="EMAIL")
    rv.add_argument("rsp_ids", nargs="*", metavar="RSP_ID")
    for changing in (gr, rv):
        changing.add_argument("--by", help="who is making the change, as recorded (default: your user name)")
    listing = command("grants", _cmd_grants, "list who may write which partnerships")
    listing.add_argument("--log", action="store_true", help="every grant and revoke instead: when, who, what")
    status = command(
        "status",
        _cmd_status,
        "who has reported a month, who is late, who is missing; exit status 3 when any is overdue",
    )
    status.add_argument("--month", help="YYYY-MM (default: the latest month whose figures are due)")
    status.add_argument("--csv", action="store_true", help="one machine-readable row per partnership")
    status.add_argument("--today", help="YYYY-MM-DD to judge lateness on (default: today in Connecticut)")
    command("hash-password", _cmd_hash_password, "print a password hash for RSP_ADMIN_PASSWORD_HASH", url=False)
    viewer = command("viewer-role", _cmd_viewer_role, "PostgreSQL: create or update the app's read-only role")
    viewer.add_argument("role", help="role name, e.g. rsp_viewer (password: RSP_VIEWER_PASSWORD, else a prompt)")
    synth = command("synth", _cmd_synth, "write a seeded synthetic national store (benchmarks)", url=False)
    synth.add_argument("--partnerships", type=int, required=True)
    synth.add_argument("--months", type=int, required=True)
    synth.add_argument("--seed", type=int, default=2026)
    synth.add_argument("--replace", action="store_true", help="overwrite a store that already has facts")
    synth.add_argument("--url", dest="synth_url", help="database URL (default: var/synth-NxM-seedS.sqlite)")
    command("check-rollups", _cmd_check_rollups, "recompute the rollups from the facts and list differences")

    args = parser.parse_args(argv)
    if hasattr(args, "url"):
        args.url = args.url or database_url()
    try:
        return args.handler(args)
    except SQLAlchemyError as exc:
        where = _redact(args.url) if getattr(args, "url", None) else "the store"
        return _fail(
            f"{args.command} failed on {where}: {exc.__class__.__name__}: {exc.args[0] if exc.args else exc}", 1
        )


if __name__ == "__main__":
    sys.exit(main())
