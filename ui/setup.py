"""First start: build the default database (with a progress bar) and its demo users."""
from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from analytics.overview.summary import meta
from data.db import users_path
from data.users import ensure_demo_users
from ui import cache
from ui.i18n import t

DEFAULT_SCALE = 1.0
DEFAULT_SEED = 42
_build_lock = threading.Lock()  # one build per process, even with several sessions at first start


def _progress_callback(bar: st.delta_generator.DeltaGenerator, lang: str) -> Callable[[float, str], None]:
    def report(done: float, step: str) -> None:  # data.build's Progress: (fraction 0..1, step)
        bar.progress(min(max(done, 0.0), 1.0), text=t("setup.step", lang, step=step, done=done))
    return report


def ensure_database(db_path: Path, lang: str) -> None:
    """Build the default database when none exists; create demo users for synthetic data."""
    if not db_path.exists():
        with _build_lock:
            if not db_path.exists():
                from data.build import build  # imported here: heavy, and only needed once

                st.info(t("setup.building", lang), icon=":material/construction:")
                bar = st.progress(0.0)
                build(db_path, scale=DEFAULT_SCALE, seed=DEFAULT_SEED, progress=_progress_callback(bar, lang))
                bar.empty()
                st.success(t("setup.done", lang))
    if not users_path(db_path).exists():
        if cache.query(meta, db_path=db_path).get("source", "synthetic") == "synthetic":
            ensure_demo_users(users_path(db_path))
