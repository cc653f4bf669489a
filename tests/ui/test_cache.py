"""The cache layer: results keyed by arguments and data version; a replaced database is seen at once."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analytics.brokers import views as broker_views
from analytics.filters import Filters
from analytics.overview import summary as overview
from data.access import AccessDenied, require
from data.db import connect_read_only, data_version, get_meta, run_writer, writer
from ui import cache

CALLS: list[tuple] = []


def counted(con, filters: Filters, *, role: str) -> int:
    """An analytics-style function that counts its calls, to see what the cache serves."""
    require(role, "scoring")  # evaluator and admin
    CALLS.append((filters, role))
    where, params = filters.where()
    return con.execute(f"SELECT count(*) FROM applications a JOIN firms f USING (firm_id) "
                       f"JOIN programs p USING (program_id) WHERE {where}", params).fetchone()[0]


@pytest.fixture
def db(mini_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "madang.duckdb"
    shutil.copyfile(mini_db, path)
    cache.clear()
    CALLS.clear()
    return path


def test_results_are_cached_by_arguments(db: Path) -> None:
    assert cache.query(counted, Filters(), role="evaluator", db_path=db) == 38
    assert cache.query(counted, Filters(), role="evaluator", db_path=db) == 38
    assert cache.query(counted, Filters(regions=("26",)), role="evaluator", db_path=db) == 6
    assert len(CALLS) == 2


def test_refusals_are_not_cached(db: Path) -> None:
    for _ in range(2):
        with pytest.raises(AccessDenied):
            cache.query(counted, Filters(), role="policy", db_path=db)
    assert CALLS == []


def test_a_replaced_database_is_seen_at_once(db: Path) -> None:
    before = data_version(db)
    assert cache.query(overview.summary, db_path=db).applications == 38
    with writer(db) as con:  # what a build or an import does: a new file swapped in
        con.execute("DELETE FROM app_fingerprints WHERE application_id > 30")
        con.execute("DELETE FROM applications WHERE application_id > 30")
    assert data_version(db) != before
    assert cache.query(overview.summary, db_path=db).applications == 30


def test_a_new_broker_run_is_seen_at_once(db: Path) -> None:
    """A run is stored beside the data file, which stays as it was: the runs folder's stat is part
    of the data version, so the next rerun sees the run instead of the cached 'no run yet'."""
    assert cache.query(broker_views.latest_run, role="auditor", db_path=db) is None
    with connect_read_only(db) as con:
        seen = get_meta(con).get("data_version", "")
    with run_writer(db, "20261207T000000-abcdef", seen=seen) as con:
        con.execute("INSERT INTO broker_runs VALUES ('20261207T000000-abcdef', now(), '{}')")
    run = cache.query(broker_views.latest_run, role="auditor", db_path=db)
    assert run is not None and run["run_id"] == "20261207T000000-abcdef"
