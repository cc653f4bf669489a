"""Fellegi–Sunter evidence weights estimated from the data (Splink's approach), stored with each run.

For each evidence group g (contact, network, money, place, document, plan):

* **u** — how often two *random* firms agree on g: for identifiers the exact random-pair rate
  ``sum_v f_v (f_v - 1) / (F (F - 1))`` over the values v of the group's kinds (f_v firms carry v, F
  firms carry the kind), for plans the share of all plan pairs that pass the similarity threshold.
  Sharing one particular value is term-frequency adjusted: its u is ``f_v / F``.
* **m** — how often two applications of one network agree on g, by expectation–maximisation over
  the agreement patterns of the candidate pairs (pairs that share at least one rare value or a
  near-duplicate plan): a two-class mixture with conditionally independent groups, *truncated*
  as the candidates are: a pair that agrees on nothing is never a candidate, so each class's
  pattern probabilities are conditioned on agreeing on something and its pairs that agree on
  nothing are missing data (without this the unrelated pairs, each agreeing on exactly one group,
  fit no class of independent groups, and the linked class latched onto whichever group makes
  most candidates: contact at scale 10, m 1.00). Fitted *monotone* (Winkler's constrained EM):
  the linked class agrees on every group at least as often as the other class and as two random
  firms, ``m_g >= u_g``, so agreeing is never evidence against a link. Unconstrained, the
  likelihood's best fit made "linked" the firms that sit together (co-working tenants, an
  incubator's firms, a family at one home: a shared address and Wi-Fi) and "unlinked" the pairs
  that share an author's name or a plan, which put sharing an author at -3 bits on the
  independent generator's data, where two members of one ring share one 14% of the time and two
  random firms 0.09%; which group the fit put on the wrong side changed with the data's seed. Related
  honest firms are still linked pairs to the constrained fit, so its m of place and network lies
  above the rings' own (it is the share among related pairs); whether a cluster is a ring is
  judged on the cluster. Fitted from several starting points, the fit of highest likelihood kept
  (:func:`em`). As in Splink, EM only supplies m; u comes from random pairs, where the mixture's
  own u would describe candidates.
  When the records hold **confirmed cases** (an auditor referred the cluster: a ring confirmed),
  m comes from them instead, as Splink does with a labelled seed set: the share of pairs of
  different firms inside one confirmed case that agree on g (:func:`seeded_m`, with a Jeffreys
  prior ``(agree + 1/2) / (pairs + 1)``); EM then only estimates the prior (m held fixed).
* **lambda** — the share of candidate pairs in the linked class (the prior).

A shared value then weighs ``log2(m_g / u_v)`` bits (a bank account nobody else uses: strong on
its own; a building address of 150 firms: weak), a group the pair does not share
``log2((1 - m_g) / (1 - u_g))``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import NamedTuple

import duckdb
import numba
import numpy as np
import pandas as pd

from analytics.brokers.links import GROUPS

EM_GROUPS = ("contact", "network", "money", "place", "document", "plan")


@dataclass
class Weights:
    """Estimated m and u per evidence group, the prior, and how they were estimated."""

    m: dict[str, float]
    u: dict[str, float]
    prior: float                      # lambda: share of candidate pairs in the linked class
    pairs: int                        # candidate pairs the EM saw
    iterations: int
    source: str = "em"                # em; cases (m from confirmed cases); or the defaults (too few pairs)
    per_kind_u: dict[str, float] = field(default_factory=dict)
    seed_pairs: int = 0               # pairs of confirmed cases m was counted on (source 'cases')
    starts: int = 1                   # EM starting points, the fit of highest likelihood kept (em)
    loglik: float = 0.0               # log-likelihood of the candidates' patterns under the kept fit

    def agree(self, group: str) -> float:
        """Bits for agreeing on the group at its average value (no term-frequency adjustment)."""
        return float(np.log2(self.m[group] / max(self.u[group], 1e-12)))

    def disagree(self, group: str) -> float:
        return float(np.log2(max(1 - self.m[group], 1e-6) / max(1 - self.u[group], 1e-6)))

    def to_json(self) -> dict:
        return asdict(self)


def random_pair_u(con: duckdb.DuckDBPyConnection) -> tuple[dict[str, float], dict[str, float]]:
    """(u per group, u per kind): the chance that two random firms share a value of the kind.

    Needs ``_df``/``_tot`` of :func:`analytics.brokers.links.value_frequencies`; exact, not sampled."""
    rows = con.execute("""
        SELECT kind, sum(firms::DOUBLE * (firms - 1)) / any_value(t.total::DOUBLE * (t.total - 1)) AS u
        FROM _df JOIN _tot t USING (kind) WHERE t.total > 1 GROUP BY kind
    """).fetchall()
    per_kind = {k: float(u) for k, u in rows}
    per_group: dict[str, float] = {}
    for kind, u in per_kind.items():
        g = GROUPS[kind]
        per_group[g] = 1 - (1 - per_group.get(g, 0.0)) * (1 - u)  # either kind of the group agrees
    return per_group, per_kind


@numba.njit(cache=True)
def _monotone(a1: float, n1: float, a0: float, n0: float, floor: float) -> tuple[float, float]:
    """(m, u) of one group maximising ``a1 log m + (n1 - a1) log(1 - m) + a0 log u + (n0 - a0) log(1 - u)``
    (the M-step's expected complete-data log-likelihood of the group: ``a`` agreeing of ``n`` pairs
    per class) subject to ``m >= u`` and ``m >= floor``, both kept within [1e-4, 1 - 1e-4]. Each
    term is concave with its peak at ``a / n``: when the peaks violate ``m >= u`` the optimum lies
    on ``m = u``, at the pooled rate; a peak of m under the floor moves to the floor, and u then
    to its own peak or the floor, whichever is lower."""
    lo, hi = 1e-4, 1 - 1e-4
    floor = min(max(floor, lo), hi)
    m, u = min(max(a1 / n1, lo), hi), min(max(a0 / n0, lo), hi)
    if m >= u:
        return max(m, floor), u
    pooled = min(max((a1 + a0) / (n1 + n0), lo), hi)
    if pooled >= floor:
        return pooled, pooled
    return floor, min(u, floor)


@numba.njit(cache=True)
def _fit(x: np.ndarray, n: np.ndarray, m: np.ndarray, u: np.ndarray, lam: float, fit_m: bool, floor: np.ndarray,
         iterations: int, tol: float) -> tuple[np.ndarray, np.ndarray, float, int, float]:
    """EM of the truncated mixture (see :func:`em`) from one starting point, in place on ``m``, ``u``:
    (m, u, lambda, iterations run, log-likelihood). Each class's pattern probability is divided by
    its chance of agreeing on at least one group (the candidates are the pairs that do), and its
    pairs that agree on nothing count as missing data, ``N P(none) / (1 - P(none))`` for a class
    of ``N`` candidates. The M-step maximises under ``m_j >= u_j`` and ``m_j >= floor_j`` (see
    :func:`_monotone`). Compiled: a start runs thousands of iterations over a few dozen patterns,
    where numpy's per-call cost is the whole cost."""
    rows, k = x.shape
    total = n.sum()
    r = np.empty(rows)
    last, ll, it = -np.inf, -np.inf, 0
    for it in range(1, iterations + 1):
        none_m, none_u = 1.0, 1.0
        for j in range(k):
            none_m *= 1 - m[j]
            none_u *= 1 - u[j]
        seen_m, seen_u = max(1 - none_m, 1e-12), max(1 - none_u, 1e-12)
        ll = 0.0
        for i in range(rows):
            pm, pu = lam / seen_m, (1 - lam) / seen_u
            for j in range(k):
                if x[i, j] > 0:
                    pm *= m[j]
                    pu *= u[j]
                else:
                    pm *= 1 - m[j]
                    pu *= 1 - u[j]
            both = max(pm + pu, 1e-300)
            ll += n[i] * np.log(both)
            r[i] = pm / both
        if abs(ll - last) < tol * total:
            break
        last = ll
        w1 = r * n
        w0 = n - w1
        n1, n0 = max(w1.sum() / seen_m, 1e-12), max(w0.sum() / seen_u, 1e-12)
        for j in range(k):
            a1, a0 = 0.0, 0.0
            for i in range(rows):
                if x[i, j] > 0:
                    a1 += w1[i]
                    a0 += w0[i]
            if fit_m:
                m[j], u[j] = _monotone(a1, n1, a0, n0, floor[j])
            else:
                u[j] = min(max(a0 / n0, 1e-4), 1 - 1e-4)
        lam = min(max(w1.sum() / total, 1e-4), 1 - 1e-4)
    return m, u, lam, it, ll


class Fit(NamedTuple):
    """What :func:`em` found: m, u within the candidates, lambda, the iterations run, and the
    log-likelihood of the patterns under the fit."""

    m: dict[str, float]
    u: dict[str, float]
    prior: float
    iterations: int
    loglik: float


def em(patterns: pd.DataFrame, groups: tuple[str, ...] = EM_GROUPS, *, iterations: int = 20000, tol: float = 1e-9,
       fixed_m: dict[str, float] | None = None, floor: dict[str, float] | None = None, starts: int = 30,
       seed: int = 0) -> Fit:
    """Two-class EM on agreement patterns (one 0/1 column per group and ``n``, the pairs with that
    pattern). With ``fixed_m`` (m known from confirmed cases) only u and lambda are estimated.
    Otherwise m is fitted monotone: ``m_g >= u_g`` (the linked class is the one that agrees more
    on every group, which also tells the two classes apart) and ``m_g >= floor[g]`` (u of random
    pairs: agreeing is then never evidence against a link in the weights the run shows).

    Candidates all agree on at least one group, so the model is truncated (see the module
    docstring): each class's pairs that agree on nothing count as missing data. Its likelihood
    has several local maxima (a class of "the pairs that share a plan", of "the pairs that share
    an address"), so EM runs from ``starts`` starting points (the first a fixed neutral one, the
    others drawn with ``seed``), each until its log-likelihood grows by less than ``tol`` per pair
    in an iteration (at most ``iterations``), and the fit of highest likelihood is kept."""
    x = patterns[list(groups)].to_numpy(dtype=float)
    n = patterns["n"].to_numpy(dtype=float)
    k, runs = len(groups), max(starts, 1)
    rng = np.random.default_rng(seed)
    rates = (x * n[:, None]).sum(0) / n.sum()
    # one row per start (the first the neutral start)
    m = rng.uniform(0.05, 0.95, (runs, k)) if fixed_m is None else np.tile([fixed_m[g] for g in groups], (runs, 1))
    u, lam = rng.uniform(0.001, 0.5, (runs, k)), rng.uniform(0.05, 0.5, runs)
    u[0], lam[0] = np.clip(rates, 0.01, 0.9) * 0.5, 0.1
    if fixed_m is None:
        m[0] = 0.6
        m, u = np.maximum(m, u), np.minimum(m, u)   # every start inside the constraint
    low = np.array([(floor or {}).get(g, 0.0) for g in groups])
    fits = [_fit(x, n, m[i], u[i], float(lam[i]), fixed_m is None, low, iterations, tol) for i in range(runs)]
    ll = np.array([f[4] for f in fits])
    best = int(np.argmax(ll))   # the first of equal fits
    m, u, lam_best, it = fits[best][0], fits[best][1], fits[best][2], fits[best][3]
    return Fit(dict(zip(groups, m.round(4).tolist())), dict(zip(groups, u.round(4).tolist())), round(lam_best, 5), it,
               round(float(ll[best]), 2))


def seeded_m(con: duckdb.DuckDBPyConnection, seeds: list[list[int]], plans: pd.DataFrame) -> tuple[dict[str, float], int]:
    """(m per group, pairs): over the pairs of applications of different firms inside one confirmed
    case (``seeds``: the application ids of each case), the share that agree on each group, with a
    Jeffreys prior (``(agree + 1/2) / (pairs + 1)``). Agreement is what the links see: a shared
    value under the DF cap (``_ids``, :func:`analytics.brokers.links.identifier_pairs`) or a similar
    plan pair (``plans``: app_a, app_b)."""
    rows = [(a, i) for i, apps in enumerate(seeds) for a in dict.fromkeys(apps)]
    if not rows:
        return {g: 0.5 for g in EM_GROUPS}, 0
    con.register("_seed", pd.DataFrame(rows, columns=["application_id", "case_no"]).astype("int64"))
    con.register("_seed_plans", plans[["app_a", "app_b"]] if len(plans) else pd.DataFrame({"app_a": [0], "app_b": [0]}))
    pairs = con.execute("""
        WITH s AS (SELECT s.application_id, s.case_no, a.firm_id FROM _seed s JOIN applications a USING (application_id))
        SELECT count(*) FROM s x JOIN s y ON x.case_no = y.case_no AND x.application_id < y.application_id
        WHERE x.firm_id <> y.firm_id
    """).fetchall()[0][0]
    agree = dict(con.execute("""
        WITH ev AS (
            SELECT DISTINCT app_a, app_b, grp FROM _ids
            UNION SELECT app_a, app_b, 'plan' AS grp FROM _seed_plans
        )
        SELECT grp, count(DISTINCT (ev.app_a, ev.app_b)) FROM ev
        JOIN _seed x ON x.application_id = ev.app_a JOIN _seed y ON y.application_id = ev.app_b AND x.case_no = y.case_no
        GROUP BY grp
    """).fetchall())
    return {g: round((agree.get(g, 0) + 0.5) / (pairs + 1), 4) for g in EM_GROUPS}, int(pairs)


def estimate(con: duckdb.DuckDBPyConnection, plan_pairs: int, plans: int, *, default_m: float = 0.9,
             min_pairs: int = 50, seeds: list[list[int]] | None = None, plan_links: pd.DataFrame | None = None,
             min_seed_pairs: int = 30, starts: int = 30) -> Weights:
    """m by EM over the candidate pairs in ``_links`` (:func:`analytics.brokers.links.combine`), u from
    random pairs; ``plan_pairs`` similar plan pairs among ``plans`` plans give the plan group's u.

    ``seeds``: the applications of confirmed cases (see :func:`seeded_m`); when they hold at least
    ``min_seed_pairs`` pairs of different firms, m is counted on them (source 'cases') and EM only
    estimates the prior. ``plan_links``: the similar plan pairs (app_a, app_b) for that count.
    ``starts``: EM's starting points (:func:`em`)."""
    u, per_kind = random_pair_u(con)
    u["plan"] = plan_pairs / max(plans * (plans - 1) / 2, 1)
    cols = ", ".join(f"list_contains(groups, '{g}')::INTEGER AS {g}" for g in EM_GROUPS)
    patterns = con.execute(f"SELECT {cols}, count(*) AS n FROM _links GROUP BY ALL").df()
    total = int(patterns["n"].sum()) if len(patterns) else 0
    u = {g: float(u.get(g, 1e-9)) for g in EM_GROUPS}
    if total < min_pairs:
        return Weights({g: default_m for g in EM_GROUPS}, u, 0.5, total, 0, source="default", per_kind_u=per_kind)
    if seeds:
        sm, seed_pairs = seeded_m(con, seeds, plan_links if plan_links is not None else pd.DataFrame(columns=["app_a", "app_b"]))
        if seed_pairs >= min_seed_pairs:
            fit = em(patterns, fixed_m=sm, starts=starts)
            return Weights(sm, u, fit.prior, total, fit.iterations, source="cases", per_kind_u=per_kind,
                           seed_pairs=seed_pairs, starts=starts, loglik=fit.loglik)
    fit = em(patterns, floor=u, starts=starts)
    return Weights(fit.m, u, fit.prior, total, fit.iterations, per_kind_u=per_kind, starts=starts, loglik=fit.loglik)


def table(stored: dict) -> pd.DataFrame:
    """The weights of a run as stored (``params['stats']['weights']``), one row per group: m, u,
    bits for agreeing (at the group's average value) and for disagreeing."""
    if not stored:
        return pd.DataFrame(columns=["group", "m", "u", "agree_bits", "disagree_bits"])
    w = Weights(**stored)
    return pd.DataFrame([{"group": g, "m": w.m[g], "u": w.u[g], "agree_bits": round(w.agree(g), 2),
                          "disagree_bits": round(w.disagree(g), 2)} for g in EM_GROUPS if g in w.m])


def waterfall(stored: dict, shared: pd.DataFrame) -> pd.DataFrame:
    """Splink's waterfall of one pair with the run's estimated weights: the prior, then per group
    the bits of its best shared value (``log2(m / u_v)`` with ``u_v`` = firms with the value / firms
    with the kind) or of disagreeing. ``shared``: counted evidence rows with group, firms, total
    (identifiers) or group 'plan'. Rows: term, group, value, bits; the last row is the total."""
    w = Weights(**stored)
    rows = [{"term": "prior", "group": "", "value": f"λ = {w.prior:.3f}",
             "bits": float(np.log2(w.prior / max(1 - w.prior, 1e-9)))}]
    for g in EM_GROUPS:
        mine = shared[shared["group"] == g] if len(shared) else shared
        if len(mine) and g != "plan":
            best = mine.sort_values("firms").iloc[0]
            u_v = float(best["firms"]) / max(float(best["total"]), 1.0)
            rows.append({"term": "agree", "group": g, "value": str(best["value"]),
                         "bits": float(np.log2(w.m[g] / max(u_v, 1e-12)))})
        elif len(mine):
            rows.append({"term": "agree", "group": g, "value": str(mine.iloc[0]["value"]), "bits": w.agree(g)})
        else:
            rows.append({"term": "disagree", "group": g, "value": "", "bits": w.disagree(g)})
    out = pd.DataFrame(rows)
    out["bits"] = out["bits"].round(2)
    total = float(out["bits"].sum())
    return pd.concat([out, pd.DataFrame([{"term": "total", "group": "", "value": f"p = {2**total / (1 + 2**total):.3f}",
                                          "bits": round(total, 2)}])], ignore_index=True)
