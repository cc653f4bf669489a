"""Small-cell suppression for the aggregate-only role, checked against the admin's unsuppressed figures:
every count of firms (selected, agreed, paid applications included) of 1-4 is hidden with what it gives
away, and no column is left with a lone hidden cell that its total (shown elsewhere) would reveal."""
from __future__ import annotations

import itertools
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analytics.filters import Filters
from analytics.overview import summary as overview
from analytics.uptake import reach as uptake_reach
from analytics.uptake import summary as uptake
from data import access, privacy
from data.privacy import SUPPRESSED

FIRM_COUNTS = ["applicants", "selected", "firms_reached", "agreed", "e_contract", "paid"]


@pytest.fixture(scope="module")
def con(tiny_db: Path):
    c = duckdb.connect(str(tiny_db), read_only=True)
    yield c
    c.close()


def _check(policy: pd.DataFrame, admin: pd.DataFrame, columns: list[str], groups: list[list[str]]) -> int:
    """Every small count hidden, every shown count equal to the admin's; no lone hidden cell per group."""
    assert len(policy) == len(admin)
    hidden_total = 0
    for column in columns:
        hidden = policy[column].astype(object) == SUPPRESSED
        truth = pd.to_numeric(admin[column])
        small = (truth > 0) & (truth < 5)
        assert hidden[small].all(), (column, admin.loc[small & ~hidden])
        assert (policy.loc[~hidden, column].astype(float) == truth[~hidden].astype(float)).all(), column
        for keys in groups:
            parts = [admin.index] if not keys else [admin.index[p] for p in admin.groupby(keys).indices.values()]
            for ix in parts:
                ix = pd.Index(ix)
                if hidden[ix].sum() == 1:   # a lone hidden cell is fine only if nothing else non-zero is shown
                    assert not ((truth[ix] > 0) & ~hidden[ix]).any(), (column, keys, admin.loc[ix])
        hidden_total += int(hidden.sum())
    return hidden_total


def test_uptake_breakdown_by_program_hides_every_small_firm_count(con) -> None:
    for flt in (Filters(), Filters(regions=("11",))):
        policy = uptake.breakdown(con, flt, "program", role="policy")
        admin = uptake.breakdown(con, flt, "program", role="admin")
        assert _check(policy, admin, FIRM_COUNTS, [[]]) > 0
        # the amount awarded to fewer than 5 firms is hidden with them
        few = pd.to_numeric(admin["firms_reached"]).between(1, 4)
        assert (policy.loc[few, "amount_awarded_krw"] == SUPPRESSED).all()


def test_uptake_funnel_by_region_hides_every_small_firm_count(con) -> None:
    flt = Filters(industries=("B",))
    _check(uptake.funnel(con, flt, by="region", role="policy"), uptake.funnel(con, flt, by="region", role="admin"),
           FIRM_COUNTS, [[]])


def test_reach_cells_hide_small_firm_counts_along_regions_and_sizes(con) -> None:
    flt = Filters(industries=("C",))
    policy, admin = uptake_reach.reach(con, flt, role="policy"), uptake_reach.reach(con, flt, role="admin")
    assert _check(policy.cells, admin.cells, ["firms", "applicants", "firms_reached"],
                  [["region_code"], ["size_class"], []]) > 0
    hidden_pen = policy.blind_spots["penetration"] == SUPPRESSED
    assert (policy.blind_spots.loc[hidden_pen, "vs_average"] == SUPPRESSED).all()


def test_overview_activity_hides_small_selection_counts(con) -> None:
    flt = Filters(regions=("11",), industries=("C",))
    policy = overview.activity(con, flt, role="policy")
    admin = overview.activity(con, flt, role="admin", unit=policy.unit)
    assert _check(policy.frame, admin.frame, ["firms", "selected"], [[]]) > 0


def test_uptake_headline_hides_a_small_count_of_supported_firms(con) -> None:
    regions = [r[0] for r in con.execute("SELECT region_code FROM regions").fetchall()]
    found = 0
    for region, size in itertools.product(regions, ("micro", "small", "medium", "midsize", "large")):
        flt = Filters(regions=(region,), sizes=(size,))
        admin = uptake.headline(con, flt, role="admin").figures.set_index("metric")
        reached = admin.loc["firms_reached", "current"]
        if not 0 < reached < 5:
            continue
        found += 1
        policy = uptake.headline(con, flt, role="policy").figures.set_index("metric")
        assert policy.loc["firms_reached", "current"] == SUPPRESSED
        assert policy.loc["amount_awarded_krw", "current"] == SUPPRESSED
    if not found:
        pytest.skip("no slice with 1-4 firms reached in the tiny database")


def test_secondary_suppression_truth_table() -> None:
    df = pd.DataFrame({"g": ["a", "a", "a", "b", "b"], "n": [3, 10, 7, 20, 0], "amount": [30, 100, 70, 200, 0]})
    out = privacy.suppress_cells(df, {"n": ["amount"]}, "policy", groups=[["g"]])
    # 3 is small; in group a the smallest other non-zero (7) goes too; group b has no hidden cell
    assert out["n"].tolist() == [SUPPRESSED, 10, SUPPRESSED, 20, 0]
    assert out["amount"].tolist() == [SUPPRESSED, 100, SUPPRESSED, 200, 0]
    pd.testing.assert_frame_equal(privacy.suppress_cells(df, {"n": ["amount"]}, "admin"), df)
    with pytest.raises(access.AccessDenied):
        privacy.suppress_cells(df, {"n": ["amount"]}, "Policy")
