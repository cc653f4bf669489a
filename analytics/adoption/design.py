"""Survey-weighted shares with design-based 95% intervals for the AI-adoption survey (``ai_survey``).

Method (stated on the page): every share is a ratio estimator R = sum(w*y) / sum(w*x) over the
respondents of a domain, where x marks the base (all respondents, or those not using AI for the
barrier questions) and y the answer. Its variance is estimated by Taylor linearisation with the
survey's design strata (survey year x 시도 x size class: the cells the sample is allocated to and
post-stratified on), each respondent its own sampling unit, drawn with replacement in its stratum:

    z_i = w_i * (y_i - R * x_i) / X   (0 outside the domain),
    V(R) = sum_h n_h / (n_h - 1) * sum_{i in h} (z_i - mean_h z)^2

Industries are domains inside the strata, so n_h always counts the whole stratum, also when an
industry is filtered or broken down (subsetting the rows first would understate the variance). A
stratum with a single respondent cannot estimate its own spread; its z is centred at the overall
mean of z, which is 0 (R's ``survey.lonely.psu = "adjust"``), a conservative choice. The formula only
needs per-cell sums (stratum x industry), which DuckDB returns in one GROUP BY: the page never
touches respondent rows. The interval is R +/- 1.96 * sqrt(V), clipped to [0, 1]. ``n_eff`` is
Kish's effective sample size (sum w)^2 / sum w^2 of the base.
"""
from __future__ import annotations

from dataclasses import replace

import duckdb
import numpy as np
import pandas as pd

from analytics.filters import Filters

Z95 = 1.959963984540054
LOW_N = 30  # estimates resting on fewer respondents are flagged and greyed out

# base name -> SQL condition on ai_survey (alias s); an indicator's answer is only counted inside its base
BASES: dict[str, str] = {"all": "TRUE", "nonusers": "NOT s.uses_ai"}

# indicator -> (SQL condition on ai_survey, base). Barriers are reasons for *not* adopting, so they
# are asked of firms that do not use AI yet; wished-for support is asked of everyone.
INDICATORS: dict[str, tuple[str, str]] = {
    "uses": ("s.uses_ai", "all"),
    "plans": ("s.plans_ai", "all"),
    "none": ("s.ai_status = 'none'", "all"),
    "barrier_cost": ("s.barrier_cost", "nonusers"),
    "barrier_skills": ("s.barrier_skills", "nonusers"),
    "barrier_integration": ("s.barrier_integration", "nonusers"),
    "barrier_security": ("s.barrier_security", "nonusers"),
    "barrier_no_need": ("s.barrier_no_need", "nonusers"),
    "wish_training": ("s.wish_training", "all"),
    "wish_cases": ("s.wish_cases", "all"),
    "wish_education": ("s.wish_education", "all"),
    "wish_funding": ("s.wish_funding", "all"),
    "wish_consulting": ("s.wish_consulting", "all"),
}
STATUS = ("uses", "plans", "none")
BARRIERS = tuple(k for k in INDICATORS if k.startswith("barrier_"))
WISHES = tuple(k for k in INDICATORS if k.startswith("wish_"))

STRATUM = ["survey_year", "region_code", "size_class"]
# Domain columns a caller may group by: the stratum keys plus attributes of whole strata.
DIMS = ("survey_year", "region_code", "size_class", "ksic_section", "capital_region", "is_sme", "size_group")

ESTIMATE_COLUMNS = ["indicator", "n", "n_eff", "weight", "p", "se", "lo", "hi", "low_n"]


def _cells_sql(stratum_where: str, domain_where: str) -> str:
    cols = []
    for base, cond in BASES.items():
        cols += [f"count_if({cond}) AS n_{base}",
                 f"sum(CASE WHEN {cond} THEN s.weight ELSE 0 END) AS wx_{base}",
                 f"sum(CASE WHEN {cond} THEN s.weight * s.weight ELSE 0 END) AS w2x_{base}"]
    for name, (cond, base) in INDICATORS.items():
        both = f"({BASES[base]}) AND ({cond})"
        cols += [f"sum(CASE WHEN {both} THEN s.weight ELSE 0 END) AS wy_{name}",
                 f"sum(CASE WHEN {both} THEN s.weight * s.weight ELSE 0 END) AS w2y_{name}"]
    # The strings above are module constants, never user input; filter values are bound parameters.
    return f"""
        WITH s AS (
            SELECT s.*, count(*) OVER (PARTITION BY s.survey_year, s.region_code, s.size_class) AS n_h
            FROM ai_survey s WHERE {stratum_where})
        SELECT s.survey_year, s.region_code, s.size_class::VARCHAR AS size_class, s.ksic_section,
               any_value(r.capital_region) AS capital_region, any_value(z.is_sme) AS is_sme,
               any_value(s.n_h) AS n_h, count(*) AS n, {', '.join(cols)}
        FROM s
        JOIN regions r USING (region_code)
        JOIN size_classes z USING (size_class)
        WHERE {domain_where}
        GROUP BY ALL"""


def domain_names(con: duckdb.DuckDBPyConnection) -> dict[str, pd.DataFrame]:
    """Korean and English names of each dimension's codes, for labels."""
    return {
        "region_code": con.execute("SELECT region_code AS code, short_ko AS ko, name_en AS en FROM regions").df(),
        "size_class": con.execute("SELECT size_class::VARCHAR AS code, name_ko AS ko, name_en AS en FROM size_classes").df(),
        "ksic_section": con.execute("SELECT ksic_section AS code, name_ko AS ko, name_en AS en FROM industries").df(),
        "capital_region": pd.DataFrame({"code": [True, False], "ko": ["수도권", "비수도권"], "en": ["Capital region", "Non-capital"]}),
        "is_sme": pd.DataFrame({"code": [True, False], "ko": ["중소기업", "중견·대기업"], "en": ["SMEs", "Mid-sized and large"]}),
        "size_group": pd.DataFrame({"code": ["sme", "midsize", "large"], "ko": ["중소기업", "중견기업", "대기업"],
                                    "en": ["SMEs", "Mid-sized", "Large"]}),
        "survey_year": pd.DataFrame({"code": [], "ko": [], "en": []}),
    }


# the label of the whole population (no breakdown), in both languages like domain_names
_ALL = {"ko": "전체", "en": "All"}


def add_labels(df: pd.DataFrame, by: list[str], names: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Add label_ko / label_en: the domain's names joined with ' · ' (years as numbers)."""
    out = df.copy()
    for lang in ("ko", "en"):
        text = None
        for col in by:
            lookup = {code: str(name) for code, name in zip(names[col]["code"], names[col][lang])}
            part = out[col].map(lambda v, lk=lookup: lk.get(v, str(v))).astype(object)
            text = part if text is None else text + " · " + part
        out[f"label_{lang}"] = text if text is not None else _ALL[lang]
    return out


# Natural order of coded dimensions in tables and grouped charts (others sort by their code).
_ORDER: dict[str, list[object]] = {
    "size_class": ["micro", "small", "medium", "midsize", "large"],
    "size_group": ["sme", "midsize", "large"],
    "capital_region": [True, False],
    "is_sme": [True, False],
}


def sort_domains(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Rows in the natural order of their domain (micro before large, capital first); stable, so
    the indicators of one domain keep their order."""
    if not by or df.empty:
        return df

    def rank(col: pd.Series) -> pd.Series:
        order = _ORDER.get(str(col.name))
        return col.map({v: i for i, v in enumerate(order)}) if order else col

    return df.sort_values(by, key=rank, kind="stable").reset_index(drop=True)


def cell_sums(con: duckdb.DuckDBPyConnection, filters: Filters = Filters(), *,
              years: tuple[int, ...] = ()) -> pd.DataFrame:
    """Per cell (design stratum x industry): the stratum's respondent count ``n_h``, the cell's
    respondent counts and the weighted sums the estimators need.

    ``filters`` applies 시도, size and industry (the survey has no programs or dates); ``years``
    restricts survey_year (empty = all years). 시도, size and year select whole strata; industry
    selects a domain inside them.
    """
    where, params = replace(filters, industries=()).where(app=None, firm="s", program=None)
    if years:
        where += " AND list_contains(?, s.survey_year)"
        params = [*params, list(years)]
    domain_where, domain_params = Filters(industries=filters.industries).where(app=None, firm="s", program=None)
    df = con.execute(_cells_sql(where, domain_where), [*params, *domain_params]).df()
    df["capital_region"] = df["capital_region"].astype(bool)
    df["is_sme"] = df["is_sme"].astype(bool)
    # Large vs SME: the two groups the published gap compares; mid-sized firms stand apart.
    df["size_group"] = np.where(df["is_sme"], "sme", np.where(df["size_class"] == "large", "large", "midsize"))
    return df


def estimate(cells: pd.DataFrame, by: list[str] | tuple[str, ...] = (),
             indicators: tuple[str, ...] = STATUS) -> pd.DataFrame:
    """Ratio estimates with Taylor-linearised 95% intervals, one row per domain (``by``) and indicator.

    ``cells`` comes from :func:`cell_sums` (or a subset of its rows). Columns: the ``by`` columns,
    then indicator, n (respondents in the base), n_eff (Kish), weight (estimated firms in the base),
    p, se, lo, hi, low_n (n < 30). Domains without respondents in the base are left out.
    """
    by = list(by)
    if cells.empty:
        return pd.DataFrame(columns=[*by, *ESTIMATE_COLUMNS])
    # Integer ids of each cell's domain and of its (domain, stratum); sums by id with bincount, so
    # that all indicators cost one grouping (the page asks for up to 13 at a time).
    if by:
        grouped = cells.groupby(by, observed=True, sort=True)
        dom = grouped.ngroup().to_numpy()
        domains = grouped.size().reset_index()[by]
    else:
        dom, domains = np.zeros(len(cells), dtype=np.int64), pd.DataFrame(index=[0])
    hd_keys = list(dict.fromkeys([*by, *STRATUM]))
    hd = cells.groupby(hd_keys, observed=True, sort=False).ngroup().to_numpy()
    n_groups, n_hd = len(domains), int(hd.max()) + 1
    dom_of_hd = np.zeros(n_hd, dtype=np.int64)
    dom_of_hd[hd] = dom
    n_h = np.zeros(n_hd)
    n_h[hd] = cells["n_h"].to_numpy(float)

    def total(ids: np.ndarray, values: object, size: int) -> np.ndarray:
        return np.bincount(ids, weights=np.asarray(values, dtype=float), minlength=size)

    frames = []
    for name in indicators:
        base = INDICATORS[name][1]
        wx, w2x = cells[f"wx_{base}"].to_numpy(float), cells[f"w2x_{base}"].to_numpy(float)
        wy, w2y = cells[f"wy_{name}"].to_numpy(float), cells[f"w2y_{name}"].to_numpy(float)
        n = total(dom, cells[f"n_{base}"], n_groups)
        big_x, big_y, w2 = total(dom, wx, n_groups), total(dom, wy, n_groups), total(dom, w2x, n_groups)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = big_y / big_x
            x_c, r_c = big_x[dom], r[dom]
            # Each cell's sums of z and z^2; y and x are 0/1 with y <= x, so y^2 = xy = y and x^2 = x.
            s1 = total(hd, (wy - r_c * wx) / x_c, n_hd)
            s2 = total(hd, (w2y * (1 - 2 * r_c) + r_c * r_c * w2x) / x_c**2, n_hd)
            # Per domain and stratum: the spread of z over all n_h units (z = 0 outside the domain).
            spread = np.where(n_h > 1, n_h / np.maximum(n_h - 1, 1) * (s2 - s1**2 / n_h), s2)
        se = np.sqrt(np.clip(total(dom_of_hd, np.nan_to_num(spread), n_groups), 0, None))
        res = domains.assign(indicator=name, n=n.astype("int64"), n_eff=big_x**2 / np.where(w2 > 0, w2, np.nan),
                             weight=big_x, p=r, se=se)
        res["lo"], res["hi"] = (res["p"] - Z95 * se).clip(0, 1), (res["p"] + Z95 * se).clip(0, 1)
        res["low_n"] = res["n"] < LOW_N
        frames.append(res[res["n"] > 0])
    return pd.concat(frames, ignore_index=True)[[*by, *ESTIMATE_COLUMNS]]


def variance_parts(cells: pd.DataFrame, indicator: str) -> tuple[float, float, float]:
    """(estimate, variance, weight) of one indicator over all the given cells. For gaps between
    groups made of different strata, sampled independently, variances add."""
    row = estimate(cells, (), (indicator,))
    if row.empty:
        return float("nan"), float("nan"), 0.0
    return float(row["p"].iloc[0]), float(row["se"].iloc[0]) ** 2, float(row["weight"].iloc[0])
