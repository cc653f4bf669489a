"""Synthetic applications: which firm applies to which program when, and what happens to it.

Firms apply in proportion to a propensity (size, region, technology, age, certifications), choose
programs by popularity and by how well the category suits them, and only programs they are eligible
for at the time of submission (size, region, industry, firm age, sales and employee bands, required
certifications). Selection depends on category, size, region and the firm's (partly observable)
quality, so that models have signal. The funnel submitted -> decided -> agreed (e-contract) -> paid is dated and cut
at as_of: what would happen later is still pending.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from data.synth.firms import REGIONS, SECTIONS, SIZES, Firms
from data.synth.programs import CATEGORIES, WINDOW_START

_CERTS = ["venture", "innobiz", "mainbiz", "women"]
_STATUSES = ["submitted", "selected", "rejected", "withdrawn"]
# Application propensity by size (log scale, per sample firm).
_APPLY_SIZE = np.array([0.0, 1.2, 1.6, 1.3, 0.4])
# Category affinity by firm group: micro, SME (small/medium), non-SME; in CATEGORIES order.
_AFFINITY = np.array([
    [1.6, 0.3, 0.6, 0.2, 1.2, 0.8, 1.3, 0.6],
    [1.2, 1.2, 1.0, 1.0, 0.8, 0.5, 0.8, 0.7],
    [0.6, 1.0, 1.0, 1.0, 0.5, 0.2, 0.5, 0.5],
])
_SELECT_RATE = {"금융": .62, "기술": .28, "인력": .65, "수출": .45, "내수": .42, "창업": .16, "경영": .45, "기타": .40}
_SELECT_SIZE = np.array([-0.15, 0.1, 0.2, 0.0, -0.3])
_DECISION_DAYS = {"금융": 25, "기술": 60, "창업": 50, "수출": 35, "인력": 30, "내수": 35, "경영": 35, "기타": 40}
_HOUR_WEIGHT = np.array([1, 1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 15, 10, 14, 16, 15, 13, 10, 7, 5, 4, 3, 2, 1], float)
_MONTH_WEIGHT = np.array([3.0, 2.4, 2.0, 1.2, 0.9, 0.8, 0.8, 0.7, 0.7, 0.7, 0.6, 0.4])
_SPAN_DAYS = 1096  # 2023-11-01 .. 2026-10-31


def _bits(values: pd.Series, universe: list[str]) -> np.ndarray:
    """Bit mask per list of codes; an empty list means no restriction (all bits)."""
    pos = {v: 1 << i for i, v in enumerate(universe)}
    full = (1 << len(universe)) - 1
    return np.array([sum(pos[v] for v in lst) if len(lst) else full for lst in values], dtype=np.int64)


def _eligible(fi: np.ndarray, pi: np.ndarray, day: np.ndarray, F: dict, P: dict) -> np.ndarray:
    age_days = day - F["founded"][fi]
    age = np.floor(age_days / 365.25)
    return ((P["size"][pi] & F["size"][fi]) != 0) & ((P["region"][pi] & F["region"][fi]) != 0) \
        & ((P["ind"][pi] & F["ind"][fi]) != 0) & ((P["cert"][pi] & ~F["cert"][fi]) == 0) \
        & (age_days >= 0) & (age >= P["min_age"][pi]) & (age <= P["max_age"][pi]) \
        & (F["rev"][fi] >= P["min_rev"][pi]) & (F["rev"][fi] <= P["max_rev"][pi]) \
        & (F["emp"][fi] >= P["min_emp"][pi]) & (F["emp"][fi] <= P["max_emp"][pi])


def generate(rng: np.random.Generator, scale: float, as_of: date, firms: Firms,
             programs: pd.DataFrame, popularity: np.ndarray, channels: pd.DataFrame) -> pd.DataFrame:
    ft = firms.table
    n_apps = round(1_000_000 * scale)
    nf, npg = len(ft), len(programs)
    start = np.datetime64(WINDOW_START, "D").astype(np.int64)
    end = np.datetime64(as_of, "D").astype(np.int64)
    regions = REGIONS
    size_i, region_i = firms.size_i, firms.region_i
    cert = sum((ft[f"cert_{c}"].to_numpy().astype(np.int64) << i) for i, c in enumerate(_CERTS))
    F = {"size": 1 << size_i, "region": 1 << region_i,
         "ind": 1 << firms.sec_i,
         "cert": cert, "founded": ft["founded_on"].to_numpy().astype("datetime64[D]").astype(np.int64),
         "rev": ft["revenue_krw"].to_numpy(float), "emp": ft["employees"].to_numpy(float)}
    P = {"size": _bits(programs["target_sizes"], SIZES), "region": _bits(programs["target_regions"], regions),
         "ind": _bits(programs["target_industries"], SECTIONS), "cert": _bits(programs["required_certs"], _CERTS),
         "min_age": programs["min_age_years"].fillna(-1).to_numpy(float),
         "max_age": programs["max_age_years"].fillna(999).to_numpy(float),
         **{key: programs[col].astype(float).fillna(fill).to_numpy() for key, col, fill in (
             ("min_rev", "min_revenue_krw", -np.inf), ("max_rev", "max_revenue_krw", np.inf),
             ("min_emp", "min_employees", -np.inf), ("max_emp", "max_employees", np.inf))}}
    P["cert"][programs["required_certs"].str.len().to_numpy() == 0] = 0

    # application window per program, in days, cut to the 3 years before as_of
    always = programs["always_open"].to_numpy()
    ws = np.where(always, start, programs["opens_on"].to_numpy().astype("datetime64[D]").astype(np.int64))
    we = np.where(always, end, programs["closes_on"].to_numpy().astype("datetime64[D]").astype(np.int64))
    ws, we = np.maximum(ws, start), np.minimum(we, end)
    open_ = we >= ws
    days = np.arange(start, end + 1)
    season = _MONTH_WEIGHT[days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12]

    # who applies
    region_eff = rng.normal(0, 0.25, len(regions))
    any_cert = cert > 0
    young = (end - F["founded"]) < 7 * 365
    propensity = np.exp(_APPLY_SIZE[size_i] + region_eff[region_i] + 0.25 * firms.t + 0.1 * firms.z
                        + 0.3 * young + 0.4 * any_cert + rng.normal(0, 0.7, nf))
    propensity /= propensity.sum()
    group = np.select([size_i == 0, size_i <= 2], [0, 1], 2)  # micro, small/medium, midsize/large
    cat_i = programs["category"].map({c: i for i, c in enumerate(CATEGORIES)}).to_numpy()
    tech = firms.t > 0.8
    kind = group * 4 + tech * 2 + young  # 12 firm kinds with their own program preferences
    prog_p = []
    for k in range(12):
        aff = _AFFINITY[k // 4][cat_i] * np.where(cat_i == 1, 2.0, 1.0) ** ((k // 2) % 2) \
            * np.where(cat_i == 5, 2.5, 1.0) ** (k % 2)
        w = popularity * aff * open_
        prog_p.append(np.cumsum(w / w.sum()))

    fi = rng.choice(nf, n_apps, p=propensity)
    pi = np.zeros(n_apps, dtype=np.int64)
    day = np.zeros(n_apps, dtype=np.int64)
    season_cdf = np.cumsum(season / season.sum())
    todo = np.arange(n_apps)
    for attempt in range(60):
        if attempt and attempt % 6 == 0:  # a firm that finds nothing suitable is replaced by another
            fi[todo] = rng.choice(nf, len(todo), p=propensity)
        k = kind[fi[todo]]
        u = rng.random(len(todo))
        cand = np.zeros(len(todo), dtype=np.int64)
        for kk in range(12):
            m = k == kk
            cand[m] = np.minimum(np.searchsorted(prog_p[kk], u[m]), npg - 1)
        # deadline rush: submissions bunch up towards the closing date
        span = we[cand] - ws[cand] + 1
        d = ws[cand] + np.floor(span * np.sqrt(rng.random(len(todo)))).astype(np.int64)
        seasonal = days[np.minimum(np.searchsorted(season_cdf, rng.random(len(todo))), len(days) - 1)]
        d = np.where(always[cand], seasonal, d)
        ok = _eligible(fi[todo], cand, d, F, P)
        pi[todo[ok]], day[todo[ok]] = cand[ok], d[ok]
        todo = todo[~ok]
        if not len(todo):
            break
    keep = np.ones(n_apps, dtype=bool)
    keep[todo] = False
    fi, pi, day = fi[keep], pi[keep], day[keep]
    n = len(fi)

    secs = rng.choice(24, n, p=_HOUR_WEIGHT / _HOUR_WEIGHT.sum()) * 3600 + rng.integers(0, 3600, n)
    submitted = day * 86400 + secs  # seconds since epoch
    tau = (day - start) / _SPAN_DAYS
    cat = cat_i[pi]

    # outcome of the evaluation
    base = np.log([_SELECT_RATE[c] / (1 - _SELECT_RATE[c]) for c in CATEGORIES])[cat]
    sel_region = rng.normal(0, 0.3, len(regions))
    techy = np.isin(cat, [CATEGORIES.index("기술"), CATEGORIES.index("창업")])
    logit = base + _SELECT_SIZE[size_i[fi]] + sel_region[region_i[fi]] + 0.5 * firms.z[fi] \
        + 0.35 * firms.t[fi] * techy + 0.3 * any_cert[fi] + rng.normal(0, 0.8, n)
    selected = rng.random(n) < 1 / (1 + np.exp(-logit))
    withdrawn = rng.random(n) < np.where(size_i[fi] == 0, 0.04, 0.025)
    delay = np.exp(np.log([_DECISION_DAYS[c] for c in CATEGORIES])[cat] + 0.45 * rng.standard_normal(n))
    decide_from = np.where(always[pi], day, np.maximum(day, we[pi]))
    decided_day = np.where(withdrawn, day + rng.integers(1, 20, n), decide_from + np.round(delay * 0.8))
    decided = decided_day * 86400 + rng.integers(9 * 3600, 18 * 3600, n)
    decided = np.maximum(decided, submitted + 3600)
    pending = decided_day > end
    status = np.select([pending, withdrawn, selected], [0, 3, 1], 2)  # codes of _STATUSES
    is_sel = status == 1
    agreed = decided + np.round(np.exp(np.log(12) + 0.5 * rng.standard_normal(n))).astype(np.int64) * 86400
    agreed_ok = is_sel & (agreed // 86400 <= end)
    e_contract = agreed_ok & (rng.random(n) < 0.5 + 0.42 * tau)
    paid = agreed + rng.integers(3, 25, n) * 86400
    paid_ok = agreed_ok & (paid // 86400 <= end)

    max_award = programs["max_award_krw"].to_numpy()[pi]
    size_factor = np.array([0.45, 0.8, 1.0, 1.0, 1.0])[size_i[fi]]
    requested = np.maximum(np.round(max_award * size_factor * rng.uniform(0.3, 1.0, n), -6), 1e6).astype(np.int64)
    awarded = np.where(is_sel, np.round(requested * rng.uniform(0.6, 1.0, n), -5), 0).astype(np.int64)

    # channel: the program's own, or an offline desk (less often as time goes on); codes index ch_ids
    ch_ids = channels["channel_id"].to_numpy()
    ch_pos = {c: i for i, c in enumerate(ch_ids)}
    prog_ch = programs["channel_id"].map(ch_pos).to_numpy()
    prog_desk = np.array([ch_pos["LOC04" if c.startswith("LOC") else "OFF01" if c.startswith("GOV")
                                 else "MSS36" if a == "소상공인시장진흥공단" else "MSS35"]
                          for c, a in zip(programs["channel_id"], programs["agency"])])
    offline = rng.random(n) < np.where(size_i[fi] == 0, 0.12, 0.04) * (1 - 0.6 * tau)
    channel = np.where(offline, prog_desk[pi], prog_ch[pi])

    required = programs["docs_required"].to_numpy()[pi]
    rate = programs["docs_auto_linked"].to_numpy()[pi] / required * np.where(offline, 0.5, 1.0)
    auto = rng.binomial(required, np.clip(rate + 0.05 * (tau - 0.5), 0, 1))
    extra = (rng.random(n) < 0.1).astype(np.int64)  # a supplementary document now and then

    order = np.lexsort((fi, submitted))

    def ts(seconds: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
        out = seconds[order].astype("datetime64[s]")
        return out if valid is None else np.where(valid[order], out, np.datetime64("NaT"))
    out = pd.DataFrame({
        "application_id": np.arange(1, n + 1, dtype=np.int64),
        "firm_id": ft["firm_id"].to_numpy()[fi][order],
        "program_id": pd.Categorical.from_codes(pi[order], programs["program_id"]),
        "submitted_at": ts(submitted),
        "channel_id": pd.Categorical.from_codes(channel[order], ch_ids),
        "status": pd.Categorical.from_codes(status[order], _STATUSES),
        "amount_requested_krw": requested[order],
        "amount_awarded_krw": awarded[order],
        "docs_submitted": (required - auto + extra)[order],
        "docs_auto_linked": auto[order],
        "decided_at": ts(decided, ~pending),
        "agreed_at": ts(agreed, agreed_ok),
        "e_contract": e_contract[order],
        "paid_at": ts(paid, paid_ok),
    })
    return out
