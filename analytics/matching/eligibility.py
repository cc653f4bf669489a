"""Program matching (맞춤형 지원사업 추천), part 1: firm profiles and eligibility.

A firm is described by a :class:`Profile` (region, size, industry, age, certifications, sales,
employees, and for a firm of the database its id). :func:`candidates` returns, for many profiles at
once, the programs open on each profile's date that it may apply to, in one DuckDB query over the
eligibility fields the 중소벤처24 announcements carry (``programs.target_sizes``, ``target_regions``,
``target_industries``, ``min_age_years``/``max_age_years``, the sales and employee bands
``min_revenue_krw``/``max_revenue_krw`` and ``min_employees``/``max_employees``, ``required_certs``)
plus the exclusion "already selected by the same program".

Firm-level lookups (:func:`find_firms`, :func:`firm_profile`) are for evaluators and admins; the
policy role works with hand-entered profiles and aggregates only.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from analytics.filters import Filters
from data import access, privacy

CERTS: tuple[str, ...] = ("venture", "innobiz", "mainbiz", "women")
SIZES: tuple[str, ...] = ("micro", "small", "medium", "midsize", "large")
# Sales bands of a hand-entered profile (upper bound in KRW, representative value); the 중소벤처24
# announcements band sales from "< 5억" to ">= 300억".
SALES_BANDS: dict[str, tuple[float, int]] = {
    "lt5": (5e8, 200_000_000), "5to10": (1e9, 700_000_000), "10to50": (5e9, 2_500_000_000),
    "50to100": (1e10, 7_000_000_000), "100to300": (3e10, 17_000_000_000),
    "ge300": (math.inf, 60_000_000_000),
}
_CERT_SQL = ", ".join(f"CASE WHEN f.cert_{c} THEN '{c}' END" for c in CERTS)
# One row per firm in the shape of a profile (certifications as a comma list), for firm queries.
FIRM_SQL = f"""
    SELECT f.firm_id, f.region_code, f.size_class::VARCHAR AS size_class, f.ksic_section, f.founded_on,
           f.revenue_krw, f.employees, concat_ws(',', {_CERT_SQL}) AS certs, f.weight
    FROM firms f"""
# The programs' sales and employee limits as cut points (a maximum m cuts at m + 1): firms whose figures
# pass the same cuts meet the same limits, so that aggregates may check one firm for all of them.
LIMIT_CUTS_SQL = """
    SELECT list_sort(list_distinct(list_filter(list(min_revenue_krw) || list(max_revenue_krw + 1), lambda c: c IS NOT NULL))) AS rev,
           list_sort(list_distinct(list_filter(list(min_employees) || list(max_employees + 1), lambda c: c IS NOT NULL))) AS emp
    FROM programs"""


@dataclass(frozen=True)
class Profile:
    """What the matcher knows about a firm on the day it looks for programs."""

    region_code: str
    size_class: str
    ksic_section: str
    age_years: int
    certs: tuple[str, ...] = ()
    revenue_krw: int = SALES_BANDS["lt5"][1]
    employees: int = 3
    firm_id: int | None = None  # a firm of the database: its history counts (evaluator/admin only)

    def __post_init__(self) -> None:
        if self.size_class not in SIZES:
            raise ValueError(f"unknown size class {self.size_class!r}")
        if self.age_years < 0:
            raise ValueError("firm age must be >= 0")
        unknown = set(self.certs) - set(CERTS)
        if unknown:
            raise ValueError(f"unknown certifications {sorted(unknown)}")


def limit_classes(firm: str = "f", cuts: str = "cuts") -> str:
    """SELECT items ``rev_class``, ``emp_class``: which cut of :data:`LIMIT_CUTS_SQL` (joined as
    ``cuts``) a firm's sales and employees reach."""
    return (f"len(list_filter({cuts}.rev, lambda c: c <= {firm}.revenue_krw)) AS rev_class, "
            f"len(list_filter({cuts}.emp, lambda c: c <= {firm}.employees)) AS emp_class")


def sales_band(revenue_krw: float) -> str:
    """The band of an amount of sales."""
    return next(code for code, (upper, _) in SALES_BANDS.items() if revenue_krw < upper)


def age_years(founded_on: date | pd.Timestamp, day: date) -> int:
    """Whole years since founding, as the generator and the announcements count them (-1: not yet founded)."""
    days = (pd.Timestamp(day) - pd.Timestamp(founded_on)).days
    return -1 if days < 0 else math.floor(days / 365.25)


def queries_frame(profiles: Sequence[Profile], days: Sequence[date]) -> pd.DataFrame:
    """The query table :func:`candidates` takes: one row per (profile, day), query_id = position."""
    return pd.DataFrame({
        "query_id": range(len(profiles)),
        "firm_id": pd.array([p.firm_id for p in profiles], dtype="Int64"),
        "day": pd.to_datetime(list(days)),
        "region_code": [p.region_code for p in profiles],
        "size_class": [p.size_class for p in profiles],
        "ksic_section": [p.ksic_section for p in profiles],
        "age_years": [p.age_years for p in profiles],
        "certs": [",".join(p.certs) for p in profiles],
        "revenue_krw": [p.revenue_krw for p in profiles],
        "employees": [p.employees for p in profiles],
    })


def firm_queries(firms: pd.DataFrame, days: Sequence[date] | pd.Series) -> pd.DataFrame:
    """Queries for firms of the database (rows of :data:`FIRM_SQL`) on given days; firms not yet
    founded on their day are left out."""
    q = firms.reset_index(drop=True).copy()
    q["day"] = pd.to_datetime(pd.Series(list(days)))
    q["age_years"] = [age_years(f, d) for f, d in zip(q["founded_on"], q["day"])]
    q = q[q["age_years"] >= 0].reset_index(drop=True)
    q.insert(0, "query_id", range(len(q)))
    q["firm_id"] = q["firm_id"].astype("Int64")
    return q[["query_id", "firm_id", "day", "region_code", "size_class", "ksic_section", "age_years", "certs",
              "revenue_krw", "employees"]]


def _pairs(queries: pd.DataFrame, filters: Filters, select: str, tail: str = "") -> tuple[str, list]:
    """SQL over every eligible (query ``q``, program ``p``) pair of the registered ``_match_q`` table."""
    w, params = filters.where(app=None, firm=None, program="p")
    return f"""
        WITH q AS (
            SELECT *, day::DATE AS d,
                   CASE WHEN certs = '' THEN []::VARCHAR[] ELSE string_split(certs, ',') END AS cert_list
            FROM _match_q),
        -- first selection of each (firm, program) of the queried firms: the exclusion rule
        sel AS (
            SELECT firm_id, program_id, min(decided_at) AS first_selected
            FROM applications
            WHERE status = 'selected' AND firm_id IN (SELECT firm_id FROM _match_q WHERE firm_id IS NOT NULL)
            GROUP BY ALL),
        -- programs open on any of the days asked (the join below has no equality key to prune with)
        p AS (
            SELECT * REPLACE (target_sizes::VARCHAR[] AS target_sizes) FROM programs
            WHERE always_open OR (opens_on <= (SELECT max(d) FROM q) AND closes_on >= (SELECT min(d) FROM q)))
        SELECT {select}
        FROM q JOIN p
          ON (p.always_open OR (p.opens_on <= q.d AND p.closes_on >= q.d))
         AND (len(p.target_sizes) = 0 OR list_contains(p.target_sizes, q.size_class))
         AND (len(p.target_regions) = 0 OR list_contains(p.target_regions, q.region_code))
         AND (len(p.target_industries) = 0 OR list_contains(p.target_industries, q.ksic_section))
         AND q.age_years >= coalesce(p.min_age_years, 0)
         AND q.age_years <= coalesce(p.max_age_years, 2147483647)
         AND (p.min_revenue_krw IS NULL OR q.revenue_krw >= p.min_revenue_krw)
         AND (p.max_revenue_krw IS NULL OR q.revenue_krw <= p.max_revenue_krw)
         AND (p.min_employees IS NULL OR q.employees >= p.min_employees)
         AND (p.max_employees IS NULL OR q.employees <= p.max_employees)
         AND list_has_all(q.cert_list, p.required_certs)
        LEFT JOIN sel ON sel.firm_id = q.firm_id AND sel.program_id = p.program_id
        WHERE {w} AND (sel.first_selected IS NULL OR sel.first_selected >= q.d)
        {tail}""", params


def _run(con: duckdb.DuckDBPyConnection, queries: pd.DataFrame, sql: str, params: list) -> pd.DataFrame:
    con.register("_match_q", queries)
    try:
        return con.execute(sql, params).df()
    finally:
        con.unregister("_match_q")


def candidates(con: duckdb.DuckDBPyConnection, queries: pd.DataFrame, filters: Filters = Filters()) -> pd.DataFrame:
    """Every (query, program) pair where the program is open on the query's day and the firm may apply.

    Rules (an empty list in a program means "no restriction"): open on the day (상시 접수, or
    opens_on <= day <= closes_on; programs without an announced window are not open); size, region
    and industry in the program's lists; age, sales and employees within the program's limits
    (inclusive; a missing limit is none); every required certification held; not already selected
    by the same program (a decision made before the day).
    Program-side filters (ministry, agency, category) narrow the programs; firm-side ones do not
    apply to a profile. Returns the query columns with the program's columns, ordered by query and
    program.
    """
    sql, params = _pairs(queries, filters, """
        q.query_id, q.firm_id, q.d AS day, q.region_code, q.size_class, q.ksic_section, q.age_years,
        len(q.cert_list) AS n_certs, q.revenue_krw, q.employees,
        p.program_id, p.title, p.ministry, p.agency, p.category::VARCHAR AS category,
        p.opens_on, p.closes_on, p.always_open, p.max_award_krw,
        len(p.target_regions) > 0 AS local_only, len(p.target_industries) > 0 AS industry_only,
        p.min_age_years, p.max_age_years, p.min_revenue_krw, p.max_revenue_krw, p.min_employees, p.max_employees,
        array_to_string(p.required_certs, ',') AS required_certs""",
                         "ORDER BY q.query_id, p.program_id")
    return _run(con, queries, sql, params)


def eligible_programs(con: duckdb.DuckDBPyConnection, profile: Profile, day: date, filters: Filters = Filters(),
                      *, role: str) -> pd.DataFrame:
    """The programs open on ``day`` that ``profile`` may apply to, closing first (open-ended calls last,
    the newest announcement first).

    For a database without application history (an imported catalogue alone), where there is nothing
    to learn a ranking from. Target groups named by an announcement (창업벤처, 사회적기업, ...) are
    returned for the user to check: a profile does not say whether the firm belongs to them.
    """
    access.require(role, "matching")
    if profile.firm_id is not None:
        access.require(role, "matching.firm")
    cands = candidates(con, queries_frame([profile], [day]), filters)
    extra = con.execute("SELECT program_id, url, window_text, target_groups, posted_at FROM programs "
                        "WHERE list_contains(?::VARCHAR[], program_id)", [list(cands["program_id"])]).df()
    out = cands.merge(extra, on="program_id", how="left")
    out["always_open"] = out["always_open"].astype(bool)
    out["days_left"] = (pd.to_datetime(out["closes_on"]) - pd.Timestamp(day)).dt.days.astype("Int64")
    # by deadline; open-ended calls (no deadline) newest announcement first
    out = out.sort_values(["closes_on", "posted_at", "program_id"], ascending=[True, False, True], na_position="last",
                          kind="mergesort").reset_index(drop=True)
    out.insert(0, "rank", range(1, len(out) + 1))
    return out[["rank", "program_id", "title", "ministry", "agency", "category", "opens_on", "closes_on", "always_open",
                "days_left", "window_text", "target_groups", "max_award_krw", "url"]]


def eligible_weight(con: duckdb.DuckDBPyConnection, queries: pd.DataFrame, filters: Filters = Filters()
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Eligibility counted without listing the pairs (queries carry a ``weight``): (query_id,
    n_eligible) for every query, and (program_id, weight) = total weight of the queries eligible."""
    sql, params = _pairs(queries, filters, "q.query_id, p.program_id, count(*) AS n_eligible, sum(q.weight) AS weight",
                         "GROUP BY GROUPING SETS ((q.query_id), (p.program_id))")
    both = _run(con, queries, sql, params)
    per_query = queries[["query_id"]].merge(both.loc[both["query_id"].notna(), ["query_id", "n_eligible"]]
                                            .astype({"query_id": "int64"}), on="query_id", how="left").fillna({"n_eligible": 0})
    return per_query, both.loc[both["program_id"].notna(), ["program_id", "weight"]].reset_index(drop=True)


def find_firms(con: duckdb.DuckDBPyConnection, text: str, *, role: str, limit: int = 20) -> pd.DataFrame:
    """Firms whose id, 사업자등록번호 (digits, dashes ignored) or name match ``text``; contact data masked.

    Evaluators and admins only. An exact id or a full 10-digit number finds one firm; a shorter
    number matches the start of the 사업자등록번호, which is what a masked number shows.
    """
    access.require(role, "matching.firm")
    text = text.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if not text:
        return pd.DataFrame(columns=["firm_id", "biz_no", "name", "region_code", "size_class", "ksic_section"])
    df = con.execute("""
        SELECT firm_id, biz_no, name, region_code, size_class::VARCHAR AS size_class, ksic_section
        FROM firms
        WHERE (? <> '' AND (firm_id::VARCHAR = ? OR starts_with(biz_no, ?)))
           OR (? = '' AND contains(name, ?))   -- literal text: a typed % or _ is not a wildcard
        ORDER BY firm_id::VARCHAR = ? DESC, firm_id LIMIT ?""", [digits, digits, digits, digits, text, digits, limit]).df()
    return privacy.mask_frame(df, {"biz_no": "biz_no", "name": "name"})


def firm_profile(con: duckdb.DuckDBPyConnection, firm_id: int, day: date, *, role: str) -> Profile | None:
    """The profile of a firm of the database on a day (None if unknown or not founded yet)."""
    access.require(role, "matching.firm")
    df = con.execute(FIRM_SQL + " WHERE f.firm_id = ?", [int(firm_id)]).df()
    if df.empty:
        return None
    row = df.iloc[0]
    age = age_years(row["founded_on"], day)
    if age < 0:
        return None
    return Profile(region_code=row["region_code"], size_class=row["size_class"], ksic_section=row["ksic_section"],
                   age_years=age, certs=tuple(c for c in row["certs"].split(",") if c),
                   revenue_krw=int(row["revenue_krw"]), employees=int(row["employees"]), firm_id=int(row["firm_id"]))
