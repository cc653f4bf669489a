"""The published facts the project is calibrated to, and the data's reference day: one place each.

``data/facts/`` holds the published figures with their sources (``published.csv``), SME counts by
시도 and example programs; every reader (the generator, the adoption and document views, the
calibration tests) locates them here.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

FACTS_DIR = Path(__file__).with_name("facts")
PUBLISHED_CSV = FACTS_DIR / "published.csv"
REGIONS_CSV = FACTS_DIR / "smes_by_region_2021.csv"
PROGRAM_EXAMPLES_CSV = FACTS_DIR / "program_examples.csv"


def published() -> pd.DataFrame:
    """key, value, unit, year, scope, source (shares as fractions), as published."""
    return pd.read_csv(PUBLISHED_CSV, dtype={"year": str})


def published_value(key: str) -> float:
    """One published figure by its key (KeyError names a key the file does not hold)."""
    df = published()
    hit = df.loc[df["key"] == key, "value"]
    if hit.empty:
        raise KeyError(f"no published figure {key!r} in {PUBLISHED_CSV.name}")
    return float(hit.iloc[0])


def reference_date(con: duckdb.DuckDBPyConnection) -> date:
    """The data's "today": meta 'as_of' (fixed by the generator or an import), else the last
    submission, else the calendar day (a database holding no applications yet)."""
    # fetchall, not fetchone: a half-read result blocks the next register() on the same connection
    rows = con.execute(
        "SELECT coalesce((SELECT try_cast(value AS DATE) FROM meta WHERE key = 'as_of'),"
        " (SELECT max(submitted_at)::DATE FROM applications), current_date)").fetchall()
    return rows[0][0]
