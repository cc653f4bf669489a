"""Clusters against networkx on seeded random graphs; Louvain only inside oversized components;
risk parts against direct computations; attachment by plans."""
from __future__ import annotations

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from analytics.brokers import clusters
from analytics.brokers.clusters import ClusterParams
from analytics.brokers.links import HARD_GROUPS


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_components_match_networkx(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 400, 300), rng.integers(0, 400, 300)
    keep = a != b
    got = clusters.components(a[keep], b[keep], ClusterParams(max_size=10_000))
    g = nx.Graph()
    g.add_edges_from(zip(a[keep].tolist(), b[keep].tolist()))
    want = {frozenset(c) for c in nx.connected_components(g)}
    mine: dict[int, set[int]] = {}
    for app, cid in got.items():
        mine.setdefault(cid, set()).add(app)
    assert {frozenset(c) for c in mine.values()} == want
    sizes = [len(mine[c]) for c in sorted(mine)]
    assert sizes == sorted(sizes, reverse=True)            # largest first


def test_oversized_components_are_split_by_louvain() -> None:
    # two dense cliques joined by one edge form one component of 40; max_size 30 splits it in two
    edges = [(i, j) for i in range(20) for j in range(i + 1, 20)] + [(i, j) for i in range(20, 40) for j in range(i + 1, 40)]
    edges.append((0, 20))
    a, b = np.array(edges).T
    got = clusters.components(a, b, ClusterParams(max_size=30))
    assert len(set(got.values())) == 2
    assert len({got[i] for i in range(20)}) == 1 and len({got[i] for i in range(20, 40)}) == 1
    assert len(set(clusters.components(a, b, ClusterParams(max_size=100)).values())) == 1


def test_components_and_louvain_splits_equal_networkx_on_the_whole_graph() -> None:
    """Oracle: networkx's components of a graph of every link, each oversized one split by Louvain
    on the whole graph's subgraph; the same seeded splits and the same numbering. Oversized
    components (rings in crowds) among many small ones, links arriving in random order."""
    rng = np.random.default_rng(8)
    edges = []
    for base, size in [(0, 80), (1000, 120), (5000, 60)]:   # oversized, sparse: splits that hang on the order
        edges += [(int(x), int(y)) for x, y in rng.integers(base, base + size, (2 * size, 2)) if x != y]
    edges += [(int(x), int(x) + 1 + int(rng.integers(0, 3))) for x in rng.integers(10_000, 20_000, 400)]
    a, b = np.array([edges[i] for i in rng.permutation(len(edges))]).T
    params = ClusterParams(max_size=50)
    g = nx.Graph()
    g.add_edges_from(zip(a.tolist(), b.tolist()))
    groups: list[set[int]] = []
    for comp in nx.connected_components(g):
        if len(comp) > params.max_size:
            groups.extend(nx.community.louvain_communities(g.subgraph(comp), resolution=params.louvain_resolution,
                                                           seed=params.seed))
        else:
            groups.append(comp)
    groups.sort(key=lambda c: (-len(c), min(c)))
    want = {app: cid for cid, comp in enumerate(groups) for app in comp}
    got = clusters.components(a, b, params)
    assert got == want and len(set(got.values())) > len(set(clusters.components(a, b, ClusterParams()).values()))


def test_max_in_window_brute_force() -> None:
    rng = np.random.default_rng(3)
    t = np.sort(rng.uniform(0, 30, 60))
    want = max(int(((t >= s) & (t <= s + 1.5)).sum()) for s in t)
    assert clusters._max_in_window(t, 1.5) == want


def _members() -> pd.DataFrame:
    base = pd.Timestamp("2025-03-02 09:00")
    rows = []
    # cluster 0: 4 firms, 6 applications within hours, all selected where peers are selected 25% of the time
    for k, firm in enumerate([1, 1, 2, 3, 3, 4]):
        rows.append((10 + k, 0, firm, "11", f"P{k % 3}", base + pd.Timedelta(hours=k), "selected", 50_000_000, 0.25, 10_000_000.0))
    # cluster 1: 3 firms over a year, normal outcomes, three regions
    for k, firm in enumerate([5, 6, 7]):
        rows.append((20 + k, 1, firm, ["11", "26", "41"][k], "P9", base + pd.Timedelta(days=120 * k),
                     "rejected" if k else "selected", 0 if k else 10_000_000, 0.4, 8_000_000.0))
    return pd.DataFrame(rows, columns=["application_id", "cluster_id", "firm_id", "region_code", "program_id",
                                       "submitted_at", "status", "amount_awarded_krw", "prog_selection_rate",
                                       "prog_mean_award"])


def test_risk_parts() -> None:
    links = pd.DataFrame({"cluster_id": [0, 0, 1], "weight": [20.0, 16.0, 14.0],
                          "groups": [["contact", "timing"], ["plan", "contact"], ["document", "timing"]],
                          "plan_similarity": [np.nan, 0.3, np.nan], "firm_a": [3, 1, 5], "firm_b": [4, 2, 6]})
    out = clusters.risk(_members(), links, ClusterParams()).set_index("cluster_id")
    r0, r1 = out.loc[0, "reasons"], out.loc[1, "reasons"]
    assert out.loc[0, "burst_share"] == 1.0 and r0["burst"] == 1.0
    assert r0["repeat_share"] == pytest.approx(2 / 4)                       # firms 1 and 3 applied twice
    z = (6 - 6 * 0.25) / np.sqrt(6 * 0.25 * 0.75)
    assert r0["selection_z"] == pytest.approx(z, abs=0.01)
    assert r0["plan"] == pytest.approx(1.0)                                 # 0.3 / 0.3
    assert out.loc[0, "flagged"] and out.loc[0, "risk"] > out.loc[1, "risk"]
    # cluster 1 rests on names and timing only: never flagged, whatever its risk
    assert not out.loc[1, "flagged"] and r1["evidence_groups"] == ["document", "timing"]
    assert out.loc[0, "awarded_krw"] == 6 * 50_000_000 and out.loc[1, "n_regions"] == 3


def test_attach_by_links() -> None:
    links = pd.DataFrame({"app_a": [1, 2, 3, 4, 5, 6, 1], "app_b": [9, 9, 9, 8, 7, 7, 10],
                          "firm_a": [11, 12, 13, 14, 11, 12, 11], "firm_b": [19, 19, 19, 18, 17, 17, 20],
                          "groups": [["contact"], ["contact"], ["document"], ["plan"], ["document"], ["timing", "document"],
                                     ["network"]]})
    links["hard"] = links["groups"].apply(lambda gs: bool(set(gs) & set(HARD_GROUPS)))
    got = clusters.attach_by_links({1: 0, 2: 0, 3: 0, 4: 1, 5: 0, 6: 0}, links, min_firms=2)
    assert 10 not in got                       # one shared network value with one firm is not enough
    assert got[9] == 0 and 8 not in got        # 8 copies one firm's plan only
    assert 7 not in got                        # names and timing never attach


def test_multi_evidence_counts_households_and_colocation() -> None:
    """Households tied by two independent groups, counted by hand: related firms are one
    household, timing never counts, and a shared address explains a shared phone or network."""
    links = pd.DataFrame({
        "cluster_id": [0, 0, 0, 0, 1, 1],
        "firm_a": [1, 1, 3, 5, 7, 8], "firm_b": [2, 3, 4, 6, 8, 9],
        "groups": [["contact", "money"], ["plan"], ["timing", "contact"], ["money", "document"],
                   ["place", "network"], ["place", "contact"]]})
    got = clusters.multi_evidence(links, {2: 1}, ClusterParams())   # firm 2 is firm 1's related firm
    # cluster 0: firms 1+2 are one household (their link does not count); 1 has plan (with 3) only
    # -> 1 group; 3: plan, contact (timing dropped) -> 2; 4: contact -> 1; 5, 6: money, document -> 2 each
    assert got[0] == 3
    # cluster 1: co-located firms: place explains network and contact -> one group each
    assert got[1] == 0
    # in a cluster submitted in a burst, timing counts: firm 4 now has contact and timing
    assert clusters.multi_evidence(links, {2: 1}, ClusterParams(), timed={0})[0] == 4


def test_split_blocks_keeps_the_many_to_many_core_and_judges_what_hangs_on_one_household_apart() -> None:
    """Ring: firms 1-5 all sharing the broker's phone (a clique). Firm 6, sharing a home phone
    with firm 1 only, hangs on firm 1 with three applications; a PC room (firms 7-10, a clique)
    hangs on firm 5; firm 11 came in with a trace and has no link of its own; firm 12 is firm 2's
    related firm (one household); firm 13 is tied to the ring by timing alone, which is no tie of
    its own: like firm 11 it stays with the largest block."""
    rows = []
    app_of = {f: 100 + f for f in range(1, 14)}

    def link(fa: int, fb: int, groups: list[str], app_a: int | None = None) -> None:
        rows.append({"app_a": app_a or app_of[fa], "app_b": app_of[fb], "firm_a": fa, "firm_b": fb, "groups": groups,
                     "weight": 14.0})

    for i in range(1, 6):
        for j in range(i + 1, 6):
            link(i, j, ["contact"])
    for extra in (100 + 1, 201, 202):   # firm 6's three applications share firm 1's home phone
        rows.append({"app_a": app_of[1], "app_b": extra if extra != 101 else app_of[6], "firm_a": 1, "firm_b": 6,
                     "groups": ["contact"], "weight": 14.0})
    for i in range(7, 11):
        link(5, i, ["network"])
        for j in range(i + 1, 11):
            link(i, j, ["network"])
    link(2, 12, ["contact", "place"])
    link(3, 13, ["timing"])
    firm_of_extra = {201: 6, 202: 6}
    df = pd.DataFrame(rows)
    df["firm_b"] = [firm_of_extra.get(b, f) for b, f in zip(df["app_b"], df["firm_b"])]
    assignment = {a: 0 for a in [*app_of.values(), 201, 202]}
    got = clusters.split_blocks(assignment, df, {12: 2, 2: 2}, min_households=3)
    ring = {app_of[f] for f in (1, 2, 3, 4, 5, 11, 12, 13)}
    pc = {app_of[f] for f in (7, 8, 9, 10)}
    by: dict[int, set[int]] = {}
    for app, cid in got.items():
        by.setdefault(cid, set()).add(app)
    assert by[0] == ring           # firm 5 (the articulation) stays with the larger block
    assert by[1] == pc             # the PC room is judged on its own
    assert not {app_of[6], 201, 202} & set(got)   # one household's tie leaves
    assert len(by) == 2


def test_a_household_two_blocks_hang_on_goes_with_the_one_it_is_most_surely_linked_to() -> None:
    """A ring of four households (firms 1-4) shares the broker's phone, carried by five firms:
    heavy links. Firm 4 also used a PC room whose address twelve firms share (firms 4-15): light
    links, a larger block. Firm 4 stays with the ring, not with the crowd that swamps it; with
    equal weights it would go with the larger block, as before."""
    def run(ring_weight: float) -> dict[int, set[int]]:
        rows = [{"app_a": 100 + i, "app_b": 100 + j, "firm_a": i, "firm_b": j, "groups": ["contact"], "weight": ring_weight}
                for i in range(1, 5) for j in range(i + 1, 5)]
        rows += [{"app_a": 100 + i, "app_b": 100 + j, "firm_a": i, "firm_b": j, "groups": ["network"], "weight": 10.0}
                 for i in range(4, 16) for j in range(i + 1, 16)]
        got = clusters.split_blocks({100 + f: 0 for f in range(1, 16)}, pd.DataFrame(rows), {}, min_households=3)
        by: dict[int, set[int]] = {}
        for app, cid in got.items():
            by.setdefault(cid, set()).add(app - 100)
        return by

    by = run(ring_weight=14.0)
    assert {1, 2, 3, 4} in by.values() and set(range(5, 16)) in by.values()
    by = run(ring_weight=10.0)
    assert {1, 2, 3} in by.values() and set(range(4, 16)) in by.values()


def _clique(firms: range | list[int], groups: list[str], weight: float) -> list[dict]:
    return [{"app_a": 100 + i, "app_b": 100 + j, "firm_a": i, "firm_b": j, "groups": groups, "weight": weight}
            for i in firms for j in firms if i < j]


def _pieces(assignment: dict[int, int]) -> list[set[int]]:
    by: dict[int, set[int]] = {}
    for app, cid in assignment.items():
        by.setdefault(cid, set()).add(app - 100)
    return sorted(by.values(), key=len)


def test_a_ring_swamped_by_a_crowd_is_split_off_a_slice_of_the_crowd_is_not() -> None:
    """A PC room: twenty strangers (firms 1-20) tied by its network and nothing else. A ring of
    six households (firms 21-26) shares the broker's phone and plan; two of them used the room,
    so room and ring are one block. The ring is a community with evidence its links to the room
    do not carry: it is judged apart. Franchisees (firms 31-45) all share the head office's plan;
    the five submitted on one afternoon (heavier, timing) are a community with nothing of their
    own: they stay."""
    rows = _clique(range(1, 21), ["network"], 10.0) + _clique(range(21, 27), ["contact", "plan", "timing"], 25.0)
    rows += [{"app_a": 100 + r, "app_b": 100 + p, "firm_a": r, "firm_b": p, "groups": ["network"], "weight": 10.0}
             for r in (21, 22) for p in range(1, 21)]
    rows += _clique(range(31, 46), ["plan"], 6.0) + [dict(r, groups=["plan", "timing"], weight=13.0)
                                                     for r in _clique(range(31, 36), ["plan"], 0.0)]
    df = pd.DataFrame(rows)
    df = df.sort_values("weight").drop_duplicates(["app_a", "app_b"], keep="last")
    assignment = {100 + f: 0 for f in range(1, 27)} | {100 + f: 1 for f in range(31, 46)}
    got = clusters.split_communities(assignment, df, {}, {0, 1}, ClusterParams())
    assert _pieces(got) == [set(range(21, 27)), set(range(31, 46)), set(range(1, 21))]
    # only the clusters named thin are touched
    assert _pieces(clusters.split_communities(assignment, df, {}, set(), ClusterParams())) == \
        _pieces(assignment)


def test_only_the_rings_a_split_finds_are_taken_out() -> None:
    before = {1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 1, 7: 1, 8: 1, 9: 1, 10: 2, 11: 2}
    after = {1: 0, 2: 0, 3: 2, 4: 2, 6: 1, 7: 1, 8: 3, 9: 3, 10: 4, 11: 4}   # app 5 left in the split
    got = clusters.keep_found(before, after, thin={0, 1}, flagged={2})
    # cluster 0's split found a ring (piece 2): it is taken out, the rest of cluster 0 stays
    # whole; cluster 1's pieces flag nothing: whole again; cluster 2 was not thin: as it was
    assert sorted(map(sorted, _pieces({app + 100: c for app, c in got.items()}))) == \
        [[1, 2, 5], [3, 4], [6, 7, 8, 9], [10, 11]]


def test_thin_clusters_are_those_failing_the_evidence_test() -> None:
    cl = pd.DataFrame({"cluster_id": [0, 1, 2], "n_households": [30, 30, 5], "multi_households": [4, 12, 0]})
    assert clusters.thin(cl, ClusterParams()) == {0}          # 1 has the evidence; 2 is too small to hold two
    assert clusters.thin(cl, ClusterParams(split_thin=False)) == set()


def test_same_sitting_brings_a_firms_applications_filed_together_not_the_others() -> None:
    t0 = pd.Timestamp("2024-01-13 14:00")
    apps = pd.DataFrame({
        "application_id": [1, 2, 3, 4, 5],
        "firm_id": [10, 10, 10, 10, 20],
        "submitted_at": [t0, t0 + pd.Timedelta(hours=3), t0 - pd.Timedelta(hours=11), t0 + pd.Timedelta(days=40),
                         t0 + pd.Timedelta(hours=1)],
    })
    # app 1 is clustered; apps 2 and 3 (same firm, same sitting) join; app 4 (40 days later) and
    # app 5 (another firm, unlinked) stay out
    assert clusters.same_sitting({1: 7}, apps, hours=12.0) == {1: 7, 2: 7, 3: 7}
    assert clusters.same_sitting({1: 7}, apps, hours=0.0) == {1: 7}     # the named parameter switches it off
    assert ClusterParams().sitting_hours == 12.0 and "sitting_hours" in ClusterParams().to_json()


def _quiet_cluster(groups: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Four firms of one region, one application each over a year, normal outcomes, plans of their
    own: no behaviour at all. Every pair of firms shares ``groups`` (one clique)."""
    base = pd.Timestamp("2025-01-06 10:00")
    members = pd.DataFrame([(30 + k, 0, 40 + k, "11", f"P{k}", base + pd.Timedelta(days=90 * k), "rejected", 0, 0.3, 1e7)
                            for k in range(4)], columns=_members().columns)
    pairs = [(a, b) for a in range(40, 44) for b in range(a + 1, 44)]
    links = pd.DataFrame({"cluster_id": 0, "weight": 30.0, "groups": [list(groups)] * len(pairs), "plan_similarity": np.nan,
                          "firm_a": [a for a, _ in pairs], "firm_b": [b for _, b in pairs]})
    return members, links


def test_money_shared_by_several_households_needs_no_behaviour_other_shared_identifiers_do() -> None:
    # a fee account and the ghost-writer's name on four unrelated firms: flagged without behaviour
    out = clusters.risk(*_quiet_cluster(["money", "document"]), ClusterParams()).iloc[0]
    assert out["behaviour"] < ClusterParams().flag_at and out["unexplained_households"] == 4 and out["flagged"]
    # an accounting office's phone, its PC and its name on the same four: explained, not flagged
    out = clusters.risk(*_quiet_cluster(["contact", "network", "document"]), ClusterParams()).iloc[0]
    assert out["unexplained_households"] == 0 and not out["flagged"]
    # one family's firms (one household) sharing an account are not several households
    members, links = _quiet_cluster(["money", "document"])
    out = clusters.risk(members, links, ClusterParams(), household={41: 40, 42: 40}).iloc[0]
    assert out["unexplained_households"] == 2 and not out["flagged"]
    # and the rule is a named parameter stored with the run
    out = clusters.risk(*_quiet_cluster(["money", "document"]), ClusterParams(unexplained_groups=())).iloc[0]
    assert not out["flagged"]


def test_a_pool_of_several_values_of_one_kind_is_a_brokers_act_one_office_number_is_not() -> None:
    members, links = _quiet_cluster(["contact", "network"])

    def traces(values: dict[int, str]) -> pd.DataFrame:
        return pd.DataFrame({"cluster_id": 0, "application_id": [30 + f - 40 for f in values], "firm_id": list(values),
                             "kind": "phone", "grp": "contact", "value": list(values.values()), "k": 2, "firms": 2, "p": 1e-9})

    # two phones rotated over six firms (three each): a pool
    six_m = pd.concat([members, members.assign(application_id=members["application_id"] + 10,
                                               firm_id=members["firm_id"] + 4)]).head(6)
    six_l = pd.concat([links, links.assign(firm_a=links["firm_a"] + 2, firm_b=links["firm_b"] + 2)])
    pool = traces({40: "010-1", 41: "010-1", 42: "010-1", 43: "010-2", 44: "010-2", 45: "010-2"})
    out = clusters.risk(six_m, six_l, ClusterParams(), traces=pool).iloc[0]
    assert out["behaviour"] < ClusterParams().flag_at and out["pool_kinds"] == 1 and out["flagged"]
    # an office's one number on all six: not a pool, no behaviour, not flagged
    office = traces(dict.fromkeys(range(40, 46), "02-555"))
    out = clusters.risk(six_m, six_l, ClusterParams(), traces=office).iloc[0]
    assert out["pool_kinds"] == 0 and not out["flagged"]
    # names are never a pool (namesakes)
    names = pool.assign(kind="doc_author", grp="document")
    assert clusters.risk(six_m, six_l, ClusterParams(), traces=names).iloc[0]["pool_kinds"] == 0


def _copy_cluster() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Six firms over the country copying one plan (plan links only, similarity 0.35), with some
    behaviour: what both a ghost-writer's clients and a franchise's stores look like by links."""
    base = pd.Timestamp("2025-01-06 10:00")
    members = pd.DataFrame([(60 + k, 0, 70 + k, f"{11 + k}", f"P{k}", base + pd.Timedelta(days=30 * k), "selected",
                             5e7, 0.3, 1e7) for k in range(6)], columns=_members().columns)
    pairs = [(a, b) for a in range(70, 76) for b in range(a + 1, 76)]
    links = pd.DataFrame({"cluster_id": 0, "weight": 9.0, "groups": [["plan"]] * len(pairs), "plan_similarity": 0.35,
                          "firm_a": [a for a, _ in pairs], "firm_b": [b for _, b in pairs]})
    return members, links


def test_reordered_copies_of_one_plan_are_a_second_act_beside_the_copy() -> None:
    members, links = _copy_cluster()
    # a franchise: the head office's plan in its order on every store: one group, not flagged
    out = clusters.risk(members, links, ClusterParams()).iloc[0]
    assert out["behaviour"] >= ClusterParams().flag_at and out["multi_households"] == 0 and not out["flagged"]
    # a ghost-writer: the copies reordered for each client (links.reordered_copies): flagged
    shuffled = links[links["firm_a"] < 73][["cluster_id", "firm_a", "firm_b"]]   # every pair among 70-72, and 70-72 with 73-75
    out = clusters.risk(members, links, ClusterParams(), reordered=shuffled).iloc[0]
    assert out["reordered_households"] == 6 and out["multi_households"] == 6 and out["flagged"]
    # two related firms (one household) reordering between themselves are no second act
    one = pd.DataFrame({"cluster_id": [0], "firm_a": [70], "firm_b": [71]})
    out = clusters.risk(members, links, ClusterParams(), household={71: 70}, reordered=one).iloc[0]
    assert out["reordered_households"] == 0 and not out["flagged"]


def test_a_piece_hanging_on_a_ring_stays_when_it_went_to_the_rings_calls() -> None:
    """A ring (firms 1-5, a clique of the broker's phone) applied to programs A and B; firms 6-8
    share a second device of the broker's and hang on firm 5, applying to A and B too; a PC room
    (firms 9-12) hangs on firm 1 and its users applied to programs of their own. Programs A and B
    hold 4% of all applications: three of three in them is a chance of 0.04**3 = 6.4e-5."""
    rows = [{"app_a": 100 + i, "app_b": 100 + j, "firm_a": i, "firm_b": j, "groups": [g], "weight": 14.0}
            for lo, hi, g in ((1, 6, "contact"), (5, 9, "network"), (9, 13, "network")) for i in range(lo, hi)
            for j in range(i + 1, hi)]
    rows += [{"app_a": 101, "app_b": 100 + j, "firm_a": 1, "firm_b": j, "groups": ["network"], "weight": 12.0}
             for j in range(9, 13)]
    links = pd.DataFrame(rows)
    calls = {100 + f: "AB"[f % 2] for f in range(1, 9)} | {100 + f: f"P{f}" for f in range(9, 13)}
    share = {"A": 0.02, "B": 0.02} | {f"P{f}": 0.01 for f in range(9, 13)}
    assignment = {100 + f: 0 for f in range(1, 13)}

    def groups(alpha: float) -> set[frozenset[int]]:
        got = clusters.split_blocks(assignment, links, {}, min_households=3, calls=calls, call_share=share,
                                    calls_alpha=alpha)
        by: dict[int, set[int]] = {}
        for app, cid in got.items():
            by.setdefault(cid, set()).add(app - 100)
        return {frozenset(c) for c in by.values()}

    from scipy.stats import binom
    assert binom.sf(2, 3, 0.04) == pytest.approx(0.04 ** 3) and 0.04 ** 3 < ClusterParams().calls_alpha
    assert groups(ClusterParams().calls_alpha) == {frozenset(range(1, 9)), frozenset(range(9, 13))}
    # with the rule off, the broker's second device is judged apart as before
    assert groups(0.0) == {frozenset(range(1, 6)), frozenset(range(6, 9)), frozenset(range(9, 13))}
