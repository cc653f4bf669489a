"""Caches warmed after a batch job: the recent calls are recomputed for the new data version."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from ui import cache

CALLS: list[str] = []


def counted(con, tag: str) -> int:  # type: ignore[no-untyped-def]
    """A cached 'analytics function' that records each real computation."""
    CALLS.append(tag)
    return int(con.execute("SELECT count(*) FROM firms").fetchone()[0])


def test_new_data_is_computed_in_the_background_before_anyone_asks(mini_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "madang.duckdb"
    shutil.copyfile(mini_db, db)
    cache.clear()
    CALLS.clear()
    assert cache.warm(db) is None                      # first sighting of this file: nothing to redo
    first = cache.query(counted, "a", db_path=db)
    cache.query(counted, "b", db_path=db)
    assert cache.warm(db) is None and CALLS == ["a", "b"]
    replacement = tmp_path / "new.duckdb"              # a job swaps in a new file, as data.db.writer does
    shutil.copyfile(db, replacement)
    os.replace(replacement, db)
    thread = cache.warm(db)
    assert thread is not None
    thread.join(timeout=60)
    assert sorted(CALLS[2:]) == ["a", "b"]             # both recent calls recomputed for the new version
    assert cache.query(counted, "a", db_path=db) == first and len(CALLS) == 4   # a visitor now hits the cache
    assert cache.warm(db) is None                      # and nothing more to do until the next change
