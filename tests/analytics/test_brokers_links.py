"""Links from shared identifiers on a hand-made database: DF cap, rarity weights, same firm,
suppression, self-authored documents, independent groups and traces."""
from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics.brokers import links
from analytics.brokers.links import LinkParams
from data.db import create_schema

T0 = datetime(2025, 3, 2, 9, 0)


def make_db(path: Path, apps: list[tuple[int, int, float]], fps: list[tuple[int, str, str]],
            plans: dict[int, str] | None = None, n_firms: int = 200) -> duckdb.DuckDBPyConnection:
    """firms 1..n_firms (CEO '대표{i}'), one program; apps as (application_id, firm_id, hours after T0)."""
    con = duckdb.connect(str(path))
    create_schema(con)
    con.execute("INSERT INTO programs (program_id, title, ministry, agency, category) VALUES ('P1', '사업', '부', '기관', '기술')")
    con.execute("""INSERT INTO firms (firm_id, biz_no, name, ceo_name, region_code, ksic_section, size_class, founded_on,
                   employees, revenue_krw) SELECT i, lpad(i::VARCHAR, 10, '0'), '회사' || i, '대표' || i, '11', 'C', 'micro',
                   DATE '2015-01-01', 5, 100000000 FROM range(1, ? + 1) t(i)""", [n_firms])
    con.executemany("INSERT INTO applications (application_id, firm_id, program_id, submitted_at, status) VALUES (?, ?, 'P1', ?, 'submitted')",
                    [[a, f, T0 + timedelta(hours=h)] for a, f, h in apps])
    if fps:
        con.executemany("INSERT INTO app_fingerprints VALUES (?, ?, ?)", [list(x) for x in fps])
    for a, text in (plans or {}).items():
        con.execute("INSERT INTO business_plans VALUES (?, ?)", [a, text])
    return con


NO_SUPP = pd.DataFrame(columns=["kind", "value"])
NO_PLANS = pd.DataFrame(columns=["app_a", "app_b", "plan_similarity"])


def _pairs(con, params=LinkParams(), supp=NO_SUPP, plans=NO_PLANS) -> pd.DataFrame:
    links.value_frequencies(con, supp)
    return links.identifier_pairs(con, params, plans, chance=links.chance_within(con, params)).df()


def test_cap_same_firm_weights_and_suppression(tmp_path: Path) -> None:
    # 60 firms share a call-centre number (over the cap); firms 1-3 share a rare phone;
    # firm 1 has two applications (its own repeated applications are one firm, never a pair)
    apps = [(i, i, 100.0 * i) for i in range(1, 61)] + [(100, 1, 5000.0)]
    fps = [(i, "phone", "1588-0000") for i in range(1, 61)]
    fps += [(1, "email", "x@y.kr"), (100, "email", "x@y.kr"), (2, "email", "x@y.kr"), (3, "email", "x@y.kr")]
    fps += [(i, "ip", f"10.0.0.{i}") for i in range(1, 61)]
    con = make_db(tmp_path / "a.duckdb", apps, fps)
    p = _pairs(con, LinkParams(df_cap=50, df_cap_floor=20, df_cap_share=0.5))
    assert set(p["kind"]) == {"email"}                       # the call centre is over the cap
    got = set(zip(p["app_a"], p["app_b"]))
    assert got == {(1, 2), (1, 3), (2, 3), (2, 100), (3, 100)}  # never (1, 100): same firm
    total = con.execute("SELECT count(DISTINCT firm_id) FROM applications WHERE application_id IN "
                        "(SELECT application_id FROM app_fingerprints WHERE kind = 'email')").fetchall()[0][0]
    assert np.allclose(p["weight"], np.log2(0.9 * total / 3))   # Splink TF weight, u = 3 firms / all
    supp = pd.DataFrame({"kind": ["email"], "value": ["x@y.kr"]})
    assert _pairs(con, supp=supp).empty


def test_relative_cap_and_self_authored_documents(tmp_path: Path) -> None:
    apps = [(i, i, 0.0) for i in range(1, 31)]
    fps = [(i, "device", "DEV-PUB") for i in range(1, 31)]              # 30 of 30 firms: infrastructure
    fps += [(1, "doc_author", "대표1"), (2, "doc_author", "대표1")]     # firm 1's own CEO wrote its document
    con = make_db(tmp_path / "b.duckdb", apps, fps)
    assert _pairs(con, LinkParams(df_cap=50, df_cap_floor=5, df_cap_share=0.5)).empty
    p = _pairs(con, LinkParams(df_cap=50, df_cap_floor=40, df_cap_share=0.5))
    assert set(p["kind"]) == {"device"}                                 # doc_author: only firm 2 is a third party


def test_weak_kinds_need_rarity_trace_burst_or_other_evidence(tmp_path: Path) -> None:
    # a person's name shared by 8 firms (namesakes), far apart in time: no pairs; two of them also
    # share a phone: their name pair counts beside it; 9 and 10 submit an hour apart: still namesakes
    apps = [(i, i, 1000.0 * i) for i in range(1, 9)] + [(9, 9, 20000.0), (10, 10, 20001.0)]
    fps = [(i, "doc_author", "김민준") for i in range(1, 11)] + [(1, "phone", "010-1"), (2, "phone", "010-1")]
    con = make_db(tmp_path / "c.duckdb", apps, fps)
    p = _pairs(con, LinkParams(weak_df_cap=5))
    assert set(zip(p["app_a"], p["app_b"], p["kind"])) == {(1, 2, "phone"), (1, 2, "doc_author")}
    assert not p["trace"].any()


def test_a_burst_of_a_common_name_links_only_the_burst(tmp_path: Path) -> None:
    # 120 firms carry a common name (over the DF cap of 50) spread over 400 days; firms 121-126
    # carry it within four hours one afternoon (a broker writing their plans): only they are paired
    apps = [(i, i, 80.0 * i) for i in range(1, 121)] + [(i, i, 50000.0 + 0.7 * (i - 120)) for i in range(121, 127)]
    apps += [(i, i, 80.0 * (i - 126) + 40) for i in range(127, 400)]      # others write under their own names
    fps = [(i, "doc_author", "김지식") for i in range(1, 127)] + [(i, "doc_author", f"작성자{i}") for i in range(127, 400)]
    con = make_db(tmp_path / "g.duckdb", apps, fps, n_firms=400)
    here = LinkParams(burst_max_share=0.5)  # on a third of this table's firms (nationally a fraction of a percent)
    p = _pairs(con, here)
    assert set(zip(p["app_a"], p["app_b"])) == {(a, b) for a in range(121, 127) for b in range(a + 1, 127)}
    assert (p["firms"] == 126).all() and (p["weight"] > 0).all()
    assert _pairs(con, LinkParams(df_cap=100)).empty          # by default such a share is a placeholder ('user')
    # the same six thirteen hours apart: in one week, but never two within 12 hours
    apps[120:126] = [(i, i, 50000.0 + 13.0 * (i - 120)) for i in range(121, 127)]
    assert _pairs(make_db(tmp_path / "h.duckdb", apps, fps, n_firms=400), here).empty


def test_each_shared_value_once_per_pair_and_repeated_rows_once(tmp_path: Path) -> None:
    # the burst of the test above; 121 and 122 also share a phone (the name counts beside it and in
    # the burst); 130-132 share a rare name within an hour (rare, and a burst); some rows repeat
    apps = [(i, i, 80.0 * i) for i in range(1, 121)] + [(i, i, 50000.0 + 0.7 * (i - 120)) for i in range(121, 127)]
    apps += [(i, i, 80.0 * (i - 126) + 40) for i in range(127, 400) if i not in (130, 131, 132)]
    apps += [(i, i, 30000.0 + 0.3 * (i - 130)) for i in (130, 131, 132)]
    fps = [(i, "doc_author", "김지식") for i in range(1, 127)] + [(i, "doc_author", f"작성자{i}") for i in range(127, 400)
                                                                 if i not in (130, 131, 132)]
    fps += [(i, "doc_author", "박희소") for i in (130, 131, 132)] + [(121, "phone", "010-9"), (122, "phone", "010-9")]
    repeated = fps + [(121, "phone", "010-9"), (130, "doc_author", "박희소"), (5, "doc_author", "김지식")]
    here = LinkParams(burst_max_share=0.5)
    got = _pairs(con := make_db(tmp_path / "r.duckdb", apps, repeated, n_firms=400), here)
    assert set(con.execute("SELECT application_id FROM _bursts").fetchnumpy()["application_id"]) >= {121, 122, 130, 131, 132}
    assert con.execute("SELECT count(*) FROM _fp").fetchone()[0] == len(set(fps))
    want = {(a, b, "doc_author") for a in range(121, 127) for b in range(a + 1, 127)} | {(121, 122, "phone")}
    want |= {(130, 131, "doc_author"), (130, 132, "doc_author"), (131, 132, "doc_author")}
    assert len(got) == len(want) and set(zip(got["app_a"], got["app_b"], got["kind"])) == want
    once = _pairs(make_db(tmp_path / "o.duckdb", apps, fps, n_firms=400), here)
    key = ["app_a", "app_b", "kind"]
    pd.testing.assert_frame_equal(got.sort_values(key).reset_index(drop=True), once.sort_values(key).reset_index(drop=True))


def test_burst_threshold_is_the_poisson_tail() -> None:
    n = np.array([2, 10, 100, 1500])
    chance, alpha = 0.0012, 0.01
    got = links.burst_threshold(n, chance, alpha, floor=1)
    for nv, k in zip(n, got):
        mu = (nv - 1) * chance

        def tail(j: int, mu: float = mu) -> float:  # P(X >= j)
            return 1 - sum(math.exp(-mu) * mu**i / math.factorial(i) for i in range(j))
        assert tail(k) <= alpha / nv < tail(k - 1) or (k == 1 and tail(1) <= alpha / nv)
    assert list(got) == sorted(got) and got[-1] >= 8                 # common names need many in one window
    assert links.burst_threshold(np.array([10]), chance, alpha, floor=2)[0] == 2


def test_traces_and_strong_links(tmp_path: Path) -> None:
    # a broker: phone on apps 1-5, the broker's name as author on apps 1-4 (same applications): traces
    apps = [(i, i, 500.0 * i) for i in range(1, 8)]
    fps = [(i, "phone", "010-9999") for i in range(1, 6)] + [(i, "doc_author", "컨설팅 박") for i in range(1, 5)]
    fps += [(6, "address", "서울 1"), (7, "address", "서울 1")]
    con = make_db(tmp_path / "d.duckdb", apps, fps)
    p = _pairs(con)
    traced = p[p["trace"]]
    assert set(traced["kind"]) == {"phone"}            # the name travels with it but stays weak (namesakes)
    assert not p[p["kind"] == "address"]["trace"].any()
    plans = pd.DataFrame({"app_a": [6], "app_b": [7], "plan_similarity": [0.5]})
    lk = links.combine(con, plans, LinkParams(), timing_weight=10.0).df()
    by_pair = lk.set_index(["app_a", "app_b"])
    assert by_pair.loc[(6, 7), "n_groups"] == 2 and set(by_pair.loc[(6, 7), "groups"]) == {"place", "plan"}
    assert by_pair.loc[(6, 7), "hard"] and by_pair.loc[(1, 2), "hard"]    # place, contact: each can attach a member
    assert set(links.touching(con, [6])[["app_a", "app_b"]].itertuples(index=False)) == {(6, 7)}
    assert by_pair.loc[(1, 2), "strong"] and by_pair.loc[(1, 5), "strong"]     # phone is a trace
    # group weight: phone and author are different groups -> both add
    w12 = by_pair.loc[(1, 2), "weight"]
    assert w12 == pytest.approx(p[(p.app_a == 1) & (p.app_b == 2)]["weight"].sum())


def test_stored_evidence_lists_identifiers_rarest_first_then_the_plan(tmp_path: Path) -> None:
    """Oracle: the evidence JSON built in DuckDB equals the same list built in Python from _ids."""
    apps = [(i, i, 500.0 * i) for i in range(1, 8)]
    fps = [(i, "phone", "010-9999") for i in range(1, 6)] + [(i, "doc_author", "컨설팅 박") for i in range(1, 5)]
    fps += [(6, "address", "서울 1"), (7, "address", "서울 1"), (1, "bank_account", "110-1"), (2, "bank_account", "110-1")]
    con = make_db(tmp_path / "e.duckdb", apps, fps)
    _pairs(con)
    params = LinkParams()
    kept = pd.DataFrame({"app_a": [1, 6, 3, 1], "app_b": [2, 7, 6, 3], "plan_similarity": [np.nan, 0.3, 0.1, 0.45]})
    got = [json.loads(e) for e in links.evidence(con, kept, params)]
    ids = con.execute("SELECT app_a, app_b, kind, value, firms, weight, trace FROM _ids").df()
    want = []
    for r in kept.itertuples():
        rows = ids[(ids["app_a"] == r.app_a) & (ids["app_b"] == r.app_b)].assign(w=lambda d: d["weight"].round(2))
        ev = [{"kind": k, "value": v, "firms": int(f), "weight": float(w), "trace": bool(t)} for k, v, f, w, t in
              rows.sort_values(["weight", "kind", "value"], ascending=[False, True, True])[
                  ["kind", "value", "firms", "w", "trace"]].itertuples(index=False)]
        if not np.isnan(r.plan_similarity):
            ev.append({"kind": "plan", "value": None, "firms": None, "similarity": round(r.plan_similarity, 3),
                       "weight": float(links.plan_weight(r.plan_similarity, params))})
        want.append(ev)
    assert got == want
    assert [e["kind"] for e in got[0]][0] == "bank_account"        # the rarer value first
    assert got[2] == [{"kind": "plan", "value": None, "firms": None, "similarity": 0.1, "weight": 0.0}]


def test_a_trace_is_a_value_on_two_firms_or_more(tmp_path: Path) -> None:
    """Trace carriers come from the values on two firms or more (_fps): a smaller minimum is refused
    with a clear error instead of silently missing the values of one firm."""
    con = make_db(tmp_path / "t.duckdb", [(1, 1, 0.0), (2, 2, 1.0), (3, 3, 2.0)],
                  [(1, "phone", "010-1"), (2, "phone", "010-1"), (3, "phone", "010-3"), (3, "doc_author", "김")])
    links.value_frequencies(con, NO_SUPP)
    links.trace_carriers(con, min_firms=2, weak_kinds=("doc_author",))
    assert sorted(con.execute("SELECT application_id, kind, value, firms FROM _fpt").fetchall()) == [
        (1, "phone", "010-1", 2), (2, "phone", "010-1", 2)]
    with pytest.raises(ValueError, match="two firms or more"):
        links.trace_carriers(con, min_firms=1)


def test_related_firms_are_small_components_of_shared_homes_and_representatives(tmp_path: Path) -> None:
    """Oracle: networkx components of the firm pairs sharing a home (address and phone), or a
    representative and one of them; groups over related_max are not related firms."""
    import networkx as nx

    rng = np.random.default_rng(3)
    apps = [(i, i, 10.0 * i) for i in range(1, 121)]
    fps = []
    for i in range(1, 121):   # mostly own values; some homes shared by 2-5 neighbouring firms
        home = i // int(rng.integers(2, 6)) if rng.random() < 0.5 else 1000 + i
        fps += [(i, "address", f"집{home}"), (i, "phone", f"010-{home}" if rng.random() < 0.8 else f"010-own{i}")]
    con = make_db(tmp_path / "r.duckdb", apps, fps, n_firms=120)
    con.execute("UPDATE firms SET ceo_name = '같은대표' WHERE firm_id IN (7, 8)")   # one representative
    links.value_frequencies(con, NO_SUPP)
    params = LinkParams()
    got = links.related_firms(con, params)
    fa = con.execute("SELECT DISTINCT firm_id, kind, value FROM _fp").df()
    ceo = dict(con.execute("SELECT firm_id, ceo_name FROM firms").fetchall())
    g = nx.Graph()
    for (kind, value), grp in fa.groupby(["kind", "value"]):
        fs = sorted(grp["firm_id"])
        if len(fs) > params.related_max:
            continue
        for x in fs:
            for y in fs:
                if x < y:
                    g.add_edge(x, y)
                    g.edges[x, y].setdefault("kinds", set()).add(kind)
    g.remove_edges_from([(x, y) for x, y, d in g.edges(data=True) if len(d["kinds"]) < 2 and ceo[x] != ceo[y]])
    want = []
    for comp in nx.connected_components(g):
        if 2 <= len(comp) <= params.related_max:
            bases = sorted({"home" if len(d["kinds"]) == 2 else "representative" for _, _, d in g.subgraph(comp).edges(data=True)})
            want += [(f, min(comp), "+".join(bases)) for f in comp]
    assert len(want) > 10
    assert sorted(map(tuple, got[["firm_id", "household", "basis"]].to_numpy().tolist())) == sorted(want)


def test_timing_weight_measures_the_calendar(tmp_path: Path) -> None:
    apps = [(i, i, 24.0 * i) for i in range(1, 101)]                  # one submission a day
    con = make_db(tmp_path / "e.duckdb", apps, [])
    chance = links.chance_within(con, LinkParams(burst_hours=30))     # each has 1-2 neighbours within 30 h
    u = (2 * 100 - 2) / 100 / 99
    assert chance == pytest.approx(u)
    assert links.timing_weight(chance, LinkParams()) == pytest.approx(np.log2(0.9 / u))


def test_reordered_copies_are_a_ghost_writers_disguise_an_honest_copy_keeps_the_order(tmp_path: Path) -> None:
    """One template of eight sentences. A ghost-writer's clients (apps 1, 2) get it shuffled; a
    franchisee (app 3) keeps the head office's order and adds sentences of its own; app 4 shares
    only three sentences (too few to judge an order). Tau against scipy's Kendall tau."""
    from scipy.stats import kendalltau

    template = [f"문장 {i} 시장 고객 매출 {i}% 확대한다." for i in range(8)]
    rng = np.random.default_rng(1)
    shuffled = [template[i] for i in rng.permutation(8)]
    franchise = template[:3] + ["우리 매장 고유 문장 하나."] + template[3:] + ["또 하나 고유 문장."]
    plans = {1: "회사1 사업계획. " + " ".join(template), 2: "회사2 사업계획. " + " ".join(shuffled),
             3: "회사3 사업계획. " + " ".join(franchise), 4: "회사4 사업계획. " + " ".join(reversed(template[:3]))}
    con = make_db(tmp_path / "t.duckdb", [(a, a, 0.0) for a in plans], [], plans)
    pairs = pd.DataFrame({"app_a": [1, 1, 1], "app_b": [2, 3, 4]})
    got = links.reordered_copies(con, pairs, LinkParams())
    want_tau = kendalltau(list(range(8)), [shuffled.index(s) for s in template]).statistic
    assert want_tau < LinkParams().reorder_tau
    assert got[["app_a", "app_b"]].values.tolist() == [[1, 2]]
    assert got["tau"].iloc[0] == pytest.approx(want_tau)
    # the franchisee's copy has tau 1 (insertions keep the order); three shared sentences are too few
    assert links._order_tau(links._sentences(plans[1]), links._sentences(plans[3]), 4) == pytest.approx(1.0)
    assert math.isnan(links._order_tau(links._sentences(plans[1]), links._sentences(plans[4]), 4))
    # the thresholds are named parameters stored with the run
    assert {"reorder_sentences", "reorder_tau"} <= set(LinkParams().to_json())
