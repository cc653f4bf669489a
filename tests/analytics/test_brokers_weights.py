"""Fellegi-Sunter weights (analytics/brokers/weights.py): EM recovers known m, random-pair u equals
a brute-force count over all pairs of firms, and the waterfall adds up."""
from __future__ import annotations

import itertools

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics.brokers import weights


@pytest.mark.parametrize("lam, m, u", [
    # as at scale 1: linked pairs a third of the candidates
    (0.37, [0.39, 0.31, 0.22, 0.01, 0.05, 0.10], [0.15, 0.2, 0.05, 0.01, 0.15, 0.05]),
    # as at scale 10: honest pairs sharing a contact make most candidates
    (0.08, [0.32, 0.33, 0.21, 0.01, 0.05, 0.15], [0.45, 0.05, 0.03, 0.01, 0.1, 0.02]),
    (0.3, [0.9, 0.7, 0.2, 0.5, 0.3, 0.6], [0.05, 0.1, 0.01, 0.2, 0.05, 0.02]),
])
def test_em_recovers_a_known_mixture(lam: float, m: list[float], u: list[float]) -> None:
    rng = np.random.default_rng(3)
    groups = weights.EM_GROUPS
    n = 200_000
    linked = rng.random(n) < lam
    x = np.where(linked[:, None], rng.random((n, 6)) < np.array(m), rng.random((n, 6)) < np.array(u)).astype(int)
    patterns = pd.DataFrame(x, columns=list(groups)).value_counts().rename("n").reset_index()
    fit = weights.em(patterns)
    assert [fit.m[g] for g in groups] == pytest.approx(m, abs=0.03)
    assert [fit.u[g] for g in groups] == pytest.approx(u, abs=0.03)
    assert fit.prior == pytest.approx(lam, abs=0.05)
    # the likelihood is at its maximum: at least that of the parameters the pairs were drawn from
    xs, ns = patterns[list(groups)].to_numpy(float), patterns["n"].to_numpy(float)
    assert fit.loglik >= _log_likelihood(xs, ns, np.array(m), np.array(u), lam) - 0.01


# Agreement patterns of the candidate pairs of a generated set (scale 0.05, seed 7): (contact,
# network, money, place, document, plan, pairs). Candidates all agree on at least one group, which
# no two-class model with independent groups fits exactly, and the likelihood has several maxima:
# EM from the neutral start alone settles on "the pairs that share a contact" (m contact 1.00).
CANDIDATES = [(0, 0, 0, 0, 1, 0, 7619), (0, 1, 0, 0, 0, 0, 4594), (1, 0, 0, 0, 0, 0, 3353), (0, 0, 1, 0, 0, 0, 2099),
              (0, 0, 0, 0, 0, 1, 1329), (0, 1, 0, 0, 1, 0, 291), (1, 0, 0, 0, 1, 0, 217), (1, 1, 0, 0, 0, 0, 179),
              (0, 1, 0, 0, 0, 1, 177), (1, 0, 0, 0, 0, 1, 158), (0, 0, 0, 0, 1, 1, 144), (1, 1, 0, 0, 1, 0, 121),
              (1, 1, 0, 0, 0, 1, 113), (0, 1, 0, 0, 1, 1, 37), (1, 0, 0, 0, 1, 1, 9), (0, 0, 0, 1, 0, 0, 2)]


def _log_likelihood(x: np.ndarray, n: np.ndarray, m: np.ndarray, u: np.ndarray, lam: float) -> float:
    pm = lam * np.prod(m ** x * (1 - m) ** (1 - x), axis=1)
    pu = (1 - lam) * np.prod(u ** x * (1 - u) ** (1 - x), axis=1)
    return float(n @ np.log(pm + pu))


def test_em_keeps_the_fit_of_highest_likelihood() -> None:
    from scipy.optimize import minimize

    groups = weights.EM_GROUPS
    patterns = pd.DataFrame(CANDIDATES, columns=[*groups, "n"])
    x, n = patterns[list(groups)].to_numpy(float), patterns["n"].to_numpy(float)
    fit = weights.em(patterns)
    vec = lambda d: np.array([d[g] for g in groups])  # noqa: E731
    assert fit.loglik == pytest.approx(_log_likelihood(x, n, vec(fit.m), vec(fit.u), fit.prior), abs=1.0)
    # the oracle: a general-purpose optimiser of the same likelihood, with its gradient, from many
    # starts and within EM's bounds on each probability, finds nothing higher
    def neg(z: np.ndarray) -> tuple[float, np.ndarray]:
        m, u, lam = z[:6], z[6:12], z[12]
        pm = lam * np.prod(m ** x * (1 - m) ** (1 - x), axis=1)
        pu = (1 - lam) * np.prod(u ** x * (1 - u) ** (1 - x), axis=1)
        r, w = pm / (pm + pu), n / (pm + pu)
        dm = ((n * r)[:, None] * (x / m - (1 - x) / (1 - m))).sum(0)
        du = ((n * (1 - r))[:, None] * (x / u - (1 - x) / (1 - u))).sum(0)
        return -float(n @ np.log(pm + pu)), -np.concatenate([dm, du, [float(w @ (pm / lam - pu / (1 - lam)))]])

    rng = np.random.default_rng(1)
    best = max(-minimize(neg, rng.uniform(0.01, 0.99, 13), jac=True, method="L-BFGS-B",
                         bounds=[(1e-4, 1 - 1e-4)] * 13).fun for _ in range(12))
    assert fit.loglik >= best - 1.0
    alone = weights.em(patterns, starts=1)   # the neutral start alone: a lower maximum
    assert alone.m["contact"] > 0.99 and alone.loglik < fit.loglik - 1000
    assert fit.m["contact"] < 0.5 and fit.m["network"] > fit.m["contact"]


def test_random_pair_u_is_the_share_of_firm_pairs_that_agree() -> None:
    rng = np.random.default_rng(5)
    rows = [(f, k, f"{k}{rng.integers(0, 6 if k == 'ip' else 40)}") for f in range(60) for k in ("ip", "phone", "email")]
    fp = pd.DataFrame(rows, columns=["firm_id", "kind", "value"])
    con = duckdb.connect()
    con.register("fp", fp)
    con.execute("CREATE TEMP TABLE _df AS SELECT kind, value, count(DISTINCT firm_id) AS firms FROM fp GROUP BY ALL")
    con.execute("CREATE TEMP TABLE _tot AS SELECT kind, count(DISTINCT firm_id) AS total FROM fp GROUP BY ALL")
    per_group, per_kind = weights.random_pair_u(con)
    vals = {k: dict(zip(g["firm_id"], g["value"])) for k, g in fp.groupby("kind")}
    pairs = list(itertools.combinations(range(60), 2))
    for k in ("ip", "phone", "email"):
        assert per_kind[k] == pytest.approx(np.mean([vals[k][a] == vals[k][b] for a, b in pairs]))
    # contact = phone or e-mail agreeing (taken as independent kinds)
    want = 1 - (1 - per_kind["phone"]) * (1 - per_kind["email"])
    assert per_group["contact"] == pytest.approx(want)


def test_waterfall_adds_up_and_rarer_values_weigh_more() -> None:
    stored = weights.Weights(m=dict.fromkeys(weights.EM_GROUPS, 0.5), u=dict.fromkeys(weights.EM_GROUPS, 1e-4),
                             prior=0.2, pairs=100, iterations=5).to_json()
    shared = pd.DataFrame({"group": ["money", "place"], "value": ["110-1", "서울 1"], "firms": [2, 150],
                           "total": [40_000, 40_000]})
    w = weights.waterfall(stored, shared)
    assert w["bits"].iloc[:-1].sum() == pytest.approx(w["bits"].iloc[-1], abs=0.05)
    bits = w.set_index("group")["bits"]
    assert bits["money"] == pytest.approx(np.log2(0.5 / (2 / 40_000)), abs=0.01)
    assert bits["money"] > bits["place"] > 0
    assert bits["contact"] == pytest.approx(np.log2(0.5 / (1 - 1e-4)), abs=0.01)   # disagreeing
    assert list(weights.table(stored)["group"]) == list(weights.EM_GROUPS)


def test_em_with_m_known_from_cases_estimates_only_the_prior() -> None:
    rng = np.random.default_rng(4)
    m = dict(zip(weights.EM_GROUPS, [0.9, 0.7, 0.2, 0.5, 0.3, 0.6]))
    u = np.array([0.05, 0.1, 0.01, 0.2, 0.05, 0.02])
    n, lam = 30_000, 0.2
    linked = rng.random(n) < lam
    x = np.where(linked[:, None], rng.random((n, 6)) < np.array(list(m.values())), rng.random((n, 6)) < u).astype(int)
    patterns = pd.DataFrame(x, columns=list(weights.EM_GROUPS)).value_counts().rename("n").reset_index()
    got_m, _, got_lam, _, _ = weights.em(patterns, fixed_m=m)
    assert got_m == pytest.approx(m)
    assert got_lam == pytest.approx(lam, abs=0.02)


def _seed_con() -> duckdb.DuckDBPyConnection:
    """Six applications: 1-4 one confirmed case (1 and 2 of one firm), 5-6 another."""
    con = duckdb.connect()
    con.register("applications", pd.DataFrame({"application_id": [1, 2, 3, 4, 5, 6], "firm_id": [10, 10, 11, 12, 13, 14]}))
    con.register("_ids", pd.DataFrame({"app_a": [1, 1, 1, 3, 5, 2, 4], "app_b": [3, 3, 4, 4, 6, 5, 6],
                                       "grp": ["contact", "money", "contact", "money", "contact", "contact", "money"]}))
    con.execute("CREATE TEMP TABLE _df AS SELECT 'phone' AS kind, 'x' AS value, 2 AS firms")
    con.execute("CREATE TEMP TABLE _tot AS SELECT 'phone' AS kind, 100 AS total")
    con.execute("CREATE TEMP TABLE _links AS SELECT * FROM (VALUES (['contact']), (['money', 'contact'])) t(groups), range(40)")
    return con


def test_m_from_confirmed_cases_counts_pairs_of_different_firms_inside_one_case() -> None:
    con = _seed_con()
    plans = pd.DataFrame({"app_a": [2], "app_b": [4]})
    m, pairs = weights.seeded_m(con, [[1, 2, 3, 4], [5, 6]], plans)
    # case 1: pairs of different firms 1-3, 1-4, 2-3, 2-4, 3-4; case 2: 5-6 (2-5 and 4-6 cross cases)
    assert pairs == 6
    assert m["contact"] == pytest.approx((3 + 0.5) / 7, abs=1e-4)   # 1-3, 1-4, 5-6
    assert m["money"] == pytest.approx((2 + 0.5) / 7, abs=1e-4)     # 1-3, 3-4
    assert m["plan"] == pytest.approx((1 + 0.5) / 7, abs=1e-4)      # 2-4
    assert m["place"] == pytest.approx(0.5 / 7, abs=1e-4)
    # enough confirmed pairs: m is theirs and the source says so; too few: EM
    w = weights.estimate(con, 0, 10, seeds=[[1, 2, 3, 4], [5, 6]], plan_links=plans, min_seed_pairs=5)
    assert (w.source, w.seed_pairs, w.m) == ("cases", 6, m)
    assert weights.estimate(con, 0, 10, seeds=[[5, 6]], plan_links=plans, min_seed_pairs=5).source == "em"


def test_referred_cases_are_the_confirmed_seed_set(tmp_path) -> None:
    from analytics.brokers import cases

    db = tmp_path / "madang.duckdb"
    a = cases.open_case(db, run_id="r1", cluster_id=4, title="군집 #4", user="kim", role="auditor")
    b = cases.open_case(db, run_id="r1", cluster_id=7, title="군집 #7", user="kim", role="auditor")
    cases.open_case(db, run_id="r1", cluster_id=9, title="군집 #9", user="kim", role="auditor")
    for cid in (a, b):
        cases.add_event(db, cid, user="lee", role="auditor", status="investigating")
        cases.add_event(db, cid, user="lee", role="auditor", status="referred")
    cases.add_event(db, b, user="lee", role="auditor", status="investigating")   # reopened: no longer confirmed
    assert cases.confirmed_clusters(db) == [("r1", 4)]
