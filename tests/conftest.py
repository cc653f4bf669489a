"""Shared fixtures. Every test database is built in code from data/schema.sql by the seeded
generator, at a scale small enough to build in seconds; nothing binary is committed."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

TINY_SCALE = 0.01  # ~3,000 firms, ~10,000 applications: builds in a few seconds
TINY_SEED = 7


@pytest.fixture(scope="session")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic database shared by read-only tests. Do not write to it: use tiny_db_copy."""
    from data.build import build

    path = tmp_path_factory.mktemp("tiny") / "madang.duckdb"
    build(path, scale=TINY_SCALE, seed=TINY_SEED)
    return path


@pytest.fixture
def tiny_db_copy(tiny_db: Path, tmp_path: Path) -> Path:
    """A private copy of the small database for tests that write (imports, records, batch jobs)."""
    path = tmp_path / "madang.duckdb"
    shutil.copyfile(tiny_db, path)
    return path


@pytest.fixture(scope="session")
def matching_db(tmp_path_factory: pytest.TempPathFactory, tiny_db: Path) -> Path:
    """A copy of the small database with a stored matching evaluation (the batch step run once)."""
    from analytics.matching.__main__ import run

    path = tmp_path_factory.mktemp("matching") / "madang.duckdb"
    shutil.copyfile(tiny_db, path)
    run(path, n_boot=200)
    return path
