"""What is loaded: table counts, build information and a first look at the applications."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from analytics.filters import Filters
from data import access
from data.db import get_meta
from data.privacy import suppress_small

_FROM = ("applications a JOIN firms f ON f.firm_id = a.firm_id "
         "JOIN programs p ON p.program_id = a.program_id")


@dataclass(frozen=True)
class Summary:
    firms: int
    firms_weighted: float          # sum of population weights: the firms the sample stands for
    applicant_firms: int           # firms with at least one application
    programs: int
    applications: int
    selected: int
    respondents: int
    respondents_weighted: float
    first_application: date | None
    last_application: date | None


def meta(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Build information (source, scale, seed, built_at, as_of, data_version, ...)."""
    return get_meta(con)


def summary(con: duckdb.DuckDBPyConnection) -> Summary:
    """Counts of everything loaded (unfiltered: this is the inventory, not an analysis)."""
    row = con.execute("""
        SELECT (SELECT count(*) FROM firms), (SELECT coalesce(sum(weight), 0) FROM firms),
               (SELECT count(DISTINCT firm_id) FROM applications), (SELECT count(*) FROM programs),
               (SELECT count(*) FROM applications),
               (SELECT count(*) FROM applications WHERE status = 'selected'),
               (SELECT count(*) FROM ai_survey), (SELECT coalesce(sum(weight), 0) FROM ai_survey),
               (SELECT min(submitted_at)::DATE FROM applications), (SELECT max(submitted_at)::DATE FROM applications)
    """).fetchall()[0]
    return Summary(*row)


def monthly(con: duckdb.DuckDBPyConnection, filters: Filters, *, role: str) -> pd.DataFrame:
    """Applications, selections and applicant firms per month of submission, under the filters."""
    access.require(role, "overview")
    where, params = filters.where()
    df = con.execute(f"""
        SELECT date_trunc('month', a.submitted_at)::DATE AS month,
               count(DISTINCT a.firm_id) AS firms,
               count(*) AS applications,
               count(*) FILTER (WHERE a.status = 'selected') AS selected
        FROM {_FROM} WHERE {where} GROUP BY 1 ORDER BY 1
    """, params).df()
    return suppress_small(df, ["firms"], role, derived=["applications", "selected"])


def coverage(con: duckdb.DuckDBPyConnection, filters: Filters, *, role: str) -> pd.DataFrame:
    """Applicant firms, applications, selections and awards by 시도 × size class, under the filters.

    For the aggregate-only role, cells of fewer than 5 applicant firms are suppressed ("<5").
    """
    access.require(role, "overview")
    where, params = filters.where()
    df = con.execute(f"""
        SELECT f.region_code, r.short_ko AS region_ko, r.name_en AS region_en,
               f.size_class::VARCHAR AS size_class, s.name_ko AS size_ko, s.name_en AS size_en,
               count(DISTINCT a.firm_id) AS firms,
               count(*) AS applications,
               count(*) FILTER (WHERE a.status = 'selected') AS selected,
               count(*) FILTER (WHERE a.status = 'selected') / count(*) AS selection_rate,
               sum(a.amount_awarded_krw) AS awarded_krw
        FROM {_FROM} JOIN regions r ON r.region_code = f.region_code
             JOIN size_classes s ON s.size_class = f.size_class
        WHERE {where}
        GROUP BY ALL ORDER BY f.region_code, min(s.sort_order)
    """, params).df()
    return suppress_small(df, ["firms"], role)

