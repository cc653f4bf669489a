"""Programs seen one by one: document burden, budget uptake, search and the program profile."""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from analytics.filters import Filters
from analytics.uptake.summary import (
    APPS,
    COUNT_COLUMNS,
    RATE_COLUMNS,
    Drill,
    add_rates,
    check_role,
    group_names,
    measures,
    normalize_drill,
    scope_where,
    side_where,
)
from data import facts, privacy

# The published reference lines of the document view (keys of data/facts/published.csv).
DOC_FACTS = ("documents_per_application_now", "documents_per_application_target",
             "admin_data_linkage_rate_now", "admin_data_linkage_rate_target")


def doc_references() -> pd.DataFrame:
    """The published document and linkage figures with their year and source."""
    df = facts.published()
    df = df.loc[df["key"].isin(DOC_FACTS), ["key", "value", "unit", "year", "source"]]
    df["value"] = df["value"].astype(float)
    return df.set_index("key").loc[list(DOC_FACTS)].reset_index()


def documents(con: duckdb.DuckDBPyConnection, filters: Filters, drill: Drill = (), *, role: str,
              by: str = "agency") -> pd.DataFrame:
    """Documents per application by agency or program (largest first): required (uploaded +
    fetched), uploaded by the firm, fetched automatically, and the linkage rate (fetched / required).
    ``parent`` is the ministry of an agency, the agency of a program."""
    check_role(role)
    if by not in ("agency", "program"):
        raise ValueError("by must be 'agency' or 'program'")
    where, params = scope_where(filters, normalize_drill(drill))
    col = "program_id" if by == "program" else "agency"
    df = measures(con, where, params, f"s.{col}").sort_values(["applications", "grp"], ascending=[False, True], ignore_index=True)
    n = df["docs_n"].where(df["docs_n"] > 0)
    df["docs_by_firm"] = (df["docs_by_firm_sum"] / n).astype(float)
    df["docs_auto_linked"] = (df["docs_auto_sum"] / n).astype(float)
    df["docs_required"] = df["docs_by_firm"] + df["docs_auto_linked"]
    df["linkage_rate"] = (df["docs_auto_sum"] / (df["docs_by_firm_sum"] + df["docs_auto_sum"]).where(lambda x: x > 0)).astype(float)
    df = df.merge(group_names(con, by), on="grp", how="left")
    cols = ["grp", "name", "parent", "applications", "applicants", "docs_required", "docs_by_firm",
            "docs_auto_linked", "linkage_rate"]
    return privacy.suppress_small(df[cols], ["applicants"], role,
                                  derived=["applications", "docs_required", "docs_by_firm", "docs_auto_linked", "linkage_rate"])


def below_budget(con: duckdb.DuckDBPyConnection, filters: Filters, drill: Drill = (), *, role: str,
                 threshold: float = 0.5) -> pd.DataFrame:
    """Programs whose window has closed with less than ``threshold`` of their budget awarded.

    Whole-program figures: the period filter picks programs that closed within it; firm-side
    filters do not apply (a budget belongs to the whole program).
    """
    check_role(role)
    where, params = side_where(filters, normalize_drill(drill), "program")
    ref = facts.reference_date(con)
    lo, hi = filters.date_from, min(d for d in (filters.date_to, ref) if d is not None) if ref or filters.date_to else None
    df = con.execute(
        f"""SELECT p.program_id AS grp, p.title AS name, p.agency AS parent, p.ministry, p.budget_krw,
                   p.awarded_krw, p.awarded_krw / p.budget_krw AS uptake_ratio, p.applications,
                   p.applicants, p.selected, p.closes_on
            FROM summary_uptake_programs p
            WHERE {where} AND p.budget_krw > 0 AND NOT p.always_open AND p.closes_on IS NOT NULL
              AND p.closes_on <= coalesce(?, DATE '2999-12-31') AND p.closes_on >= coalesce(?, DATE '1900-01-01')
              AND p.awarded_krw < ? * p.budget_krw
            ORDER BY uptake_ratio, p.budget_krw DESC""", [*params, hi, lo, threshold]).df()
    return privacy.suppress_small(df, ["applicants"], role,
                                  derived=["awarded_krw", "uptake_ratio", "applications", "selected"])


def search_programs(con: duckdb.DuckDBPyConnection, text: str, filters: Filters | None = None, *,
                    role: str, limit: int = 30) -> pd.DataFrame:
    """Programs whose title contains ``text`` (case-insensitive), most applications first."""
    check_role(role)
    where, params = side_where(filters or Filters(), (), "program")
    return con.execute(
        f"""SELECT p.program_id, p.title, p.ministry, p.agency, p.category::VARCHAR AS category, p.applications
            FROM summary_uptake_programs p
            WHERE {where} AND contains(lower(p.title), lower(?))   -- literal text: % and _ are not wildcards
            ORDER BY p.applications DESC, p.program_id LIMIT ?""", [*params, text.strip(), limit]).df()


@dataclass(frozen=True)
class ProgramProfile:
    """One program: its attributes, its funnel and who applies / is selected vs who is eligible.

    ``composition`` has one row per (dim, grp) for size, region, industry and age band: applicants,
    selected firms and the eligible population (weighted), each also as a share of its total.
    """

    info: dict
    funnel: pd.DataFrame
    composition: pd.DataFrame


_PROFILE_DIMS = {"size": "size_class", "region": "region_code", "industry": "ksic_section", "age": "age_band"}


def program_profile(con: duckdb.DuckDBPyConnection, program_id: str, filters: Filters | None = None, *,
                    role: str) -> ProgramProfile | None:
    """The profile of one program, within the period of ``filters`` (other filters do not apply:
    the comparison is with everyone the program is open to). None when the program is unknown."""
    check_role(role)
    info = con.execute(
        """SELECT p.*, g.target_sizes::VARCHAR[] AS target_sizes, g.target_regions, g.target_industries,
                  g.min_age_years, g.max_age_years, g.required_certs
           FROM summary_uptake_programs p JOIN programs g USING (program_id) WHERE program_id = ?""",
        [program_id]).df()
    if info.empty:
        return None
    period = Filters(date_from=(filters or Filters()).date_from, date_to=(filters or Filters()).date_to)
    where, params = scope_where(period, (("program", program_id),))
    funnel = add_rates(measures(con, where, params))[[*COUNT_COLUMNS, "amount_awarded_krw", *RATE_COLUMNS]]
    funnel = privacy.suppress_small(funnel, ["applicants"], role)
    ref = facts.reference_date(con)
    frames = []
    for dim, col in _PROFILE_DIMS.items():
        firm_col = "f.size_class::VARCHAR" if col == "size_class" else f"f.{col}"
        # eligible population from the firms themselves: exact age at the reference date
        df = con.execute(
            f"""WITH prog AS (SELECT * FROM programs WHERE program_id = ?),
                ref AS (SELECT ?::DATE AS d),
                elig AS (
                    SELECT {'uptake_age_band(f.founded_on, ref.d)' if col == 'age_band' else firm_col} AS grp,
                           sum(f.weight) AS eligible
                    FROM firms f, prog g, ref
                    WHERE (len(g.target_sizes) = 0 OR list_contains(g.target_sizes::VARCHAR[], f.size_class::VARCHAR))
                      AND (len(g.target_regions) = 0 OR list_contains(g.target_regions, f.region_code))
                      AND (len(g.target_industries) = 0 OR list_contains(g.target_industries, f.ksic_section))
                      AND (g.min_age_years IS NULL OR date_sub('year', f.founded_on, ref.d) >= g.min_age_years)
                      AND (g.max_age_years IS NULL OR date_sub('year', f.founded_on, ref.d) <= g.max_age_years)
                    GROUP BY 1),
                apps AS (
                    SELECT s.{col}::VARCHAR AS grp, count(DISTINCT s.firm_id) AS applicants,
                           count(DISTINCT s.firm_id) FILTER (WHERE s.selected) AS selected
                    FROM {APPS} s WHERE {where} GROUP BY 1)
                SELECT coalesce(elig.grp, apps.grp) AS grp, coalesce(apps.applicants, 0) AS applicants,
                       coalesce(apps.selected, 0) AS selected, coalesce(elig.eligible, 0) AS eligible
                FROM elig FULL JOIN apps ON apps.grp = elig.grp ORDER BY 1""",
            [program_id, ref, *params]).df()
        for c in ("applicants", "selected", "eligible"):
            total = df[c].sum()
            df[f"{c}_share"] = df[c] / total if total else float("nan")
        frames.append(df.assign(dim=dim))
    comp = pd.concat(frames, ignore_index=True)[["dim", "grp", "applicants", "selected", "eligible",
                                                 "applicants_share", "selected_share", "eligible_share"]]
    comp = privacy.suppress_small(comp, ["applicants", "selected"], role,
                                  derived=["applicants_share", "selected_share"])
    return ProgramProfile(info.iloc[0].to_dict(), funnel, comp)

