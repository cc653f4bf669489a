"""Synthetic firms: a weighted sample of the Korean firm population with a known latent model.

The population (how many real firms exist per 시도 x size class) comes from the published SME
statistics in ``data/facts``; the sample oversamples larger firms, which apply for support far more
often, and every firm's ``weight`` undoes that, so that weighted counts by 시도 x size reproduce the
population exactly at any scale. Attributes (patents, R&D, certifications, finances) are noisy
functions of two latent traits, business quality ``z`` and technology capability ``t``; the true
outcome probabilities are functions of the observable attributes alone (see synth_outcomes).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from data import bizno, facts
from data.synth.names import ceo_names, firm_names

SIZES = ["micro", "small", "medium", "midsize", "large"]
SECTIONS = list("ABCDEFGHIJKLMNOPQRSTU")
REGIONS = sorted(["11", "26", "27", "28", "29", "30", "31", "36", "41", "43", "44", "46", "47", "48", "50",
                  "51", "52"])  # the 17 시도 codes of data/schema.sql

# Sample firms per size class at scale 1 (300,000): larger classes are heavily oversampled.
SAMPLE_AT_SCALE_1 = {"micro": 220_000, "small": 55_000, "medium": 18_000, "midsize": 4_000, "large": 3_000}
# Non-SME population: not in the published facts; approximate (SMEs are 99.9% of ~8.3 M firms,
# about 5,500 중견기업 per the 중견기업 statistics). Used only so large-vs-SME comparisons exist.
NON_SME_POPULATION = {"midsize": 5_500, "large": 2_900}
# Within SMEs: 95.1% 소상공인 (published); the rest split 소기업 : 중기업 about 87 : 13.
SMALL_SHARE_OF_NON_MICRO = 0.867
# Regions with much manufacturing have relatively more non-micro SMEs (relative tilt, renormalised).
_NON_MICRO_TILT = {"31": 1.35, "48": 1.2, "41": 1.15, "28": 1.1, "44": 1.15, "43": 1.1, "47": 1.1,
                   "11": 1.05, "50": 0.75, "51": 0.8, "46": 0.85, "52": 0.85}

# KSIC section shares. SME overall: G, L, I and the C band are published; the rest are plausible.
_SME_INDUSTRY = {"A": .008, "B": .0005, "C": .065, "D": .006, "E": .003, "F": .055, "G": .261,
                 "H": .068, "I": .110, "J": .023, "K": .008, "L": .152, "M": .040, "N": .028,
                 "P": .035, "Q": .024, "R": .024, "S": .0735}
_NON_MICRO_INDUSTRY = {"A": .01, "B": .003, "C": .33, "D": .01, "E": .02, "F": .11, "G": .18,
                       "H": .04, "I": .03, "J": .07, "K": .01, "L": .02, "M": .08, "N": .04,
                       "P": .01, "Q": .02, "R": .01, "S": .01}
_LARGE_INDUSTRY = {"C": .45, "G": .12, "J": .10, "F": .08, "M": .06, "K": .05, "H": .05, "N": .04,
                   "D": .02, "I": .02, "L": .01}
# Share aged <= 7 years by size; gives 60.1% among SMEs weighted (published).
_YOUNG_SHARE = {"micro": 0.61, "small": 0.45, "medium": 0.30, "midsize": 0.12, "large": 0.08}
# Industry offset of technology capability.
_TECH_OFFSET = {"C": 0.4, "J": 1.0, "M": 0.8, "D": 0.2, "E": 0.1, "K": 0.3, "Q": 0.2,
                "G": -0.5, "L": -0.7, "I": -0.8, "H": -0.5, "S": -0.5, "A": -0.3, "R": -0.3}


def largest_remainder(total: int, shares: np.ndarray) -> np.ndarray:
    """Integers proportional to shares that add up to total exactly."""
    raw = total * shares / shares.sum()
    out = np.floor(raw).astype(np.int64)
    out[np.argsort(-(raw - out), kind="stable")[: total - out.sum()]] += 1
    return out


def region_sme_totals(published: pd.DataFrame, regions: pd.DataFrame) -> pd.DataFrame:
    """SMEs per 시도 in 2023: the 2021 regional shares scaled to the 2023 capital/non-capital totals."""
    val = dict(zip(published["key"], published["value"]))
    out = regions[["region_code", "smes_10k", "capital_region"]].copy()
    out["smes"] = 0
    for cap, total in ((True, val["smes_capital_region_2023"]), (False, val["smes_non_capital_2023"])):
        m = out["capital_region"] == cap
        out.loc[m, "smes"] = largest_remainder(int(total), out.loc[m, "smes_10k"].to_numpy(float))
    return out[["region_code", "capital_region", "smes"]]


def population_targets() -> pd.DataFrame:
    """Real firms per 시도 x size class (the weighted counts the sample must reproduce)."""
    published = facts.published()
    regions = pd.read_csv(facts.REGIONS_CSV, dtype={"region_code": str})
    regions["capital_region"] = regions["capital_region"].astype(str).str.lower() == "true"
    reg = region_sme_totals(published, regions)
    micro_share = float(published.loc[published["key"] == "micro_share_2022", "value"].iloc[0])
    smes = reg["smes"].to_numpy(np.int64)
    tilt = np.array([_NON_MICRO_TILT.get(c, 1.0) for c in reg["region_code"]])
    non_micro_total = round(smes.sum() * (1 - micro_share))
    non_micro = largest_remainder(int(non_micro_total), smes * tilt)
    small = np.round(non_micro * SMALL_SHARE_OF_NON_MICRO).astype(np.int64)
    rows = {"micro": smes - non_micro, "small": small, "medium": non_micro - small}
    capital_tilt = np.where(reg["capital_region"], 1.6, 1.0)
    for size, total in NON_SME_POPULATION.items():
        rows[size] = largest_remainder(total, smes * capital_tilt)
    frames = [pd.DataFrame({"region_code": reg["region_code"], "size_class": s, "population": v})
              for s, v in rows.items()]
    return pd.concat(frames, ignore_index=True)


def industry_dist(size: str) -> np.ndarray:
    """Industry shares of one size class; micro is solved so that SMEs overall match _SME_INDUSTRY."""
    def vec(d: dict[str, float]) -> np.ndarray:
        v = np.array([d.get(s, 0.0) for s in SECTIONS])
        return v / v.sum()
    if size in ("small", "medium"):
        return vec(_NON_MICRO_INDUSTRY)
    if size in ("midsize", "large"):
        return vec(_LARGE_INDUSTRY)
    non_micro_w = 0.049
    micro = (vec(_SME_INDUSTRY) - non_micro_w * vec(_NON_MICRO_INDUSTRY)) / (1 - non_micro_w)
    return np.clip(micro, 0, None) / np.clip(micro, 0, None).sum()


def _quota(rng: np.random.Generator, n: int, shares: np.ndarray) -> np.ndarray:
    """Exactly proportional category indices in random order (sampling noise would blur calibration)."""
    idx = np.repeat(np.arange(len(shares)), largest_remainder(n, shares))
    return rng.permutation(idx)


@dataclass
class Firms:
    """The firms table, integer codes of its categorical columns, and the latent traits the
    application and outcome models need (never stored)."""
    table: pd.DataFrame
    size_i: np.ndarray    # index into SIZES
    region_i: np.ndarray  # index into REGIONS
    sec_i: np.ndarray     # index into SECTIONS
    z: np.ndarray
    t: np.ndarray


def _lookup(table: dict[str, float], keys: list[str], default: float = 0.0) -> np.ndarray:
    return np.array([table.get(k, default) for k in keys])


def generate(rng: np.random.Generator, scale: float, as_of: date) -> Firms:
    pop = population_targets()
    size_parts, region_parts, weight_parts, sec_parts, young_parts = [], [], [], [], []
    for si, size in enumerate(SIZES):
        cells = pop[pop["size_class"] == size].reset_index(drop=True)
        n = max(len(cells), round(SAMPLE_AT_SCALE_1[size] * scale))
        # at least one sample firm per populated cell so that every weighted count can be exact
        alloc = 1 + largest_remainder(n - len(cells), cells["population"].to_numpy(float))
        region_parts.append(np.repeat([REGIONS.index(r) for r in cells["region_code"]], alloc))
        size_parts.append(np.full(alloc.sum(), si))
        weight_parts.append(np.repeat(cells["population"].to_numpy(float) / alloc, alloc))
        sec_parts.append(_quota(rng, alloc.sum(), industry_dist(size)))
        young_parts.append(_quota(rng, alloc.sum(), np.array([1 - _YOUNG_SHARE[size], _YOUNG_SHARE[size]])) == 1)
    size_i, region_i, sec_i = (np.concatenate(p) for p in (size_parts, region_parts, sec_parts))
    young, weight = np.concatenate(young_parts), np.concatenate(weight_parts)
    n = len(size_i)
    sec = np.array(SECTIONS)[sec_i]

    z = rng.standard_normal(n)
    t = 0.4 * z + 0.9 * rng.standard_normal(n) + _lookup(_TECH_OFFSET, SECTIONS)[sec_i] \
        + np.array([0, 0.3, 0.5, 0.6, 0.7])[size_i]

    age_days = np.where(young, rng.uniform(30, 7 * 365, n),
                        7 * 365 + rng.exponential(np.array([3000, 4000, 5000, 7000, 9000])[size_i]))
    age_days = np.minimum(age_days, 60 * 365).astype(np.int64)
    founded = np.datetime64(as_of) - age_days.astype("timedelta64[D]")
    age_years = age_days / 365.25

    lo = np.array([1, 5, 50, 300, 1000])[size_i]
    hi = np.array([9, 49, 299, 999, 20000])[size_i]
    emp = np.exp(rng.uniform(np.log(lo), np.log(hi + 1)))
    emp = np.clip(emp * np.exp(0.15 * z), lo, hi).astype(np.int64)
    emp[(size_i == 0) & (rng.random(n) < 0.35)] = 0  # one-person businesses without employees
    rev_per_emp = np.exp(np.log(1.6e8) + 0.3 * z + 0.35 * rng.standard_normal(n)
                         + np.where(np.isin(sec, ["G", "C"]), 0.4, 0) - np.where(sec == "I", 0.6, 0))
    revenue = (np.maximum(emp, 1) * rev_per_emp * (1 + 0.02 * np.minimum(age_years, 20))).astype(np.int64)

    tech_sector = np.isin(sec, ["C", "J", "M"])
    pat_rate = np.exp(-2.2 + 1.0 * t + 0.7 * size_i + 0.6 * tech_sector)
    patents = rng.poisson(np.minimum(pat_rate, 500))
    pq = np.clip(5.0 - 0.9 * t - 0.4 * z + 1.2 * rng.standard_normal(n), 1, 9).round(1)
    pq = np.where(patents > 0, pq, np.nan)
    rnd = np.clip(np.where(tech_sector, 0.03, 0.005) + 0.025 * t + 0.02 * rng.standard_normal(n), 0, 0.6)
    rnd = np.where(rng.random(n) < 0.5 + 0.2 * tech_sector, rnd, 0.0).round(4)
    tech_staff = np.floor(np.maximum(emp, 1) * np.clip(0.05 + 0.08 * t + 0.1 * tech_sector, 0, 0.8)
                          * rng.uniform(0.5, 1.5, n)).astype(np.int64)

    def logistic(x: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-x))
    venture = rng.random(n) < logistic(-4.2 + 1.4 * t + 0.8 * (size_i >= 1) + 0.6 * young)
    innobiz = rng.random(n) < logistic(-4.8 + 1.2 * t + 0.5 * z + 1.3 * np.minimum(size_i, 2))
    mainbiz = rng.random(n) < logistic(-4.8 + 0.9 * z + 1.0 * np.minimum(size_i, 2))
    women = rng.random(n) < np.where(size_i == 0, 0.30, 0.10)
    venture &= size_i <= 2
    innobiz &= size_i <= 2
    mainbiz &= size_i <= 2

    debt = np.exp(0.25 - 0.35 * z + 0.55 * rng.standard_normal(n)).round(3)
    margin = (0.04 + 0.035 * z + 0.05 * rng.standard_normal(n)).round(4)
    growth = (0.04 + 0.07 * z + 0.04 * t + 0.12 * rng.standard_normal(n) + 0.1 * young).round(4)
    ceo_exp = np.clip(np.round(age_years + rng.gamma(2.0, 3.0, n) + 2 * z), 0, 50).astype(np.int64)
    wage = (np.exp(np.log(3.0e7) + 0.18 * size_i + 0.1 * z + 0.1 * tech_sector + 0.15 * rng.standard_normal(n))
            ).round(-4).astype(np.int64)
    mkt = _lookup({"J": 0.08, "M": 0.05, "C": 0.02, "Q": 0.04, "G": 0.01, "I": -0.01, "L": -0.02, "F": 0.0},
                  SECTIONS, 0.02)[sec_i]
    market_growth = (mkt + 0.01 * rng.standard_normal(n)).round(4)
    export_p = logistic(-3.5 + 1.2 * (sec == "C") + 0.8 * (sec == "J") + 0.9 * size_i + 0.4 * t)
    exports = np.where(rng.random(n) < export_p, revenue * rng.uniform(0.05, 0.6, n), 0).astype(np.int64)

    corporate = (size_i >= 1) | (rng.random(n) < 0.12)
    table = pd.DataFrame({
        "firm_id": np.arange(1, n + 1, dtype=np.int64),
        "biz_no": bizno.generate(rng, corporate),
        "name": firm_names(rng, sec, corporate),
        "ceo_name": ceo_names(rng, n),
        "region_code": pd.Categorical.from_codes(region_i, REGIONS),
        "ksic_section": pd.Categorical.from_codes(sec_i, SECTIONS),
        "size_class": pd.Categorical.from_codes(size_i, SIZES),
        "founded_on": founded.astype("datetime64[s]"),
        "employees": emp, "revenue_krw": revenue, "exports_krw": exports,
        "cert_venture": venture, "cert_innobiz": innobiz, "cert_mainbiz": mainbiz, "cert_women": women,
        "patents": patents, "patent_quality": pq, "rnd_intensity": rnd, "tech_staff": tech_staff,
        "ceo_experience_years": ceo_exp, "debt_ratio": debt, "operating_margin": margin,
        "sales_growth": growth, "avg_wage_krw": wage, "market_growth": market_growth,
        "weight": weight,
    })
    return Firms(table=table, size_i=size_i, region_i=region_i, sec_i=sec_i, z=z, t=t)
