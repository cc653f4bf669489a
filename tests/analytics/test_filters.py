"""The shared filter model: URL parsing that never raises, and SQL predicates checked against pandas."""
from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics import filters as flt
from analytics.filters import FilterOptions, Filters

OPTS = FilterOptions(
    regions=(("11", "서울", "Seoul"), ("26", "부산", "Busan")),
    sizes=(("micro", "소상공인", "Micro"), ("small", "소기업", "Small")),
    industries=(("C", "제조업", "Manufacturing"),),
    ministries=("중소벤처기업부",), agencies=("창업진흥원",),
    date_min=date(2023, 1, 1), date_max=date(2025, 12, 31),
)


def test_from_params_reads_every_dimension() -> None:
    params = {"from": "2024-01-01", "to": "2024-06-30", "region": ["11", "26"], "size": "micro",
              "industry": "C", "ministry": "중소벤처기업부", "agency": "창업진흥원", "category": ["수출", "금융"]}
    f, notices = Filters.from_params(params, OPTS)
    assert notices == []
    assert f == Filters(date(2024, 1, 1), date(2024, 6, 30), ("11", "26"), ("micro",), ("C",),
                        ("중소벤처기업부",), ("창업진흥원",), ("수출", "금융"))
    # and back: the URL that reproduces it
    assert Filters.from_params(f.to_params(), OPTS) == (f, [])


@pytest.mark.parametrize(("params", "expected", "notice"), [
    ({"colour": "red"}, Filters(), "unknown:colour"),
    ({"from": "2024-13-01"}, Filters(), "bad_date:from=2024-13-01"),
    ({"to": "yesterday"}, Filters(), "bad_date:to=yesterday"),
    ({"from": "2020-01-01"}, Filters(), "out_of_range:from=2020-01-01"),
    ({"region": ["11", "99"]}, Filters(regions=("11",)), "bad_value:region=99"),
    ({"size": "huge"}, Filters(), "bad_value:size=huge"),
    ({"category": "'; DROP TABLE firms; --"}, Filters(), "bad_value:category='; DROP TABLE firms; --"),
    ({"from": "2024-06-01", "to": "2024-01-01"}, Filters(), "bad_range"),
])
def test_from_params_drops_what_it_cannot_use_with_a_notice(params, expected, notice) -> None:
    f, notices = Filters.from_params(params, OPTS)
    assert f == expected
    assert notices == [notice]


def test_from_params_without_options_checks_the_fixed_vocabularies_only() -> None:
    f, notices = Filters.from_params({"region": ["11", "11", ""], "size": ["micro", "tiny"], "page": "x"},
                                     known=("page",))
    assert f == Filters(regions=("11",), sizes=("micro",))
    assert notices == ["bad_value:size=tiny"]


def test_only_and_unapplied() -> None:
    f = Filters(date_from=date(2024, 1, 1), regions=("11",), categories=("수출",))
    assert f.active() == ("period", "region", "category")
    assert f.only(("region", "size")) == Filters(regions=("11",))
    assert f.unapplied(app=None, program=None) == ("period", "category")
    assert f.where(app=None, firm="s", program=None) == ("list_contains(?::VARCHAR[], s.region_code)", [["11"]])
    assert Filters().where() == ("TRUE", [])


@pytest.fixture(scope="module")
def joined(tiny_db) -> tuple[duckdb.DuckDBPyConnection, pd.DataFrame]:
    con = duckdb.connect(str(tiny_db), read_only=True)
    df = con.execute("""
        SELECT a.application_id, a.submitted_at, f.region_code, f.size_class::VARCHAR AS size_class,
               f.ksic_section, p.ministry, p.agency, p.category::VARCHAR AS category
        FROM applications a JOIN firms f USING (firm_id) JOIN programs p USING (program_id)""").df()
    yield con, df
    con.close()


def _pandas_count(df: pd.DataFrame, f: Filters) -> int:
    keep = pd.Series(True, index=df.index)
    if f.date_from:
        keep &= df["submitted_at"] >= pd.Timestamp(f.date_from)
    if f.date_to:
        keep &= df["submitted_at"] < pd.Timestamp(f.date_to) + pd.Timedelta(days=1)
    for values, column in ((f.regions, "region_code"), (f.sizes, "size_class"), (f.industries, "ksic_section"),
                           (f.ministries, "ministry"), (f.agencies, "agency"), (f.categories, "category")):
        if values:
            keep &= df[column].isin(values)
    return int(keep.sum())


def test_where_matches_pandas_on_random_filters(joined) -> None:
    con, df = joined
    opts = flt.options(con)
    rng = np.random.default_rng(3)
    for _ in range(40):
        pick = lambda values, k: tuple(rng.choice(values, size=min(k, len(values)), replace=False).tolist())  # noqa: E731
        days = sorted(rng.integers(0, (opts.date_max - opts.date_min).days + 1, size=2).tolist())
        f = Filters(
            date_from=opts.date_min + timedelta(days=days[0]) if rng.random() < 0.5 else None,
            date_to=opts.date_min + timedelta(days=days[1]) if rng.random() < 0.5 else None,
            regions=pick(opts.codes("region"), rng.integers(0, 4)),
            sizes=pick(opts.codes("size"), rng.integers(0, 3)),
            industries=pick(opts.codes("industry"), rng.integers(0, 3)) if rng.random() < 0.3 else (),
            ministries=pick(opts.ministries, 1) if rng.random() < 0.3 else (),
            agencies=pick(opts.agencies, 2) if rng.random() < 0.2 else (),
            categories=pick(opts.codes("category"), rng.integers(0, 4)),
        )
        where, params = f.where()
        sql_count = con.execute(
            "SELECT count(*) FROM applications a JOIN firms f ON f.firm_id = a.firm_id "
            f"JOIN programs p ON p.program_id = a.program_id WHERE {where}", params).fetchone()[0]
        assert sql_count == _pandas_count(df, f), f


def test_options_list_what_is_in_the_database(joined) -> None:
    con, df = joined
    opts = flt.options(con)
    assert len(opts.regions) == 17 and opts.codes("size") == flt.SIZES
    assert set(opts.ministries) == set(con.execute("SELECT DISTINCT ministry FROM programs").df()["ministry"])
    assert set(opts.ministries) >= set(df["ministry"])
    assert opts.date_min == df["submitted_at"].min().date() and opts.date_max == df["submitted_at"].max().date()
