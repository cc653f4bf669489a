"""Fellegi-Sunter weights (analytics/brokers/weights.py): EM recovers known m, random-pair u equals
a brute-force count over all pairs of firms, and the waterfall adds up."""
from __future__ import annotations

import itertools

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics.brokers import weights


def test_em_recovers_the_m_of_a_known_mixture() -> None:
    rng = np.random.default_rng(3)
    groups = weights.EM_GROUPS
    m = np.array([0.9, 0.7, 0.2, 0.5, 0.3, 0.6])
    u = np.array([0.05, 0.1, 0.01, 0.2, 0.05, 0.02])
    n, lam = 40_000, 0.3
    linked = rng.random(n) < lam
    x = np.where(linked[:, None], rng.random((n, 6)) < m, rng.random((n, 6)) < u).astype(int)
    patterns = pd.DataFrame(x, columns=list(groups)).value_counts().rename("n").reset_index()
    got_m, got_u, got_lam, _ = weights.em(patterns)
    assert [got_m[g] for g in groups] == pytest.approx(m.tolist(), abs=0.03)
    assert [got_u[g] for g in groups] == pytest.approx(u.tolist(), abs=0.03)
    assert got_lam == pytest.approx(lam, abs=0.02)


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
