"""Users in the records store (SQLite and PostgreSQL): salted bcrypt hashes, verification that does not
reveal names, demo users, the CLI, the one-time import of an earlier version's users file, and a
clear error when the store cannot be read."""
from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest

from bench.records import pg_schema
from data import records, users
from data.db import users_path
from tests.data.test_records import PG_URL, pg_reason

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def users_file(tmp_path: Path) -> Path:
    path = tmp_path / "madang.users.json"
    users.add_user(path, "kim", "correct-horse", "evaluator", rounds=4)
    return path


def test_passwords_are_stored_as_salted_bcrypt_hashes(users_file: Path) -> None:
    users.add_user(users_file, "lee", "correct-horse", "policy", rounds=4)
    db = users_file.with_name("madang.duckdb")                       # the users file path names the data file
    store = records.records_path(db)
    assert not users_file.exists() and store.exists()
    assert all(b"correct-horse" not in p.read_bytes() for p in store.parent.glob(store.name + "*") if p.is_file())
    with records.records(db, write=False) as tx:
        stored = dict(tx.execute("SELECT name, hash FROM users").fetchall())
    assert stored["kim"].startswith("$2b$04$")
    assert stored["kim"] != stored["lee"]  # same password, different salts
    assert oct(store.stat().st_mode & 0o777) == "0o600"


def test_verify_returns_the_role_only_for_the_right_password(users_file: Path) -> None:
    assert users.verify(users_file, "kim", "correct-horse") == "evaluator"
    assert users.verify(users_file, " kim ", "correct-horse") == "evaluator"
    assert users.verify(users_file, "kim", "wrong-horse") is None
    assert users.verify(users_file, "nobody", "correct-horse") is None


def test_unknown_users_cost_the_same_bcrypt_work(users_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bytes] = []
    real = bcrypt.checkpw
    monkeypatch.setattr(users.bcrypt, "checkpw", lambda pw, digest: seen.append(digest) or real(pw, digest))
    users.verify(users_file, "kim", "wrong-horse")
    users.verify(users_file, "nobody", "wrong-horse")
    assert len(seen) == 2
    assert seen[0][:7] == seen[1][:7] == b"$2b$04$"  # one check each, at the same cost


def test_add_user_rejects_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "u.json"
    with pytest.raises(ValueError, match="unknown role"):
        users.add_user(path, "a", "long-enough", "root", rounds=4)
    with pytest.raises(ValueError, match="8 characters"):
        users.add_user(path, "a", "short", "policy", rounds=4)
    with pytest.raises(ValueError, match="empty"):
        users.add_user(path, "  ", "long-enough", "policy", rounds=4)
    assert not path.exists()


def test_demo_users_are_created_once_and_keep_changed_passwords(tmp_path: Path) -> None:
    path = tmp_path / "u.json"
    users.ensure_demo_users(path, rounds=4)
    assert users.list_users(path) == sorted((n, r) for n, (_, r) in users.DEMO_USERS.items())
    for name, (password, role) in users.DEMO_USERS.items():
        assert users.verify(path, name, password) == role
    users.add_user(path, "admin", "a-new-secret", "admin", rounds=4)
    users.ensure_demo_users(path, rounds=4)
    assert users.verify(path, "admin", "a-new-secret") == "admin"


def test_cli_adds_and_lists_users(tmp_path: Path) -> None:
    db = tmp_path / "madang.duckdb"
    run = lambda *args, **kw: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "data.users", "--db", str(db), *args], cwd=ROOT, capture_output=True, text=True, **kw)
    added = run("add", "park", "--role", "auditor", "--password-stdin", input="a-long-password\n")
    assert added.returncode == 0, added.stderr
    assert "correct" not in added.stdout and "a-long-password" not in added.stdout
    listed = run("list")
    assert listed.stdout.strip() == "park\tauditor"
    assert users.verify(users_path(db), "park", "a-long-password") == "auditor"


def test_cli_refuses_bad_input_with_a_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import io

    db = str(tmp_path / "madang.duckdb")
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert users.main(["--db", db, "add", "x", "--role", "auditor", "--password-stdin"]) == 2
    assert "8 characters" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        users.main(["--db", db, "add", "x", "--role", "boss", "--password-stdin"])
    assert users.list_users(users_path(db)) == []


def test_disabled_users_cannot_sign_in_and_removed_users_are_gone(tmp_path: Path) -> None:
    from data.users import active_role, add_user, disabled_users, list_users, main, remove_user, set_disabled, verify

    path = tmp_path / "users.json"
    add_user(path, "kim", "password-1", "policy", rounds=4)
    add_user(path, "lee", "password-2", "auditor", rounds=4)
    set_disabled(path, "kim", True)
    assert verify(path, "kim", "password-1") is None and active_role(path, "kim") is None
    assert disabled_users(path) == {"kim"} and verify(path, "lee", "password-2") == "auditor"
    add_user(path, "kim", "password-3", "policy", rounds=4)           # a password reset keeps the flag
    assert verify(path, "kim", "password-3") is None
    assert main(["--db", str(tmp_path / "x.duckdb"), "enable", "nobody"]) == 2
    set_disabled(path, "kim", False)
    assert verify(path, "kim", "password-3") == "policy" and active_role(path, "kim") == "policy"
    remove_user(path, "kim")
    assert [n for n, _ in list_users(path)] == ["lee"] and verify(path, "kim", "password-3") is None
    with pytest.raises(ValueError):
        remove_user(path, "kim")


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A users file path whose users live in SQLite beside the data file, or in a throwaway PostgreSQL schema."""
    monkeypatch.delenv(records.URL_ENV, raising=False)
    if request.param == "postgresql":
        reason = pg_reason()
        if reason:
            pytest.skip(reason)
        with pg_schema(PG_URL) as url:
            monkeypatch.setenv(records.URL_ENV, url)
            yield users_path(tmp_path / "madang.duckdb")
        return
    yield users_path(tmp_path / "madang.duckdb")


def test_the_user_functions_on_each_store(store: Path) -> None:
    db = store.with_name("madang.duckdb")
    users.add_user(store, "kim", "password-1", "policy", rounds=4)
    users.add_user(db, " kim ", "password-2", "auditor", rounds=4)        # the data file path names the same store
    users.add_user(store, "lee", "password-3", "evaluator", rounds=4)
    assert users.list_users(db) == [("kim", "auditor"), ("lee", "evaluator")]   # one row per name
    assert users.verify(store, "kim", "password-1") is None and users.verify(store, "kim", "password-2") == "auditor"
    users.set_disabled(store, "lee", True)
    assert users.disabled_users(store) == {"lee"} and users.active_role(store, "lee") is None
    assert users.verify(store, "lee", "password-3") is None and users.active_role(store, "kim") == "auditor"
    users.set_disabled(store, "lee", False)
    users.remove_user(store, "kim")
    assert users.list_users(store) == [("lee", "evaluator")] and users.verify(store, "lee", "password-3") == "evaluator"
    with pytest.raises(ValueError, match="no user"):
        users.set_disabled(store, "kim", True)
    with records.records(db, write=False) as tx:                           # what the database holds, independently
        rows = tx.execute("SELECT name, role, disabled FROM users").fetchall()
    assert [(n, r, bool(d)) for n, r, d in rows] == [("lee", "evaluator", False)]
    with pytest.raises(records.IntegrityErrors), records.records(db) as tx:   # the schema refuses an unknown role
        tx.execute("INSERT INTO users (name, hash, role, created_at) VALUES ('x', 'h', 'root', CURRENT_TIMESTAMP)")


def test_an_earlier_users_file_is_imported_once(store: Path) -> None:
    digest = bcrypt.hashpw(b"password-1", bcrypt.gensalt(rounds=4)).decode("ascii")
    legacy = {"kim": {"role": "policy", "hash": digest}, "lee": {"role": "auditor", "hash": digest, "disabled": True}}
    store.write_text(json.dumps({"users": legacy}), encoding="utf-8")
    assert users.list_users(store) == [("kim", "policy"), ("lee", "auditor")]
    assert not store.exists() and store.with_name(store.name + ".migrated").exists()
    assert users.verify(store, "kim", "password-1") == "policy" and users.disabled_users(store) == {"lee"}
    users.remove_user(store, "lee")
    store.write_text(json.dumps({"users": legacy}), encoding="utf-8")    # a file put back later is not imported again
    assert users.list_users(store) == [("kim", "policy")] and store.exists()


def test_an_unreadable_users_file_or_store_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(records.URL_ENV, raising=False)
    path = users_path(tmp_path / "a.duckdb")
    path.write_text('{"users": {"admin": ', encoding="utf-8")             # cut short, not imported yet
    with pytest.raises(users.UsersFileError, match="cannot be read"):
        users.list_users(path)
    assert path.exists() and users.main(["--db", str(tmp_path / "a.duckdb"), "list"]) == 2
    bad = tmp_path / "b.duckdb"
    records.records_path(bad).write_bytes(b"this is not a database" * 100)
    with pytest.raises(records.RecordsError, match="cannot be read"):
        users.verify(users_path(bad), "admin", "admin-demo")
