"""What is loaded: table counts, build information and a first look at the applications."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from analytics.filters import Filters
from data import access
from data.db import get_meta
from data.privacy import SUPPRESSED, suppress_cells, suppress_small

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


# Periods from finest to coarsest: the chart uses the finest at which most periods can be shown.
UNITS: tuple[str, ...] = ("month", "quarter", "year")
_MONTHS = {"month": 1, "quarter": 3, "year": 12}


@dataclass(frozen=True)
class Activity:
    """Applications, selections and applicant firms per period of submission, under the filters.

    ``frame`` has one row per period from the first to the last with applications (empty periods
    as zeros), columns period (its first day), label, firms, applications, selected; for the
    aggregate-only role a period of 1-4 applicant firms shows "<5". ``hidden`` counts such
    periods. ``partial_until`` is the last day of data when the last period ends later than that:
    its counts are incomplete, so its dip is no trend.
    """

    frame: pd.DataFrame
    unit: str
    hidden: int
    partial_until: date | None


def activity(con: duckdb.DuckDBPyConnection, filters: Filters, *, role: str, unit: str | None = None) -> Activity:
    """Per month; per quarter or year when more than half the months would be suppressed (a narrow
    filter seen by the aggregate-only role would otherwise draw an empty chart). ``unit`` fixes the
    period instead (to compare two roles on the same periods)."""
    access.require(role, "overview")
    where, params = filters.where()
    data_end = con.execute("SELECT max(submitted_at)::DATE FROM applications").fetchall()[0][0]
    for period in ([unit] if unit else UNITS):
        raw = con.execute(f"""
            SELECT date_trunc(?, a.submitted_at)::DATE AS period,
                   count(DISTINCT a.firm_id) AS firms,
                   count(*) AS applications,
                   count(*) FILTER (WHERE a.status = 'selected') AS selected
            FROM {_FROM} WHERE {where} GROUP BY 1 ORDER BY 1
        """, [period, *params]).df()
        # selections are firms too: a period of 1-4 selections is hidden, and one more period beside a
        # lone hidden one, since the total is on the same page
        frame = suppress_cells(_complete(raw, period), {"firms": ["applications", "selected"], "selected": []}, role)
        hidden = int((frame["firms"] == SUPPRESSED).sum()) if len(frame) else 0
        if hidden * 2 <= len(raw) or period == UNITS[-1]:
            break
    partial = None
    if len(frame) and data_end is not None:
        last = frame["period"].iloc[-1]
        if _period_end(last, period) > data_end:
            partial = data_end
    return Activity(frame=frame, unit=period, hidden=hidden, partial_until=partial)


def _complete(raw: pd.DataFrame, unit: str) -> pd.DataFrame:
    """Every period between the first and the last, empty ones as zeros, with a label that reads
    the same in any language (2024-03, 2024 Q1, 2024)."""
    if raw.empty:
        return raw.assign(label=pd.Series(dtype=str))
    start = pd.Timestamp(raw["period"].iloc[0])
    end = pd.Timestamp(raw["period"].iloc[-1])
    periods = pd.date_range(start, end, freq=f"{_MONTHS[unit]}MS")
    out = (raw.assign(period=pd.to_datetime(raw["period"])).set_index("period")
           .reindex(periods, fill_value=0).rename_axis("period").reset_index())
    out["period"] = out["period"].dt.date
    fmt = {"month": lambda d: f"{d:%Y-%m}", "quarter": lambda d: f"{d.year} Q{(d.month - 1) // 3 + 1}",
           "year": lambda d: f"{d.year}"}[unit]
    out["label"] = out["period"].map(fmt)
    return out[["period", "label", "firms", "applications", "selected"]]


def _period_end(start: date, unit: str) -> date:
    """The last day of the period that begins on ``start``."""
    return (pd.Timestamp(start) + pd.DateOffset(months=_MONTHS[unit]) - pd.Timedelta(days=1)).date()


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
