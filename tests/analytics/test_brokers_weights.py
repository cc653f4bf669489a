"""Fellegi-Sunter weights (analytics/brokers/weights.py): EM recovers known m, fits the maximum under
m >= u (checked against a general constrained optimiser), random-pair u equals a brute-force count
over all pairs of firms, and the waterfall adds up."""
from __future__ import annotations

import itertools

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from analytics.brokers import weights


def _log_likelihood(x: np.ndarray, n: np.ndarray, m: np.ndarray, u: np.ndarray, lam: float) -> float:
    """Of candidate patterns (each agreeing on at least one group) under a two-class mixture."""
    pm = lam * np.prod(m ** x * (1 - m) ** (1 - x), axis=1) / (1 - np.prod(1 - m))
    pu = (1 - lam) * np.prod(u ** x * (1 - u) ** (1 - x), axis=1) / (1 - np.prod(1 - u))
    return float(n @ np.log(pm + pu))


def _candidates(lam: float, m: list[float], u: list[float], pairs: int, seed: int = 3) -> tuple[pd.DataFrame, float]:
    """Patterns of the pairs of a known mixture that agree on at least one group (the candidates),
    and the linked share among them."""
    rng = np.random.default_rng(seed)
    linked = rng.random(pairs) < lam
    x = np.where(linked[:, None], rng.random((pairs, 6)) < np.array(m), rng.random((pairs, 6)) < np.array(u)).astype(int)
    seen = x.any(axis=1)
    patterns = pd.DataFrame(x[seen], columns=list(weights.EM_GROUPS)).value_counts().rename("n").reset_index()
    return patterns, float(linked[seen].mean())


@pytest.mark.parametrize("lam, m, u, close", [
    # as at scale 1 and at scale 10: few linked pairs among all pairs; unrelated pairs agree by
    # chance, mostly on one group (at scale 10 more often on a contact, and the linked pairs are
    # 2% of the candidates: m is known less closely)
    (0.01, [0.3, 0.33, 0.05, 0.01, 0.25, 0.2], [0.02, 0.015, 0.01, 0.002, 0.05, 0.01], 0.03),
    (0.005, [0.3, 0.33, 0.05, 0.01, 0.25, 0.2], [0.06, 0.01, 0.01, 0.005, 0.04, 0.03], 0.1),
    (0.3, [0.9, 0.7, 0.2, 0.5, 0.3, 0.6], [0.05, 0.1, 0.01, 0.2, 0.05, 0.02], 0.03),
])
def test_em_recovers_a_known_mixture_from_its_candidates(lam: float, m: list[float], u: list[float], close: float) -> None:
    patterns, linked_share = _candidates(lam, m, u, 2_000_000)
    groups = weights.EM_GROUPS
    fit = weights.em(patterns)
    assert [fit.m[g] for g in groups] == pytest.approx(m, abs=close)
    assert [fit.u[g] for g in groups] == pytest.approx(u, abs=0.01)
    assert fit.prior == pytest.approx(linked_share, abs=0.02)
    # at the maximum: a likelihood at least that of the parameters the pairs were drawn from
    xs, ns = patterns[list(groups)].to_numpy(float), patterns["n"].to_numpy(float)
    assert fit.loglik >= _log_likelihood(xs, ns, np.array(m), np.array(u), linked_share) - 0.5


def _expected_candidates(sources: list[tuple[float, list[float]]]) -> pd.DataFrame:
    """Expected pairs per agreement pattern (all but agreeing on nothing) of pair sources, each
    (pairs, chance of agreeing on each group) with independent groups: exact, nothing drawn."""
    x = np.array(list(itertools.product([0, 1], repeat=len(weights.EM_GROUPS))))[1:]
    n = sum(pairs * np.prod(np.where(x > 0, p, 1 - np.array(p)), axis=1) for pairs, p in sources)
    return pd.DataFrame(x, columns=list(weights.EM_GROUPS)).assign(n=n)


def test_em_is_the_maximum_of_the_likelihood_under_m_at_least_u() -> None:
    # rings; honest firms that sit together (an address and its Wi-Fi, never an author or an
    # account); a billion random pairs, whose likeliest chance agreement is a namesake author
    ring, together = [0.15, 0.3, 0.2, 0.13, 0.15, 0.2], [0.2, 0.6, 1e-4, 0.9, 1e-4, 0.1]
    chance = [1e-6, 4e-6, 1e-6, 2e-6, 3e-5, 4e-6]
    patterns = _expected_candidates([(50_000, ring), (30_000, together), (1e9, chance)])
    groups = weights.EM_GROUPS
    floor = dict(zip(groups, chance))
    fit = weights.em(patterns, floor=floor)
    m, u = np.array([fit.m[g] for g in groups]), np.array([fit.u[g] for g in groups])
    assert (m >= u).all() and (m >= chance).all()
    assert fit.m["document"] == fit.u["document"]   # the constraint holds with equality: it was needed
    # oracle: a general constrained optimiser (SLSQP) on the same likelihood, from several starts
    xs, ns = patterns[list(groups)].to_numpy(float), patterns["n"].to_numpy(float)

    def nll(t: np.ndarray) -> float:
        return -_log_likelihood(xs, ns, t[:6], t[6:12], t[12]) / ns.sum()

    rng = np.random.default_rng(1)
    best = None
    for _ in range(3):
        a, b = rng.uniform(0.05, 0.9, 6), rng.uniform(0.001, 0.3, 6)
        r = minimize(nll, np.r_[np.maximum(a, b), np.minimum(a, b), 0.3], method="SLSQP",
                     bounds=[(1e-4, 1 - 1e-4)] * 13, options={"maxiter": 2000, "ftol": 1e-12},
                     constraints=[{"type": "ineq", "fun": lambda t: t[:6] - t[6:12]},
                                  {"type": "ineq", "fun": lambda t: t[:6] - np.maximum(chance, 1e-4)}])
        best = r if best is None or r.fun < best.fun else best
    assert best is not None
    assert fit.loglik == pytest.approx(-best.fun * ns.sum(), abs=1.0)
    assert m == pytest.approx(best.x[:6], abs=0.005)


# Candidate patterns of the independent generator's set (data/synth/outside_rings.py, 40,000 firms,
# seed 11), u of random pairs there, and m of its rings counted on the truth file (pairs of
# different firms inside one ring agreeing on each group). Unconstrained, the best fit made the
# firms that sit together the linked class: m document and plan 0.0001, an author shared -3.1 bits.
OUTSIDE11 = [(0, 0, 0, 0, 1, 0, 32993), (0, 0, 0, 0, 0, 1, 12528), (0, 1, 0, 1, 0, 0, 11705), (0, 1, 0, 0, 0, 0, 10906),
             (1, 0, 0, 0, 0, 0, 6688), (0, 0, 1, 0, 0, 0, 4390), (0, 0, 0, 1, 0, 0, 3331), (1, 1, 0, 0, 0, 0, 2783),
             (0, 0, 1, 0, 1, 0, 2548), (0, 1, 0, 0, 1, 0, 2035), (0, 1, 0, 0, 0, 1, 1675), (0, 0, 1, 1, 0, 0, 1625),
             (1, 0, 0, 1, 0, 0, 1475), (0, 1, 1, 1, 0, 0, 957), (1, 0, 0, 0, 0, 1, 735), (0, 1, 0, 0, 1, 1, 523),
             (0, 0, 0, 0, 1, 1, 270), (1, 1, 0, 0, 0, 1, 158), (0, 1, 1, 0, 0, 0, 120), (1, 0, 1, 0, 0, 0, 22),
             (1, 0, 0, 0, 1, 0, 21), (0, 0, 1, 0, 0, 1, 20)]
OUTSIDE11_U = {"contact": 1.11e-05, "network": 0.0176, "money": 9.84e-06, "place": 5.94e-05, "document": 0.000859,
               "plan": 3.68e-06}
OUTSIDE11_RINGS_M = {"contact": 0.136, "network": 0.316, "money": 0.201, "place": 0.129, "document": 0.138, "plan": 0.188}


def test_on_data_we_did_not_write_agreeing_weighs_as_it_does_inside_rings() -> None:
    fit = weights.em(pd.DataFrame(OUTSIDE11, columns=[*weights.EM_GROUPS, "n"]), floor=OUTSIDE11_U)
    w = weights.Weights(fit.m, OUTSIDE11_U, fit.prior, 0, fit.iterations)
    for g in weights.EM_GROUPS:
        rings = np.log2(OUTSIDE11_RINGS_M[g] / OUTSIDE11_U[g])
        # related honest firms are linked pairs too, so the fit is not the rings' own m (place and
        # network above it, money below), but each group's bits lie within 2 bits of the rings'
        assert w.agree(g) > 0 and w.agree(g) == pytest.approx(rings, abs=2.0), g


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
    m = dict(zip(weights.EM_GROUPS, [0.9, 0.7, 0.2, 0.5, 0.3, 0.6]))
    patterns, linked_share = _candidates(0.2, list(m.values()), [0.05, 0.1, 0.01, 0.2, 0.05, 0.02], 300_000, seed=4)
    fit = weights.em(patterns, fixed_m=m)
    assert fit.m == pytest.approx(m)
    assert fit.prior == pytest.approx(linked_share, abs=0.02)


# Agreement patterns of the candidate pairs of the generator's sets at scale 1 (1 M applications)
# and scale 10 (10 M): (contact, network, money, place, document, plan, pairs). One EM start over
# pairs that all agree on something, each class free to agree on anything, put "the pairs that
# share a contact" in the linked class at scale 10 (m contact 1.00, money 0.008) and its best fit
# "the pairs that share an author's name" (m document 1.00).
SCALE1 = [(0, 0, 0, 0, 1, 0, 1292404), (0, 1, 0, 0, 0, 0, 84440), (1, 0, 0, 0, 0, 0, 80965), (0, 0, 1, 0, 0, 0, 59857),
          (0, 0, 0, 0, 0, 1, 40524), (0, 1, 0, 0, 1, 0, 6029), (1, 0, 0, 0, 1, 0, 4606), (0, 0, 0, 1, 0, 0, 4277),
          (1, 1, 0, 0, 0, 0, 3137), (0, 0, 0, 0, 1, 1, 2388), (1, 1, 0, 0, 1, 0, 2297), (0, 1, 0, 0, 0, 1, 1795),
          (1, 0, 0, 0, 0, 1, 1480), (1, 0, 1, 0, 0, 0, 1113), (0, 1, 0, 0, 1, 1, 360), (1, 0, 0, 0, 1, 1, 357),
          (1, 1, 0, 0, 0, 1, 169), (0, 1, 0, 1, 0, 0, 1)]
SCALE10 = [(0, 0, 0, 0, 1, 0, 5183927), (0, 0, 0, 0, 0, 1, 3810826), (0, 1, 0, 0, 0, 0, 818043), (1, 0, 0, 0, 0, 0, 806806),
           (0, 0, 1, 0, 0, 0, 585910), (0, 0, 0, 1, 0, 0, 429706), (0, 1, 0, 0, 1, 0, 46652), (1, 0, 0, 0, 1, 0, 32077),
           (1, 1, 0, 0, 0, 0, 29638), (0, 1, 0, 0, 0, 1, 21351), (1, 1, 0, 0, 1, 0, 18708), (1, 0, 0, 0, 0, 1, 16662),
           (0, 0, 0, 0, 1, 1, 13075), (1, 0, 1, 0, 0, 0, 7739), (1, 1, 0, 0, 0, 1, 2726), (0, 1, 0, 0, 1, 1, 1759),
           (1, 0, 0, 0, 1, 1, 1018)]


def test_m_does_not_flip_with_the_size_of_the_data() -> None:
    fits = [weights.em(pd.DataFrame(rows, columns=[*weights.EM_GROUPS, "n"]), iterations=2000, starts=10)
            for rows in (SCALE1, SCALE10)]
    for g in weights.EM_GROUPS:
        assert fits[0].m[g] == pytest.approx(fits[1].m[g], abs=0.06), g   # one start: contact 0.32 and 1.00
    # the planted rings share contacts, devices, authors and plans, never a bank account or an address
    for fit in fits:
        assert all(0.15 < fit.m[g] < 0.35 for g in ("contact", "network", "document"))
        assert fit.m["money"] < 0.02 and fit.m["place"] < 0.01


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
