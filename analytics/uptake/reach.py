"""Reach and fairness of reach: penetration by 시도 x size, blind spots, concentration of support.

Penetration = firms reached (selected at least once in the slice) / firms that exist, both weighted
by ``firms.weight`` so that the share estimates the national population at any generator scale.
Program-side filters (ministry, agency, category, program) narrow who counts as reached; only the
firm-side ones (region, size, industry, age) narrow the population.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from analytics.filters import Filters
from analytics.uptake.summary import APPS, Drill, check_role, normalize_drill, scope_where, side_where
from data import privacy


def _penetration_raw(con: duckdb.DuckDBPyConnection, filters: Filters, drill: Drill) -> pd.DataFrame:
    drill = normalize_drill(drill)
    where, params = scope_where(filters, drill)
    pwhere, pparams = side_where(filters, drill, "firm", "f")
    return con.execute(
        f"""WITH per_firm AS (   -- one row per firm: a firm selected twice is one firm reached
                SELECT s.firm_id, any_value(s.region_code) AS region_code, any_value(s.size_class) AS size_class,
                       any_value(s.weight) AS weight, bool_or(s.selected) AS reached
                FROM {APPS} s WHERE {where} GROUP BY s.firm_id),
            reached AS (
                SELECT region_code, size_class, count(*) AS applicants,
                       count(*) FILTER (WHERE reached) AS firms_reached,
                       coalesce(sum(weight) FILTER (WHERE reached), 0) AS reached_weighted
                FROM per_firm GROUP BY ALL),
            pop AS (
                SELECT f.region_code, f.size_class, sum(f.firms) AS firms, sum(f.firms_weighted) AS population
                FROM summary_uptake_population f WHERE {pwhere} GROUP BY ALL)
            SELECT region_code, size_class::VARCHAR AS size_class, r.short_ko AS region_name,
                   pop.firms, pop.population,
                   coalesce(reached.applicants, 0) AS applicants,
                   coalesce(reached.firms_reached, 0) AS firms_reached,
                   coalesce(reached.reached_weighted, 0) AS reached_weighted
            FROM pop
            JOIN regions r USING (region_code)
            JOIN size_classes z USING (size_class)
            LEFT JOIN reached USING (region_code, size_class)
            ORDER BY region_code, z.sort_order""",
        [*params, *pparams]).df().assign(
        penetration=lambda d: (d.reached_weighted / d.population.where(d.population > 0)).astype(float))


@dataclass(frozen=True)
class Reach:
    """Penetration per 시도 x size class and the cells the programs miss most.

    ``cells``: firms (rows), population (weighted), applicants, firms reached (rows and weighted)
    and penetration. ``blind_spots``: the ``n`` cells of lowest penetration among those holding at
    least ``min_population_share`` of the filtered population (a tiny cell with nobody reached says
    little about where support fails to arrive), with penetration relative to the average.
    """

    cells: pd.DataFrame
    blind_spots: pd.DataFrame


_PEN_DERIVED = ["applicants", "reached_weighted", "penetration"]


def reach(con: duckdb.DuckDBPyConnection, filters: Filters, drill: Drill = (), *, role: str,
          n: int = 10, min_population_share: float = 0.002) -> Reach:
    """Penetration by 시도 x size and the blind spots, from one scan of the applications."""
    check_role(role)
    df = _penetration_raw(con, filters, drill)
    total = df.population.sum()
    mean = df.reached_weighted.sum() / total if total else float("nan")
    big = df[df.population >= min_population_share * total]
    spots = big.sort_values(["penetration", "population"], ascending=[True, False]).head(n).copy()
    spots["vs_average"] = spots["penetration"] / mean if mean else float("nan")
    # every firm count of a cell on its own, with secondary suppression along each 시도, each size
    # class and the whole table (their totals are shown or derivable elsewhere)
    cells = privacy.suppress_cells(df, {"firms": ["population", "penetration"], "applicants": _PEN_DERIVED,
                                        "firms_reached": _PEN_DERIVED}, role,
                                   groups=[("region_code",), ("size_class",), ()])
    shown = cells.loc[spots.index].copy()
    shown["vs_average"] = spots["vs_average"].astype(object).where(shown["penetration"] != privacy.SUPPRESSED,
                                                                   privacy.SUPPRESSED)
    return Reach(cells, shown.reset_index(drop=True))


@dataclass(frozen=True)
class Concentration:
    """How evenly the amount awarded is spread over the firms supported in the slice.

    ``lorenz`` has ``points`` + 1 rows (firm share, amount share) from (0, 0) to (1, 1), firms
    ordered from the smallest amount. Top shares take the ceil(1%) / ceil(10%) largest firms.
    """

    firms: int
    amount_krw: int
    top1_share: float
    top10_share: float
    gini: float
    firms_3plus: int | str     # firms selected by 3+ different programs within one calendar year ("<5": policy)
    firms_3plus_share: float
    lorenz: pd.DataFrame
    suppressed: bool = False


def concentration(con: duckdb.DuckDBPyConnection, filters: Filters, drill: Drill = (), *, role: str,
                  points: int = 100) -> Concentration:
    """Top 1% / 10% shares, Gini, Lorenz curve and multi-program firms among the firms supported."""
    check_role(role)
    where, params = scope_where(filters, normalize_drill(drill))
    amounts = con.execute(
        f"""SELECT sum(s.amount_awarded_krw) AS amount FROM {APPS} s
            WHERE {where} AND s.selected GROUP BY s.firm_id ORDER BY amount""", params).fetchnumpy()["amount"]
    amounts = np.asarray(amounts, dtype=float)
    multi = con.execute(
        f"""SELECT count(DISTINCT firm_id) FROM (
                SELECT s.firm_id FROM {APPS} s WHERE {where} AND s.selected
                GROUP BY s.firm_id, year(s.submitted_at) HAVING count(DISTINCT s.program_id) >= 3)""",
        params).fetchall()[0][0]
    n, total = len(amounts), float(amounts.sum())
    empty = pd.DataFrame({"firm_share": [0.0, 1.0], "amount_share": [0.0, 1.0]})
    if n == 0 or total <= 0:
        return Concentration(n, int(total), math.nan, math.nan, math.nan, int(multi),
                             multi / n if n else math.nan, empty.iloc[0:0])
    if role == privacy.AGGREGATE_ROLE and n < 5:
        return Concentration(n, 0, math.nan, math.nan, math.nan, 0, math.nan, empty.iloc[0:0], suppressed=True)
    cum = np.concatenate([[0.0], np.cumsum(amounts)]) / total
    idx = np.unique(np.round(np.linspace(0, n, points + 1)).astype(int))
    lorenz = pd.DataFrame({"firm_share": idx / n, "amount_share": cum[idx]})

    def top(q: float) -> float:
        return float(amounts[-math.ceil(n * q):].sum() / total)

    # Gini from the Lorenz curve of every firm (trapezoids): 1 - 2 * area under the curve
    gini = float(1 - (cum[1:] + cum[:-1]).sum() / n)
    if role == privacy.AGGREGATE_ROLE and 0 < multi < 5:
        return Concentration(n, int(total), top(0.01), top(0.10), gini, privacy.SUPPRESSED, math.nan, lorenz)
    return Concentration(n, int(total), top(0.01), top(0.10), gini, int(multi), multi / n, lorenz)
