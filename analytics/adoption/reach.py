"""Does AI support reach the laggards? Adoption next to the uptake of AI-related programs.

Uptake counts applications to programs with ``programs.ai_related`` and awards (status 'selected')
per 1,000 firms per year. Firms are a weighted sample, so each sampled firm's applications stand for
``firms.weight`` firms' applications: rate = sum over applications of the firm's weight / sum of
weights of all firms x 1,000 (imported real data carries weight 1, and this is a plain count).
A row is a laggard when both its adoption and its application rate are below the median of the rows
shown; laggards come first, then the rest by their combined rank (lowest first).
"""
from __future__ import annotations

import duckdb
import pandas as pd

from analytics.adoption.design import add_labels, cell_sums, domain_names, estimate
from analytics.filters import Filters
from data import access
from data.privacy import suppress_small

REACH_DIMS = ("region_code", "size_class")


def _uptake_cells(con: duckdb.DuckDBPyConnection, filters: Filters, years: tuple[int, ...]) -> pd.DataFrame:
    """Per 시도 x size: firms (weighted), AI-program applications and awards (weighted), applicant
    firms in the sample (for suppression) and the number of years the applications span."""
    where, params = filters.where(app=None, firm="f", program=None)
    year_cond, year_params = ("list_contains(?, year(a.submitted_at))", [list(years)]) if years else ("TRUE", [])
    return con.execute(f"""
        WITH pop AS (
            SELECT f.region_code, f.size_class::VARCHAR AS size_class, sum(f.weight) AS firms
            FROM firms f WHERE {where} GROUP BY ALL),
        ai_apps AS (
            SELECT f.region_code, f.size_class::VARCHAR AS size_class, a.firm_id, a.status, f.weight,
                   year(a.submitted_at) AS yr
            FROM applications a JOIN programs p USING (program_id) JOIN firms f USING (firm_id)
            WHERE p.ai_related AND {where} AND {year_cond}),
        uptake AS (
            SELECT region_code, size_class, sum(weight) AS applications,
                   sum(CASE WHEN status = 'selected' THEN weight ELSE 0 END) AS awards,
                   count(DISTINCT firm_id) AS applicant_firms
            FROM ai_apps GROUP BY ALL)
        SELECT pop.*, coalesce(u.applications, 0) AS applications, coalesce(u.awards, 0) AS awards,
               coalesce(u.applicant_firms, 0) AS applicant_firms,
               greatest((SELECT count(DISTINCT yr) FROM ai_apps), 1) AS years_spanned
        FROM pop LEFT JOIN uptake u USING (region_code, size_class)""",
        [*params, *params, *year_params]).df()


def support_reach(con: duckdb.DuckDBPyConnection, filters: Filters = Filters(), *, role: str,
                  by: tuple[str, ...] = ("region_code",), years: tuple[int, ...] = ()) -> pd.DataFrame:
    """One row per ``by`` domain (시도, size class or both): adoption with its interval, AI-program
    applications and awards per 1,000 firms per year, and the laggard flag; laggards first.

    ``years`` selects the survey year(s) and the application years alike.
    """
    access.require(role, "adoption")
    dims = [b for b in by if b in REACH_DIMS] or ["region_code"]
    adoption = estimate(cell_sums(con, filters, years=years), dims, ("uses",))
    adoption = adoption[[*dims, "n", "p", "lo", "hi", "low_n"]]
    cells = _uptake_cells(con, filters, years)
    if cells.empty:
        return pd.DataFrame()
    span = float(cells["years_spanned"].iloc[0])
    uptake = cells.groupby(dims, as_index=False)[["firms", "applications", "awards", "applicant_firms"]].sum()
    uptake["applications_per_1000"] = uptake["applications"] / uptake["firms"] / span * 1000
    uptake["awards_per_1000"] = uptake["awards"] / uptake["firms"] / span * 1000
    out = uptake.merge(adoption, on=dims, how="left")
    low_adoption = out["p"] < out["p"].median()
    low_uptake = out["applications_per_1000"] < out["applications_per_1000"].median()
    out["laggard"] = low_adoption & low_uptake
    rank = out["p"].rank(pct=True) + out["applications_per_1000"].rank(pct=True)
    out = out.assign(_rank=rank).sort_values(["laggard", "_rank"], ascending=[False, True]).drop(columns="_rank")
    out = add_labels(out.reset_index(drop=True), dims, domain_names(con))
    out = out[[*dims, "label_ko", "label_en", "n", "p", "lo", "hi", "low_n", "firms", "applicant_firms",
               "applications_per_1000", "awards_per_1000", "laggard"]]
    # Small cells are hidden per source: adoption by respondents, uptake by applicant firms.
    out = suppress_small(out, ["n"], role, derived=["p", "lo", "hi"])
    return suppress_small(out, ["applicant_firms"], role, derived=["applications_per_1000", "awards_per_1000"])
