"""First start and the files' health: build the default database (with a progress bar) and its demo
users, or stop on a clear page when the data, users or records file is missing or unreadable; after a
build, start the rest in the background (model training and broker detection: a ``setup`` job, see
data/jobs.py), whose progress the scoring and broker pages show while they wait for it."""
from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import duckdb
import streamlit as st

from data import jobs, records, users
from data.db import is_default, users_path
from ui import cache
from ui.i18n import t
from ui.shell import current_user

DEFAULT_SCALE = 1.0
DEFAULT_SEED = 42
_build_lock = threading.Lock()  # one build per process, even with several sessions at first start


def _progress_callback(bar: st.delta_generator.DeltaGenerator, lang: str) -> Callable[[float, str], None]:
    def report(done: float, step: str) -> None:  # data.build's Progress: (fraction 0..1, step)
        bar.progress(min(max(done, 0.0), 1.0), text=t("setup.step", lang, step=step, done=done))
    return report


def ensure_database(db_path: Path, lang: str) -> None:
    """Build the default database when none exists, with the demo users (said on screen); stop with a
    clear page when the data file is missing elsewhere, or a file cannot be read.

    Demo users are created only with a database this call has just built: a missing users file later
    (even beside synthetic data) is reported, never silently refilled with known passwords.
    """
    if not db_path.exists():
        if not is_default(db_path):
            _stop(lang, "setup.missing", path=db_path)
        with _build_lock:
            if not db_path.exists():
                from data.build import build  # imported here: heavy, and only needed once

                st.info(t("setup.building", lang), icon=":material/construction:")
                bar = st.progress(0.0)
                build(db_path, scale=DEFAULT_SCALE, seed=DEFAULT_SEED, progress=_progress_callback(bar, lang))
                bar.empty()
                users.ensure_demo_users(users_path(db_path))
                jobs.start(db_path, "setup", by="first start")
                st.success(t("setup.done", lang))
                st.warning(t("setup.demo_users", lang, path=db_path), icon=":material/key:")
    problem = _problem(db_path)
    if problem is not None:
        _stop(lang, problem[0], **problem[1])


def _problem(db_path: Path) -> tuple[str, dict[str, object]] | None:
    """The first unreadable file, as (label key, its values), or None when all three can be read."""
    try:
        with cache.cursor(db_path) as cur:
            cur.execute("SELECT count(*) FROM meta").fetchone()
    except duckdb.Error as exc:
        return "setup.bad_data", {"path": db_path, "error": str(exc).splitlines()[0]}
    try:   # the users live in the records store too: an unreadable store is said first
        records.check(db_path)
    except records.RecordsError as exc:
        return "setup.bad_records", {"error": str(exc).splitlines()[0]}
    path = users_path(db_path)
    if current_user() is None:   # only the sign-in form needs the users
        try:
            if not users.list_users(path):
                return "setup.no_users", {"path": path}
        except users.UsersFileError as exc:
            return "setup.bad_users", {"path": path, "error": str(exc.__cause__ or exc).splitlines()[0]}
    return None


def _stop(lang: str, key: str, **values: object) -> NoReturn:
    st.title(t("app.name", lang))
    st.error(t(key, lang, **values), icon=":material/error:")
    st.stop()
