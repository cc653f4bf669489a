"""The only place with ``st.cache_resource`` / ``st.cache_data``.

* One read-only DuckDB connection per (path, data version), shared by all sessions; every query
  takes its own ``cursor()`` because DuckDB connections are not thread-safe.
* Results of analytics functions cached by (function, path, data version, arguments).

A rebuilt or imported database, or a new broker run beside it, gets a new data version
(``data.db.data_version`` is a stat of the file and of the runs folder, read on every call), so the
next rerun opens the new file and misses the old results. So that
the first visitor after a batch job does not wait for every page's queries, :func:`warm` replays
the most recent distinct calls against the new version in a background thread as soon as any run
notices the change.

The file is ATTACHed read-only into a fresh in-memory DuckDB instead of ``duckdb.connect(path)``:
DuckDB keeps one instance per path per process, so after ``os.replace`` a plain connect would keep
returning the old file's instance for as long as any old connection lives.
"""
from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import streamlit as st

from data.db import data_version, default_db_path

T = TypeVar("T")
_ALIAS = "madang"


@st.cache_resource(max_entries=4, show_spinner=False)
def _connection(path: str, version: str) -> duckdb.DuckDBPyConnection:
    if not Path(path).exists():
        raise FileNotFoundError(f"no database at {path}: build one with `python -m data.build --db {path}`")
    con = duckdb.connect(":memory:")
    con.execute(f"ATTACH '{path.replace(chr(39), chr(39) * 2)}' AS {_ALIAS} (READ_ONLY)")
    return con


@contextmanager
def cursor(db_path: Path | str | None = None, version: str | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A cursor on the current (or the given) version of the database, for one thread; closed afterwards."""
    path = str(db_path or default_db_path())
    cur = _connection(path, version or data_version(path)).cursor()
    try:
        cur.execute(f"USE {_ALIAS}")
        yield cur
    finally:
        cur.close()


def _resolve(module: str, qualname: str) -> Callable[..., Any]:
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


@st.cache_data(max_entries=512, ttl=3600, show_spinner=False)
def _cached(module: str, qualname: str, path: str, version: str, args: tuple, kwargs: tuple) -> Any:
    with cursor(path, version) as cur:
        return _resolve(module, qualname)(cur, *args, **dict(kwargs))


def query(fn: Callable[..., T], *args: Any, db_path: Path | str | None = None, **kwargs: Any) -> T:
    """``fn(con, *args, **kwargs)`` for a module-level analytics function, cached by its arguments.

    Exceptions (``AccessDenied`` included) are not cached. Arguments must be hashable by Streamlit
    (plain values, tuples, frozen dataclasses such as ``Filters``).
    """
    path = str(db_path or default_db_path())
    key = (fn.__module__, fn.__qualname__, path, args, tuple(sorted(kwargs.items())))
    _recent().note(key)
    return _cached(key[0], key[1], path, data_version(path), args, key[4])


class RecentCalls:
    """The last :data:`SIZE` distinct cached calls, and the data version each file was last warmed for."""

    SIZE = 64

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: dict[tuple, None] = {}  # insertion-ordered: oldest first
        self.versions: dict[str, str] = {}

    def note(self, key: tuple) -> None:
        with self._lock:
            self._calls.pop(key, None)
            self._calls[key] = None
            while len(self._calls) > self.SIZE:
                del self._calls[next(iter(self._calls))]

    def for_path(self, path: str) -> list[tuple]:
        with self._lock:
            return [k for k in reversed(self._calls) if k[2] == path]

    def changed(self, path: str, version: str) -> bool:
        """Whether ``version`` is new for ``path`` since the last call (the first sighting is not a change)."""
        with self._lock:
            before = self.versions.get(path)
            self.versions[path] = version
            return before is not None and before != version


@st.cache_resource(show_spinner=False)
def _recent() -> RecentCalls:
    return RecentCalls()


def warm(db_path: Path | str | None = None) -> threading.Thread | None:
    """When the data file has a new version, recompute the recent calls for it in the background.

    Cheap when nothing changed (a stat); returns the warming thread when it started one.
    """
    path = str(db_path or default_db_path())
    try:
        version = data_version(path)
    except OSError:
        return None
    recent = _recent()
    if not recent.changed(path, version):
        return None
    calls = recent.for_path(path)

    def replay() -> None:
        for module, qualname, _, args, kwargs in calls:
            try:
                _cached(module, qualname, path, version, args, kwargs)
            except Exception:  # a call that fails now fails again, visibly, when a page makes it
                logging.getLogger(__name__).debug("warming %s.%s failed", module, qualname, exc_info=True)

    thread = threading.Thread(target=replay, name="madang-cache-warm", daemon=True)
    thread.start()
    return thread


@st.cache_resource(show_spinner=False)
def shared(name: str, _factory: Callable[[], T]) -> T:
    """One process-wide object per ``name``, made by ``_factory`` on first use and shared by every
    session (for state that must outlive one session, such as the sign-in failure counts)."""
    return _factory()


def clear() -> None:
    """Forget every cached result and connection (after an import from the admin page)."""
    _cached.clear()
    _connection.clear()
