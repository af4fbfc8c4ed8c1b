"""A read-only PostgreSQL role for the viewing app: CONNECT, USAGE on schema public and SELECT on its
tables (now and later, via default privileges); every other privilege of its own is revoked, so re-running
resets it. Run by the store's owner (it needs CREATEROLE): `python -m rsp_data viewer-role rsp_viewer`.
"""

from __future__ import annotations

import re

from sqlalchemy import Engine, text
from sqlalchemy.dialects import postgresql

# Lower-case, unquoted-identifier shape, at most 63 characters (NAMEDATALEN - 1); fullmatch: "$" allows a "\n".
ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
# Names PostgreSQL reserves or reads as keywords in role positions.
RESERVED_ROLE_NAMES = {"public", "none", "current_user", "current_role", "session_user", "all"}

_PREPARER = postgresql.dialect().identifier_preparer


def validate_role_name(role: str) -> str:
    """The role name, if it is a plain lower-case identifier; ValueError otherwise."""
    if not isinstance(role, str) or not ROLE_NAME.fullmatch(role):
        raise ValueError(
            f"refusing role name {role!r}: use 1 to 63 lower-case letters, digits and underscores, "
            "not starting with a digit (e.g. rsp_viewer)"
        )
    if role in RESERVED_ROLE_NAMES or role.startswith("pg_"):
        raise ValueError(f"refusing role name {role!r}: PostgreSQL reserves it")
    return role


def viewer_role_sql(role: str, database: str) -> list[str]:
    """The owner's statements (one transaction, no password) that make `role` the viewer of `database`."""
    validate_role_name(role)
    name, db = _PREPARER.quote(role), _PREPARER.quote(database)  # quoted only when they need it
    # The one string literal: safe, as validate_role_name allows only [a-z0-9_] (no quote, no backslash).
    literal = f"'{role}'"
    guard = f"""DO $rsp$
DECLARE
    r pg_roles%ROWTYPE;
BEGIN
    IF {literal} = current_user THEN
        RAISE EXCEPTION 'refusing to make %, the role running this (the owner), read-only', {literal};
    END IF;
    SELECT * INTO r FROM pg_roles WHERE rolname = {literal};
    IF NOT FOUND THEN
        CREATE ROLE {name} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
    ELSIF r.rolsuper OR r.rolcreatedb OR r.rolcreaterole OR r.rolreplication OR r.rolbypassrls
        OR EXISTS (SELECT 1 FROM pg_auth_members m WHERE m.member = r.oid)
        OR EXISTS (SELECT 1 FROM pg_database d WHERE d.datdba = r.oid) THEN
        RAISE EXCEPTION 'refusing to turn the existing role % into the viewer: it has privileges of its own '
            '(superuser, createdb, createrole, replication, bypassrls, a role membership or a database)', {literal};
    END IF;
END
$rsp$"""
    return [
        guard,
        f"ALTER ROLE {name} WITH LOGIN",
        f"REVOKE ALL ON DATABASE {db} FROM {name}",
        f"GRANT CONNECT ON DATABASE {db} TO {name}",
        f"REVOKE ALL ON SCHEMA public FROM {name}",
        f"GRANT USAGE ON SCHEMA public TO {name}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {name}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {name}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {name}",
        # Tables the owner (the role running this) creates later in public: readable, no more.
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {name}",
    ]


def _require_postgresql(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        raise ValueError(
            f"database roles need a PostgreSQL store, not {engine.dialect.name}: "
            "make a SQLite file read-only with file permissions instead"
        )


def create_viewer_role(engine: Engine, role: str, password: str | None) -> None:
    """Create or update the read-only role as the store's owner; password None keeps any password (certificates)."""
    validate_role_name(role)
    _require_postgresql(engine)
    if password is not None and (password == "" or "\x00" in password):
        raise ValueError("the viewer's password must be non-empty (and contain no NUL character)")
    with engine.begin() as conn:
        database = conn.execute(text("SELECT current_database()")).scalar_one()
        # no_parameters: the driver sends each text as it is, without reading "%" as a placeholder
        raw_sql = conn.execution_options(no_parameters=True)
        for statement in viewer_role_sql(role, database):
            raw_sql.exec_driver_sql(statement)
        if password is not None:
            # No bind parameters in ALTER ROLE: send a SCRAM verifier made here, never the clear text.
            from psycopg import sql

            raw = conn.connection.dbapi_connection
            verifier = raw.pgconn.encrypt_password(password.encode("utf-8"), role.encode(), b"scram-sha-256")
            statement = sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                sql.Identifier(role), sql.Literal(verifier.decode("ascii"))
            )
            raw_sql.exec_driver_sql(statement.as_string(raw))


def viewer_write_privileges(engine: Engine, role: str) -> list[str]:
    """Every way `role` could still change the store's database (own grants and PUBLIC's): [] for a proper viewer."""
    validate_role_name(role)
    _require_postgresql(engine)
    with engine.connect() as conn:

        def run(sql: str):
            return conn.execute(text(sql), {"role": role})

        attrs = run(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls "
            "FROM pg_roles WHERE rolname = :role"
        ).first()
        if attrs is None:
            return [f"there is no role {role}"]
        found = [f"role attribute {name[3:].upper()}" for name, on in attrs._asdict().items() if on]
        tables = run(
            "SELECT c.relname, p.privilege FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "CROSS JOIN unnest(ARRAY['INSERT','UPDATE','DELETE','TRUNCATE','REFERENCES','TRIGGER']) AS p(privilege) "
            "WHERE n.nspname = 'public' "
            # CASE: the planner may call the check before the relkind filter, on indexes too
            "AND CASE WHEN c.relkind IN ('r', 'p', 'v', 'm', 'f') "
            "THEN has_table_privilege(:role, c.oid, p.privilege) ELSE false END ORDER BY 1, 2"
        )
        found += [f"{privilege} on table {table}" for table, privilege in tables]
        sequences = run(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' "
            "AND CASE WHEN c.relkind = 'S' THEN has_sequence_privilege(:role, c.oid, 'USAGE,UPDATE') "
            "ELSE false END ORDER BY 1"
        )
        found += [f"USAGE or UPDATE on sequence {name}" for (name,) in sequences]
        if run("SELECT has_schema_privilege(:role, 'public', 'CREATE')").scalar_one():
            found.append("CREATE on schema public (REVOKE CREATE ON SCHEMA public FROM PUBLIC)")
        if run("SELECT has_database_privilege(:role, current_database(), 'CREATE')").scalar_one():
            found.append("CREATE on the database")
    return found
