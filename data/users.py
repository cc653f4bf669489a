"""Users and roles: a JSON file of salted bcrypt hashes next to the database, and its CLI.

    python -m data.users add NAME --role ROLE [--password-stdin] [--db PATH]
    python -m data.users disable|enable|remove NAME [--db PATH]
    python -m data.users list [--db PATH]

Plain passwords are never stored or logged. :func:`verify` does the same bcrypt work whether or not
the user exists, so its timing does not tell which names are real.
"""
from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

import bcrypt

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


class UsersFileError(RuntimeError):
    """The users file exists but cannot be read as one (truncated, edited by hand, not JSON)."""


def _load(path: Path) -> dict[str, dict[str, Any]]:
    if not path.exists():
        return {}
    try:
        users = json.loads(path.read_text(encoding="utf-8"))["users"]
        if not isinstance(users, dict) or not all(
                isinstance(u, dict) and isinstance(u.get("role"), str) and isinstance(u.get("hash"), str)
                for u in users.values()):
            raise ValueError("each user needs a role and a hash")
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise UsersFileError(f"the users file {path} cannot be read ({exc}); restore it from a backup, or move it "
                             f"aside and add users with `python -m data.users add NAME --role admin`") from exc
    return users


def check(path: Path | str) -> None:
    """Raise :class:`UsersFileError` when the users file exists but cannot be read."""
    _load(Path(path))


def _save(path: Path, users: dict[str, dict[str, Any]]) -> None:
    # write a temporary file and rename it, so a crash never leaves half a users file
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump({"users": users}, fh, ensure_ascii=False, indent=2)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def add_user(path: Path | str, name: str, password: str, role: str, *, rounds: int = DEFAULT_ROUNDS) -> None:
    """Add a user, or replace the password and role of an existing one."""
    name = name.strip()
    if not name:
        raise ValueError("the user name is empty")
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise ValueError("the password needs at least 8 characters")
    path = Path(path)
    users = _load(path)
    digest = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=rounds)).decode("ascii")
    users[name] = {**users.get(name, {}), "role": role, "hash": digest}
    _save(path, users)


def list_users(path: Path | str) -> list[tuple[str, str]]:
    """(name, role) of every user, sorted by name."""
    return sorted((name, u["role"]) for name, u in _load(Path(path)).items())


def disabled_users(path: Path | str) -> set[str]:
    """Names of the users who may not sign in (kept, with their history, until removed)."""
    return {name for name, u in _load(Path(path)).items() if u.get("disabled")}


def active_role(path: Path | str, name: str) -> str | None:
    """The role of an existing user who is not disabled, else None (checked on every run of a session)."""
    user = _load(Path(path)).get(name)
    return None if user is None or user.get("disabled") else user["role"]


def set_disabled(path: Path | str, name: str, disabled: bool) -> None:
    """Disable (or enable again) a user; their sessions end at their next action."""
    path = Path(path)
    users = _load(path)
    if name not in users:
        raise ValueError(f"no user {name!r}")
    if disabled:
        users[name]["disabled"] = True
    else:
        users[name].pop("disabled", None)
    _save(path, users)


def remove_user(path: Path | str, name: str) -> None:
    """Remove a user (their entries in the access log stay)."""
    path = Path(path)
    users = _load(path)
    if users.pop(name, None) is None:
        raise ValueError(f"no user {name!r}")
    _save(path, users)


@lru_cache(maxsize=8)
def _dummy_hash(rounds: int) -> bytes:
    return bcrypt.hashpw(b"not-a-password", bcrypt.gensalt(rounds=rounds))


def verify(path: Path | str, name: str, password: str) -> str | None:
    """The user's role if the password is right, else None (unknown users cost the same work)."""
    users = _load(Path(path))
    user = users.get(name.strip())
    if user is None:
        # hash against a dummy of the same cost as real users, so timing does not reveal the name
        sample = next(iter(users.values()), None)
        rounds = int(sample["hash"][4:6]) if sample else DEFAULT_ROUNDS  # "$2b$12$..."
        bcrypt.checkpw(password.encode("utf-8"), _dummy_hash(rounds))
        return None
    ok = bcrypt.checkpw(password.encode("utf-8"), user["hash"].encode("ascii"))
    return user["role"] if ok and not user.get("disabled") else None


def ensure_demo_users(path: Path | str, *, rounds: int = DEFAULT_ROUNDS) -> None:
    """Create the demo users that do not exist yet (existing users are left as they are)."""
    existing = dict(list_users(path))
    for name, (password, role) in DEMO_USERS.items():
        if name not in existing:
            add_user(path, name, password, role, rounds=rounds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data.users", description="Manage Madang Insight users.")
    parser.add_argument("--db", type=Path, default=None, help="data file whose users file to use (default: $MADANG_DB or var/madang.duckdb)")
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
    path = users_path(args.db or default_db_path())
    if args.command == "list":
        off = disabled_users(path)
        for name, role in list_users(path):
            print(f"{name}\t{role}" + ("\tdisabled" if name in off else ""))
        return 0
    if args.command in ("disable", "enable", "remove"):
        try:
            if args.command == "remove":
                remove_user(path, args.name)
            else:
                set_disabled(path, args.name, args.command == "disable")
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
        add_user(path, args.name, password, args.role)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"user {args.name!r} ({args.role}) saved in {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
