"""AI adoption (AI 활용 격차): survey-weighted estimates, gaps, targets, barriers and support reach.

Every function takes a read-only DuckDB connection and the shared :class:`Filters` (시도, size and
industry apply to the survey; it has no programs and no dates besides ``survey_year``, passed as
``years``), and returns aggregates only. For the ``policy`` role, any row resting on 1-4 respondents
(or firms) is suppressed through :func:`data.privacy.suppress_small` before it leaves this module.
The estimation method lives in :mod:`analytics.adoption_design`, the gap split in
:mod:`analytics.adoption_decompose`.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from analytics.adoption.decompose import decompose
from analytics.adoption.design import (
    BARRIERS,
    DIMS,
    STATUS,
    WISHES,
    Z95,
    add_labels,
    cell_sums,
    domain_names,
    estimate,
    sort_domains,
    variance_parts,
)
from analytics.filters import Filters
from data import access, facts
from data.privacy import AGGREGATE_ROLE, suppress_small

SMALL = 5  # the policy role sees no figure resting on fewer respondents

_DERIVED = ["n_eff", "weight", "p", "se", "lo", "hi"]
# The published figures this view compares with, and the survey domain each one describes:
# key -> (indicator, domain conditions on stratum columns).
PUBLISHED_DOMAINS: dict[str, tuple[str, dict[str, object]]] = {
    "ai_adoption_all_firms_2024": ("uses", {}),
    "ai_adoption_large_firms": ("uses", {"size_class": "large"}),
    "ai_adoption_midsize_firms": ("uses", {"size_class": "midsize"}),
    "ai_adoption_smes": ("uses", {"is_sme": True}),
    "ai_adoption_sme_2024": ("uses", {"is_sme": True}),
    "ai_adoption_capital_region": ("uses", {"capital_region": True}),
    "ai_adoption_non_capital_region": ("uses", {"capital_region": False}),
    "ai_adoption_manufacturing": ("uses", {"ksic_section": "C"}),
    "ai_adoption_finance": ("uses", {"ksic_section": "K"}),
    "ai_adoption_it_services": ("uses", {"ksic_section": "J"}),
    "seoul_merchants_using_ai": ("uses", {"region_code": "11", "size_class": "micro"}),
    "seoul_merchants_planning_ai": ("plans", {"region_code": "11", "size_class": "micro"}),
    "seoul_merchants_no_ai": ("none", {"region_code": "11", "size_class": "micro"}),
    "barrier_cost": ("barrier_cost", {"region_code": "11", "size_class": "micro"}),
    "barrier_skills": ("barrier_skills", {"region_code": "11", "size_class": "micro"}),
    "barrier_integration": ("barrier_integration", {"region_code": "11", "size_class": "micro"}),
    "wish_practical_training": ("wish_training", {"region_code": "11", "size_class": "micro"}),
    "wish_success_cases": ("wish_cases", {"region_code": "11", "size_class": "micro"}),
    "wish_basic_education": ("wish_education", {"region_code": "11", "size_class": "micro"}),
}
# Reference marks on the barrier chart: survey indicator -> published key (Seoul small merchants).
REFERENCE_MARKS: dict[str, str] = {ind: key for key, (ind, _) in PUBLISHED_DOMAINS.items()
                                   if ind in BARRIERS + WISHES}


def survey_years(con: duckdb.DuckDBPyConnection) -> list[int]:
    """The survey years present, newest first."""
    return [int(r[0]) for r in con.execute(
        "SELECT DISTINCT survey_year FROM ai_survey ORDER BY 1 DESC").fetchall()]


def _suppress(df: pd.DataFrame, role: str, counts: tuple[str, ...] = ("n",),
              derived: list[str] | None = None) -> pd.DataFrame:
    return suppress_small(df, list(counts), role, derived=_DERIVED if derived is None else derived)


def estimates(con: duckdb.DuckDBPyConnection, filters: Filters = Filters(), *, role: str,
              by: tuple[str, ...] = ("size_class",), years: tuple[int, ...] = (),
              indicators: tuple[str, ...] = STATUS) -> pd.DataFrame:
    """Weighted shares with 95% intervals per domain: ``by`` is any combination of
    :data:`~analytics.adoption_design.DIMS` (crossings included), long format, one row per
    domain and indicator, with label_ko / label_en."""
    access.require(role, "adoption")
    unknown = set(by) - set(DIMS)
    if unknown:
        raise ValueError(f"unknown dimensions {sorted(unknown)}; use {DIMS}")
    df = sort_domains(estimate(cell_sums(con, filters, years=years), list(by), indicators), list(by))
    df = add_labels(df, list(by), domain_names(con))
    df["published"] = _published_for(df, list(by))
    return _suppress(df, role)


def _published_for(df: pd.DataFrame, by: list[str]) -> pd.Series:
    """The published figure for rows whose domain is exactly one a published figure describes."""
    pub = facts.published().set_index("key")["value"]
    out = pd.Series(np.nan, index=df.index)
    for key, (indicator, domain) in PUBLISHED_DOMAINS.items():
        if key not in pub.index or set(domain) != set(by) or not domain:
            continue
        hit = df["indicator"] == indicator
        for column, value in domain.items():
            hit &= df[column] == value
        out[hit & out.isna()] = pub[key]
    return out


@dataclass(frozen=True)
class Gap:
    """Adoption gap between group a and group b (a - b, as a share; x100 for pp)."""

    kind: str                 # "size" (large - SME) or "region" (capital - non-capital)
    indicator: str
    p_a: float
    p_b: float
    n_a: int
    n_b: int
    gap: float
    se: float
    lo: float
    hi: float
    composition: float        # part of the gap due to a different industry (x size) mix
    within: float             # part due to different rates among comparable firms
    cells: pd.DataFrame       # per cell: label_ko/en, n_a/n_b, shares, rates, composition_pp, within_pp


# gap kind -> (column that splits the groups, value of group a, value of group b, cell columns)
GAP_KINDS: dict[str, tuple[str, object, object, list[str]]] = {
    # Large firms and SMEs differ by size by definition: compare them within industries.
    "size": ("size_group", "large", "sme", ["ksic_section"]),
    "region": ("capital_region", True, False, ["ksic_section", "size_class"]),
}


def gap(con: duckdb.DuckDBPyConnection, filters: Filters = Filters(), *, role: str, kind: str = "size",
        years: tuple[int, ...] = (), indicator: str = "uses") -> Gap | None:
    """The gap between the two groups of ``kind`` with a 95% interval and its decomposition.

    The groups are made of different design strata, sampled independently, so the variance of the
    difference is the sum of the two variances. None when a group has no respondents under the
    filters (e.g. size filtered to SMEs only), or, for the policy role, fewer than 5."""
    access.require(role, "adoption")
    column, a, b, cell_cols = GAP_KINDS[kind]
    cells = cell_sums(con, filters, years=years)
    groups = {g: cells[cells[column] == v] for g, v in (("a", a), ("b", b))}
    n_a, n_b = (int(groups[g]["n"].sum()) for g in ("a", "b"))
    if min(n_a, n_b) == 0 or (role == AGGREGATE_ROLE and min(n_a, n_b) < SMALL):
        return None
    (p_a, v_a, _), (p_b, v_b, _) = (variance_parts(groups[g], indicator) for g in ("a", "b"))
    rates = pd.concat([estimate(groups[g], cell_cols, (indicator,)).assign(group=g) for g in ("a", "b")])
    rates["cell"] = rates[cell_cols[0]].astype(str)
    for col in cell_cols[1:]:
        rates["cell"] = rates["cell"] + "|" + rates[col].astype(str)
    parts = decompose(rates[["group", "cell", "weight", "p"]])
    detail = parts.cells.merge(rates.drop_duplicates("cell")[["cell", *cell_cols]], on="cell", how="left")
    counts = rates.pivot_table(index="cell", columns="group", values="n", aggfunc="sum").reindex(columns=["a", "b"])
    detail = detail.merge(counts.fillna(0).astype("int64").add_prefix("n_").reset_index(), on="cell")
    detail = add_labels(detail, cell_cols, domain_names(con)).sort_values("within", key=np.abs, ascending=False)
    detail = detail.assign(composition_pp=detail.pop("composition") * 100, within_pp=detail.pop("within") * 100)
    se = float(np.sqrt(v_a + v_b))
    diff = p_a - p_b
    # Per-cell rates of 1-4 respondents are hidden from the policy role; the totals above rest on
    # whole groups and stay.
    rate_cols = ["share_a", "share_b", "p_a", "p_b", "composition_pp", "within_pp"]
    detail = _suppress(detail.reset_index(drop=True), role, counts=("n_a", "n_b"), derived=rate_cols)
    return Gap(kind=kind, indicator=indicator, p_a=p_a, p_b=p_b,
               n_a=n_a, n_b=n_b,
               gap=diff, se=se, lo=diff - Z95 * se, hi=diff + Z95 * se,
               composition=parts.composition, within=parts.within, cells=detail)


@dataclass(frozen=True)
class Targets:
    """The SME adoption target path and where each region and size class stands."""

    baseline_year: int
    baseline: float
    target_year: int
    target: float
    path: pd.DataFrame        # year, path (the straight line from baseline to target)
    standing: pd.DataFrame    # dimension, code, label_ko/en, n, p, lo, hi, year, path, gap_pp, needed_pp_per_year


def target_path(baseline: float, baseline_year: int, target: float, target_year: int) -> pd.DataFrame:
    """The straight yearly path from the baseline to the target (equal gains each year)."""
    years = np.arange(baseline_year, target_year + 1)
    share = baseline + (target - baseline) * (years - baseline_year) / (target_year - baseline_year)
    return pd.DataFrame({"year": years, "path": share})


def targets(con: duckdb.DuckDBPyConnection, filters: Filters = Filters(), *, role: str,
            year: int | None = None) -> Targets:
    """SME adoption by 시도 and by SME size class in ``year`` (default: the latest survey year)
    against the path from the 2024 baseline to the 2027 target (published, MSS 2025-02-20)."""
    access.require(role, "adoption")
    base, goal = facts.published_value("ai_adoption_sme_2024"), facts.published_value("ai_adoption_sme_target_2027")
    path = target_path(base, 2024, goal, 2027)
    years = survey_years(con)
    year = year if year is not None else (years[0] if years else 2024)
    cells = cell_sums(con, filters, years=(year,))
    cells = cells[cells["is_sme"]]
    names = domain_names(con)
    frames = []
    for dim in ("region_code", "size_class"):
        est = estimate(cells, [dim], ("uses",))
        est = add_labels(est, [dim], names).rename(columns={dim: "code"}).assign(dimension=dim)
        frames.append(est)
    overall = add_labels(estimate(cells, [], ("uses",)), [], names).assign(dimension="all", code="all")
    standing = pd.concat([overall, *frames], ignore_index=True)
    on_path = float(np.interp(year, path["year"], path["path"], left=base, right=goal))
    remaining = max(2027 - year, 1)
    standing["year"] = year
    standing["path"] = on_path
    standing["gap_pp"] = (standing["p"] - on_path) * 100
    standing["needed_pp_per_year"] = ((goal - standing["p"]) * 100 / remaining).clip(lower=0)
    cols = ["dimension", "code", "label_ko", "label_en", "n", "p", "lo", "hi", "low_n", "year", "path",
            "gap_pp", "needed_pp_per_year"]
    standing = _suppress(standing[cols], role, derived=["p", "lo", "hi", "gap_pp", "needed_pp_per_year"])
    return Targets(baseline_year=2024, baseline=base, target_year=2027, target=goal, path=path, standing=standing)


def barriers(con: duckdb.DuckDBPyConnection, filters: Filters = Filters(), *, role: str,
             by: tuple[str, ...] = ("size_class",), years: tuple[int, ...] = ()) -> pd.DataFrame:
    """Barriers (asked of firms not using AI) and wished-for support (asked of all) by ``by``, with
    the published Seoul small-merchant figure as ``reference`` where one exists."""
    access.require(role, "adoption")
    df = estimates(con, filters, role=role, by=by, years=years, indicators=BARRIERS + WISHES)
    pub = facts.published().set_index("key")["value"]
    df["reference"] = df["indicator"].map(lambda i: pub.get(REFERENCE_MARKS.get(i, ""), np.nan))
    return df


def published_comparison(con: duckdb.DuckDBPyConnection, *, role: str, year: int | None = None) -> pd.DataFrame:
    """Each published adoption, barrier and wish figure beside the survey's estimate for the same
    national domain (user filters do not apply: the published figures are national), in ``year``
    (default: the published figure's own year when surveyed, else the latest survey year)."""
    access.require(role, "adoption")
    pub = facts.published().set_index("key")
    years = survey_years(con)
    rows, by_year = [], {}
    for key, (indicator, domain) in PUBLISHED_DOMAINS.items():
        if key not in pub.index or not years:
            continue
        own = int(pub.at[key, "year"]) if str(pub.at[key, "year"]).isdigit() else None
        yr = year if year is not None else (own if own in years else years[0])
        if yr not in by_year:
            by_year[yr] = cell_sums(con, years=(yr,))
        cells = by_year[yr]
        for column, value in domain.items():
            cells = cells[cells[column] == value]
        est = estimate(cells, (), (indicator,))
        row = {"key": key, "indicator": indicator, "scope": pub.at[key, "scope"], "source": pub.at[key, "source"],
               "published_year": pub.at[key, "year"], "year": yr, "published": float(pub.at[key, "value"])}
        if est.empty:
            row.update(n=0, p=np.nan, lo=np.nan, hi=np.nan)
        else:
            row.update(est.iloc[0][["n", "p", "lo", "hi"]].to_dict())
        rows.append(row)
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["n"] = out["n"].astype("int64")
    out["diff_pp"] = (out["p"] - out["published"]) * 100
    out["inside_ci"] = (out["published"] >= out["lo"]) & (out["published"] <= out["hi"])
    return _suppress(out, role, derived=["p", "lo", "hi", "diff_pp"])


def tile_map(con: duckdb.DuckDBPyConnection, filters: Filters = Filters(), *, role: str,
             years: tuple[int, ...] = (), indicator: str = "uses") -> pd.DataFrame:
    """Adoption per 시도 with its interval and the region's place on the tile grid (all 17 시도,
    also those without respondents under the filters)."""
    access.require(role, "adoption")
    est = estimates(con, filters, role=role, by=("region_code",), years=years, indicators=(indicator,))
    grid = con.execute(
        "SELECT region_code, short_ko, name_en, tile_row, tile_col, capital_region FROM regions").df()
    return grid.merge(est.drop(columns=["label_ko", "label_en"]), on="region_code", how="left")
