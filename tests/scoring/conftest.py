"""Scoring fixtures: trained databases (tiny, and a larger one for AUC), each built once per session."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scoring import train

QUALITY_SCALE = 0.2    # ~200,000 applications: AUC differences of 0.01 need this many events (~30 s)


@pytest.fixture(scope="session")
def trained_tiny(tiny_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A private copy of the tiny database with both models trained (read-only use)."""
    path = tmp_path_factory.mktemp("scored") / "madang.duckdb"
    shutil.copyfile(tiny_db, path)
    trained = train.run(path, seed=7, threads=1, progress=lambda s: None)
    return path, trained


@pytest.fixture(scope="session")
def quality_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A scale-0.05 database, trained once per session: AUC needs more events than the tiny one has."""
    from data.build import build

    path = tmp_path_factory.mktemp("quality") / "madang.duckdb"
    build(path, scale=QUALITY_SCALE, seed=7)
    return path, train.run(path, seed=7, threads=1, progress=lambda s: None)
