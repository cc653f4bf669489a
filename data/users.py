"""Users and roles: salted bcrypt hashes in the records store (data/records.py), and their CLI.

    python -m data.users add NAME --role ROLE [--password-stdin] [--db PATH]
    python -m data.users disable|enable|remove NAME [--db PATH]
    python -m data.users list [--db PATH]

The users live in the ``users`` table of the records store that belongs to a data file (SQLite beside
it, or ``$MADANG_RECORDS_URL``), one transaction per change, so several app processes and the CLI
never overwrite each other's changes. Every function takes the users file path of earlier versions
(``users_path(db)``, ``<stem>.users.json``) or the data file path; a ``<stem>.users.json`` found while
the table is empty is imported once and renamed ``.users.json.migrated``.

Plain passwords are never stored or logged. :func:`verify` does the same bcrypt work whether or not
the user exists, so its timing does not tell which names are real.
"""
from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import bcrypt

from data import records
from data.access import ROLES
from data.db import default_db_path, users_path

DEFAULT_ROUNDS = 12  # bcrypt cost: ~0.2 s per check here; slow on purpose
# The demo users created with the default database (listed in the README).
DEMO_USERS: dict[str, tuple[str, str]] = {
    "policy": ("policy-demo", "policy"),
    "evaluator": ("evaluator-demo", "evaluator"),
    "auditor": ("auditor-demo", "auditor"),
    "admin": ("admin-demo", "admin"),
}
_JSON_SUFFIX = ".users.json"


class UsersFileError(RuntimeError):
    """The users file of an earlier version cannot be imported (truncated, edited by hand, not JSON)."""


def _data_file(path: Path | str) -> Path:
    """The data file whose records store holds the users: ``<stem>.users.json`` -> ``<stem>.duckdb``."""
    p = Path(path)
    if p.name.endswith(_JSON_SUFFIX):
        return p.with_name(p.name[: -len(_JSON_SUFFIX)] + ".duckdb")
    return p


def _read_json(path: Path) -> dict[str, dict[str, Any]]:
    try:
        users = json.loads(path.read_text(encoding="utf-8"))["users"]
        if not isinstance(users, dict) or not all(
                isinstance(u, dict) and u.get("role") in ROLES and isinstance(u.get("hash"), str)
                for u in users.values()):
            raise ValueError("each user needs a known role and a hash")
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise UsersFileError(f"the users file {path} cannot be read ({exc}); restore it from a backup, or move it "
                             f"aside and add users with `python -m data.users add NAME --role admin`") from exc
    return users


def _import_json(db: Path) -> None:
    """Import the users file of an earlier version once, while the users table is empty."""
    legacy = users_path(db)
    if not legacy.exists():
        return
    with records.records(db, write=False) as tx:
        if tx.execute("SELECT 1 FROM users LIMIT 1").fetchone():
            return   # already imported (or users added since): the file is left for the administrator
    stored = _read_json(legacy)
    with records.records(db) as tx:   # the write lock: two processes importing at once insert once
        if tx.execute("SELECT 1 FROM users LIMIT 1").fetchone():
            return
        now = datetime.now()
        for name, u in stored.items():
            tx.execute("INSERT INTO users (name, hash, role, disabled, created_at) VALUES (?, ?, ?, ?, ?)",
                       [name.strip(), u["hash"], u["role"], bool(u.get("disabled")), now])
    legacy.replace(legacy.with_name(legacy.name + ".migrated"))


def _store(path: Path | str) -> Path:
    db = _data_file(path)
    _import_json(db)
    return db


def add_user(path: Path | str, name: str, password: str, role: str, *, rounds: int = DEFAULT_ROUNDS) -> None:
    """Add a user, or replace the password and role of an existing one (a disabled user stays disabled)."""
    name = name.strip()
    if not name:
        raise ValueError("the user name is empty")
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise ValueError("the password needs at least 8 characters")
    db = _store(path)
    # hashed before the transaction: bcrypt is slow on purpose and must not hold the write lock
    digest = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=rounds)).decode("ascii")
    with records.records(db) as tx:
        tx.execute("INSERT INTO users (name, hash, role, disabled, created_at) VALUES (?, ?, ?, ?, ?) "
                   "ON CONFLICT (name) DO UPDATE SET hash = excluded.hash, role = excluded.role",
                   [name, digest, role, False, datetime.now()])


def list_users(path: Path | str) -> list[tuple[str, str]]:
    """(name, role) of every user, sorted by name."""
    with records.records(_store(path), write=False) as tx:
        return sorted((str(n), str(r)) for n, r in tx.execute("SELECT name, role FROM users").fetchall())


def disabled_users(path: Path | str) -> set[str]:
    """Names of the users who may not sign in (kept, with their history, until removed)."""
    with records.records(_store(path), write=False) as tx:
        return {str(r[0]) for r in tx.execute("SELECT name FROM users WHERE disabled").fetchall()}


def active_role(path: Path | str, name: str) -> str | None:
    """The role of an existing user who is not disabled, else None (checked on every run of a session)."""
    with records.records(_store(path), write=False) as tx:
        row = tx.execute("SELECT role FROM users WHERE name = ? AND NOT disabled", [name]).fetchone()
    return None if row is None else str(row[0])


def _change(path: Path | str, name: str, sql: str, params: list[Any]) -> None:
    with records.records(_store(path)) as tx:
        if tx.execute(sql, params).rowcount != 1:
            raise ValueError(f"no user {name!r}")


def set_disabled(path: Path | str, name: str, disabled: bool) -> None:
    """Disable (or enable again) a user; their sessions end at their next action."""
    _change(path, name, "UPDATE users SET disabled = ? WHERE name = ?", [disabled, name])


def remove_user(path: Path | str, name: str) -> None:
    """Remove a user (their entries in the access log stay)."""
    _change(path, name, "DELETE FROM users WHERE name = ?", [name])


@lru_cache(maxsize=8)
def _dummy_hash(rounds: int) -> bytes:
    return bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(rounds=rounds))


def verify(path: Path | str, name: str, password: str) -> str | None:
    """The user's role if the password is right, else None (unknown users cost the same work)."""
    with records.records(_store(path), write=False) as tx:
        user = tx.one("SELECT hash, role, disabled FROM users WHERE name = ?", [name.strip()])
        sample = None if user else tx.one("SELECT hash FROM users LIMIT 1")
    if user is None:
        # hash against a dummy of the same cost as real users, so timing does not reveal the name
        rounds = int(sample["hash"][4:6]) if sample else DEFAULT_ROUNDS  # "$2b$12$..."
        bcrypt.checkpw(password.encode("utf-8"), _dummy_hash(rounds))
        return None
    ok = bcrypt.checkpw(password.encode("utf-8"), str(user["hash"]).encode("ascii"))
    return str(user["role"]) if ok and not user["disabled"] else None


def ensure_demo_users(path: Path | str, *, rounds: int = DEFAULT_ROUNDS) -> None:
    """Create the demo users that do not exist yet (existing users are left as they are)."""
    existing = dict(list_users(path))
    for name, (password, role) in DEMO_USERS.items():
        if name not in existing:
            add_user(path, name, password, role, rounds=rounds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data.users", description="Manage Madang Insight users.")
    parser.add_argument("--db", type=Path, default=None, help="data file whose users to manage (default: $MADANG_DB or var/madang.duckdb)")
    sub = parser.add_subparsers(dest="command", required=True)
    add = sub.add_parser("add", help="add a user or reset a password")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    sub.add_parser("list", help="list users and roles")
    for command, text in (("disable", "stop a user from signing in (their sessions end)"),
                          ("enable", "let a disabled user sign in again"), ("remove", "remove a user")):
        sub.add_parser(command, help=text).add_argument("name")
    args = parser.parse_args(argv)
    db = args.db or default_db_path()
    try:
        return _run(args, db)
    except (UsersFileError, records.RecordsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, db: Path) -> int:
    if args.command == "list":
        off = disabled_users(db)
        for name, role in list_users(db):
            print(f"{name}\t{role}" + ("\tdisabled" if name in off else ""))
        return 0
    if args.command in ("disable", "enable", "remove"):
        try:
            if args.command == "remove":
                remove_user(db, args.name)
            else:
                set_disabled(db, args.name, args.command == "disable")
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"user {args.name!r}: {args.command}d")
        return 0
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            print("error: the passwords differ", file=sys.stderr)
            return 2
    try:
        add_user(db, args.name, password, args.role)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"user {args.name!r} ({args.role}) saved in the records store of {db}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
