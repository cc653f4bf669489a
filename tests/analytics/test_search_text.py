"""Search boxes match the typed text literally: % and _ are characters, not LIKE wildcards."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from analytics import uptake
from analytics.matching import eligibility as matching


@pytest.mark.parametrize("text", ["%", "_", "%%", "a%b"])
def test_program_search_treats_wildcards_as_text(tiny_db: Path, text: str) -> None:
    with duckdb.connect(str(tiny_db), read_only=True) as con:
        titles = con.execute("SELECT title FROM summary_uptake_programs").df()["title"]
        found = uptake.search_programs(con, text, role="admin", limit=10_000)
    expected = titles[titles.str.lower().str.contains(text.lower(), regex=False)]
    assert sorted(found["title"]) == sorted(expected)


def test_program_search_still_finds_a_title_in_any_case(tiny_db: Path) -> None:
    with duckdb.connect(str(tiny_db), read_only=True) as con:
        title = con.execute("SELECT title FROM summary_uptake_programs ORDER BY program_id LIMIT 1").fetchone()[0]
        found = uptake.search_programs(con, title[1:6].upper(), role="admin", limit=10_000)
    assert title in set(found["title"])


@pytest.mark.parametrize("text", ["%", "_", "_%_"])
def test_firm_search_treats_wildcards_as_text(tiny_db: Path, text: str) -> None:
    with duckdb.connect(str(tiny_db), read_only=True) as con:
        names = con.execute("SELECT name FROM firms").df()["name"]
        found = matching.find_firms(con, text, role="admin", limit=10_000)
    assert len(found) == names.str.contains(text, regex=False).sum()
