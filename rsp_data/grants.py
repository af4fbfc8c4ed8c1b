"""Who may write which partnership's figures.

A grant is an identity and a partnership id, or ALL ("all": state staff, every partnership). An identity
is a lower-cased e-mail address, or "sub:" and an OpenID Connect subject exactly as the provider sends it.
Every grant and revoke is recorded in grant_changes: who changed it, when, and what.

The import and the rollback (rsp_data.imports.apply) take a Writer and check it inside their
transaction, behind the import lock: a grant revoked a moment ago is already in force. Without a
Writer (the command line without --as) the operator is trusted, as before grants existed.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, delete, insert, select

from rsp_data.imports.read import ValidationReport
from rsp_data.schema import grant_changes, partnerships, write_grants

ALL = "all"
SUBJECT_PREFIX = "sub:"
MAX_IDENTITY = 200  # fits import_batches.loaded_by, so a batch's submitter is matched exactly
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class GrantError(ValueError):
    """A grant or revoke that cannot be made; nothing was changed."""


def identity_key(text: str) -> str:
    """The key an e-mail address (lower-cased) or a "sub:SUBJECT" is stored under; GrantError otherwise."""
    value = str(text).strip()
    if value[: len(SUBJECT_PREFIX)].lower() == SUBJECT_PREFIX:
        subject = value[len(SUBJECT_PREFIX) :].strip()
        key = SUBJECT_PREFIX + subject
        if subject and subject.isprintable() and len(key) <= MAX_IDENTITY:
            return key
    elif EMAIL.fullmatch(value) and value.isprintable() and len(value) <= MAX_IDENTITY:
        return value.lower()
    raise GrantError(
        f"{value[:80]!r} is not an identity: give an e-mail address (a@example.org) or sub: and the "
        f"OpenID Connect subject (sub:00u1abcd), at most {MAX_IDENTITY} characters"
    )


@dataclass(frozen=True)
class Writer:
    """Someone writing: `identity` is recorded on the batches they load, `keys` are looked up in the grants,
    and a `trusted` writer may write every partnership without a grant (the password administrator and
    the admin_emails allow-list, both set by whoever runs the server)."""

    identity: str
    keys: tuple[str, ...] = ()
    trusted: bool = False

    @classmethod
    def acting_as(cls, text: str) -> Writer:
        """The writer an operator names with --as: their grants, as if they had signed in."""
        key = identity_key(text)
        return cls(key, (key,))


def writer_from_claims(claims: Mapping[str, object], admin_emails: Iterable[str] = ()) -> Writer | None:
    """The Writer an OpenID Connect sign-in stands for (None without a usable e-mail or subject).

    The e-mail counts only when the provider does not say it is unverified; admin_emails are trusted.
    """
    email = str(claims.get("email") or "").strip().lower()
    unverified = str(claims.get("email_verified", "true")).strip().lower() == "false"
    keys = []
    with contextlib.suppress(GrantError):
        if email and not unverified:
            keys.append(identity_key(email))
    with contextlib.suppress(GrantError):
        if claims.get("sub"):
            keys.append(identity_key(SUBJECT_PREFIX + str(claims["sub"])))
    if not keys:
        return None
    admins = {e.strip().lower() for e in admin_emails}
    return Writer(keys[0], tuple(keys), trusted=bool(email) and not unverified and email in admins)


@dataclass(frozen=True)
class Scope:
    """The partnerships a writer may write: every one (`every`), or those in `rsp_ids`."""

    every: bool
    rsp_ids: frozenset[str] = frozenset()

    @property
    def empty(self) -> bool:
        return not self.every and not self.rsp_ids

    def allows(self, rsp_id: str) -> bool:
        return self.every or rsp_id in self.rsp_ids


@contextlib.contextmanager
def _connection(bind):
    """A connection from an Engine, or the caller's own connection (inside its transaction)."""
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            yield conn
    else:
        yield bind


def scope(bind, writer: Writer) -> Scope:
    """What `writer` may write now (`bind`: an Engine, or a Connection inside the writing transaction)."""
    if writer.trusted:
        return Scope(every=True)
    if not writer.keys:
        return Scope(every=False)
    with _connection(bind) as conn:
        granted = set(
            conn.execute(select(write_grants.c.rsp_id).where(write_grants.c.identity.in_(writer.keys))).scalars()
        )
    return Scope(every=ALL in granted, rsp_ids=frozenset(granted - {ALL}))


def refuse_rows(bind, writer: Writer, report: ValidationReport) -> Scope:
    """Add an error to `report` for every row of a partnership `writer` may not write: the file is then
    refused whole. Returns the writer's scope."""
    allowed = scope(bind, writer)
    if allowed.every:
        return allowed
    mine = ", ".join(sorted(allowed.rsp_ids))
    why = f"this account may write only {mine}" if mine else "this account has no grant to write any partnership"
    for row in report.rows:
        if not allowed.allows(row.rsp_id):
            report.add(row.line, "rsp_id", row.rsp_id, f"{writer.identity} may not write {row.rsp_id}'s figures: {why}")
    return allowed


def rollback_refusal(bind, writer: Writer, batch: Mapping) -> str | None:
    """Why `writer` may not roll back `batch` (an import_batches row), or None: its submitter and "all" may."""
    if batch["loaded_by"] == writer.identity or scope(bind, writer).every:
        return None
    return (
        f"batch {batch['batch_id']} was loaded by {batch['loaded_by']}: only they and state staff "
        f"(a grant of {ALL}) may roll it back, not {writer.identity}"
    )


# ---------------------------------------------------------------- managing grants (the command line)


def _checked_ids(conn, rsp_ids: Iterable[str]) -> list[str]:
    wanted = list(dict.fromkeys(str(r).strip() for r in rsp_ids))
    known = set(conn.execute(select(partnerships.c.rsp_id)).scalars())
    unknown = [r for r in wanted if r not in known]
    if unknown:
        raise GrantError(
            f"no partnership {', '.join(unknown)} in the store (ids: {', '.join(sorted(known))}); nothing changed"
        )
    return wanted


def _log(conn, action: str, identity: str, rsp_ids: list[str], by: str, when: datetime) -> None:
    if rsp_ids:
        rows = [
            {"changed_at": when, "changed_by": by[:200], "action": action, "identity": identity, "rsp_id": r}
            for r in rsp_ids
        ]
        conn.execute(insert(grant_changes), rows)


def grant(engine: Engine, identity: str, rsp_ids: Iterable[str] | None, by: str) -> list[str]:
    """Let `identity` write `rsp_ids` (None: every partnership, ALL). Returns what is new; every change logged."""
    key = identity_key(identity)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        wanted = [ALL] if rsp_ids is None else _checked_ids(conn, rsp_ids)
        if not wanted:
            raise GrantError("name at least one partnership id, or --all")
        held = set(conn.execute(select(write_grants.c.rsp_id).where(write_grants.c.identity == key)).scalars())
        new = [r for r in wanted if r not in held]
        if new:
            conn.execute(
                insert(write_grants),
                [{"identity": key, "rsp_id": r, "granted_at": now, "granted_by": by[:200]} for r in new],
            )
        _log(conn, "grant", key, new, by, now)
    return new


def revoke(engine: Engine, identity: str, rsp_ids: Iterable[str] | None, by: str) -> list[str]:
    """Take back `rsp_ids` (ALL included) from `identity`, or every grant it has (None). Returns what went."""
    key = identity_key(identity)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        held = set(conn.execute(select(write_grants.c.rsp_id).where(write_grants.c.identity == key)).scalars())
        gone = (
            sorted(held)
            if rsp_ids is None
            else [r for r in dict.fromkeys(str(r).strip() for r in rsp_ids) if r in held]
        )
        if gone:
            conn.execute(delete(write_grants).where(write_grants.c.identity == key, write_grants.c.rsp_id.in_(gone)))
        _log(conn, "revoke", key, gone, by, now)
    return gone


def current_grants(engine: Engine) -> list[dict]:
    """Every grant now, by identity then partnership id."""
    stmt = select(write_grants).order_by(write_grants.c.identity, write_grants.c.rsp_id)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def grant_log(engine: Engine) -> list[dict]:
    """Every grant and revoke, oldest first."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(grant_changes).order_by(grant_changes.c.change_id)).mappings()]
