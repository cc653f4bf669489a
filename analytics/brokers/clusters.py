"""Clusters of strongly linked applications and their risk score with reasons.

Connected components of the strong-link graph (scipy); a component larger than ``max_size``
applications is split by Louvain community detection (networkx, seeded), run only there because
it is two orders of magnitude slower than components on the whole graph.

Each cluster is then split into the biconnected blocks of its households' graph
(:func:`split_blocks`): a ring is many-to-many, what hangs on one household is judged apart. A
clustered firm's other applications filed in the same sitting join it (:func:`same_sitting`).
A cluster that fails the evidence test below is split once more, into the communities of its
households that carry evidence of their own (:func:`split_communities`), and judged again: a
ring swamped by an honest crowd (a PC room) is found there.

The risk score (0..1) is a weighted sum of parts, each 0..1 and each kept as a reason:
evidence groups, link weight, plan similarity, submission burst, selection rate and amount
awarded against applicants to the same programs, spread over programs and regions. A cluster is
flagged when it holds at least ``min_firms`` households, several of them tied to the others by two
independent groups (``multi_firms``, ``multi_share``), and it acts like a broker: its behaviour
(the risk without the evidence part) reaches ``flag_at``, its members are spread over regions, it
shares money no honest intermediary explains (:data:`UNEXPLAINED`) or it rotates a pool of
identifiers (:func:`pool_kinds`). Every threshold is a field of :class:`ClusterParams`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

RISK_WEIGHTS: dict[str, float] = {
    "groups": 0.05,      # independent kinds of identifier/plan evidence seen in the cluster
    "burst": 0.20,       # share of members submitted within one short window
    "plan": 0.20,        # plan similarity of its links
    "selection": 0.15,   # selected more often than applicants to the same programs (z-score)
    "amount": 0.05,      # awarded more than those applicants
    "repeat": 0.30,      # firms with several applications carrying the same traces (a broker applies everywhere)
    "spread": 0.05,      # members spread over regions (honest shared identifiers are local)
    "evidence": 0.30,    # share of its (households of) firms tied to the others by two independent groups
}
# A shared address explains a shared landline and a shared Wi-Fi (one home, one building): on a
# firm that shares its address with the cluster, those groups are not independent evidence.
COLOCATION: dict[str, tuple[str, ...]] = {"place": ("contact", "network")}
# Groups no honest intermediary explains when several households share them: an accountant, a PC
# room, a building, a consultant or a franchisor legitimately carries many firms' contacts,
# network, address, documents or plan, but grant money paid into one account for several
# unrelated households is a fee collected (related firms, counted as one household, excepted).
UNEXPLAINED: tuple[str, ...] = ("money",)
# The evidence group of a plan copy disguised by reordering its sentences (see
# analytics.brokers.links.reordered_copies): an act beside the copy, no honest sharer's.
REORDERED = "reordered"
# An honest intermediary has one phone, one e-mail, one PC, one address: its clients share *the*
# office's value. A broker rotates a pool (several phones, e-mails, devices of one kind, so that
# no two clients need share the same one); several values of one kind, each a trace of the
# cluster on several households, are that pool.


@dataclass(frozen=True)
class ClusterParams:
    max_size: int = 200          # components larger than this are split by Louvain
    trace_firms: int = 2         # a value (or plan) shared with this many firms of a cluster ...
    trace_share: float = 0.5     # ... and mostly inside it is the cluster's trace: its other carriers join
    louvain_resolution: float = 1.0
    min_firms: int = 3           # two firms sharing a household are not a ring
    weak_groups: tuple[str, ...] = ("document",)  # groups that cannot carry a flag alone (names)
    flag_at: float = 0.25        # behaviour (the risk without the evidence part) of a flagged cluster ...
    spread_at: float = 0.8       # ... or its spread over regions (honest shared identifiers are local), and
    burst_at: float = 0.5        # a cluster with this share of members in one burst_days window counts timing as evidence
    multi_firms: int = 2         # ... this many of its households (and ...
    multi_share: float = 0.3     # ... this share of them) tied to the others by >= 2 independent groups
    burst_days: float = 1.0      # window for the burst share
    unexplained_groups: tuple[str, ...] = UNEXPLAINED  # sharing these by min_firms households is itself
                                 # a broker's act (no behaviour needed), see UNEXPLAINED
    pool_values: int = 2         # this many values of one kind (not a name) ...
    pool_households: int = 3     # ... each a trace of the cluster on this many households: a broker's pool,
                                 # itself a broker's act (0 values: off)
    sitting_hours: float = 12.0  # a clustered firm's other applications this close to one of its clustered
                                 # ones were filed in the same sitting and join it (same_sitting; 0: off)
    calls_alpha: float = 0.01    # a block hanging on another whose programs its applications went to with
                                 # less chance than this stays with it (split_blocks; 0: off): a test of
                                 # a piece already strongly linked to the block, not a search of the data
    split_thin: bool = True      # clusters failing the evidence test are split into communities once and
                                 # judged again: a ring swamped by an honest crowd (split_communities)
    weights: dict[str, float] = field(default_factory=lambda: dict(RISK_WEIGHTS))
    seed: int = 0

    def to_json(self) -> dict:
        return asdict(self)


def members_of(assignment: dict[int, int]) -> dict[int, list[int]]:
    """Each cluster's applications, in the assignment's order."""
    apps_of: dict[int, list[int]] = {}
    for app, cid in assignment.items():
        apps_of.setdefault(cid, []).append(app)
    return apps_of


def components(app_a: np.ndarray, app_b: np.ndarray, params: ClusterParams) -> dict[int, int]:
    """application_id -> cluster id (0-based, largest cluster first) for the given strong links.

    Components are found by scipy (a networkx graph of every link was half a minute at national
    scale). Louvain's seeded split depends on the order in which it meets nodes and neighbours,
    so an oversized component is handed to it as networkx's subgraph of the whole graph would
    be: its node set as networkx's search builds it (the search runs on the oversized
    components' links alone, in their order: it starts from the same node and meets the same
    neighbours), each node's neighbours in the order the links arrive."""
    a, b = np.asarray(app_a, dtype=np.int64), np.asarray(app_b, dtype=np.int64)
    if a.size == 0:
        return {}
    nodes, inv = np.unique(np.concatenate([a, b]), return_inverse=True)
    ia, ib = inv[: a.size], inv[a.size :]
    n_comp, label = connected_components(coo_matrix((np.ones(a.size, dtype=np.int8), (ia, ib)),
                                                    shape=(nodes.size, nodes.size)), directed=False)
    group = label.copy()   # each node's group: its component, or a Louvain community of an oversized one
    big = np.flatnonzero(np.bincount(label, minlength=n_comp) > params.max_size)
    if big.size:
        inside = np.flatnonzero(np.isin(label[ia], big))
        inside = inside[np.argsort(label[ia[inside]], kind="stable")]   # by component, in arrival order
        ends = np.searchsorted(label[ia[inside]], big, side="right")
        g = nx.Graph()
        g.add_edges_from(zip(a[inside].tolist(), b[inside].tolist()))
        for comp in nx.connected_components(g):
            c = int(np.searchsorted(big, label[np.searchsorted(nodes, next(iter(comp)))]))
            edges = inside[ends[c - 1] if c else 0 : ends[c]]
            sub = nx.Graph()
            sub.add_nodes_from(set(n for n in comp))   # the node set of G.subgraph(comp), in its order
            sub.add_edges_from(zip(a[edges].tolist(), b[edges].tolist()))   # neighbours in arrival order
            for part in nx.community.louvain_communities(sub, resolution=params.louvain_resolution, seed=params.seed):
                group[np.searchsorted(nodes, np.fromiter(part, dtype=np.int64, count=len(part)))] = n_comp
                n_comp += 1
    size = np.bincount(group, minlength=n_comp)
    first = np.full(n_comp, nodes.size)
    np.minimum.at(first, group, np.arange(nodes.size))   # nodes are sorted: a group's smallest id
    rank = np.empty(n_comp, dtype=np.int64)
    rank[np.lexsort((first, -size))] = np.arange(n_comp)   # the split components, now empty, come last
    return dict(zip(nodes.tolist(), rank[group].tolist()))


def attach_by_links(assignment: dict[int, int], links: pd.DataFrame, *, min_firms: int) -> dict[int, int]:
    """Add unclustered applications tied to at least ``min_firms`` firms of one cluster by hard
    links (:data:`analytics.links.HARD_GROUPS`: not names, not timing): a member that left one kind
    of trace (the broker's template, or the broker's phone) has no strong link but shares that
    trace with several members.

    ``links``: app_a, app_b, firm_a, firm_b, hard. Returns a new assignment.
    """
    pl = links[links["hard"]]
    a_cl, b_cl = pl["app_a"].map(assignment), pl["app_b"].map(assignment)
    side = pd.concat([
        pd.DataFrame({"app": pl["app_b"], "cluster": a_cl, "firm": pl["firm_a"]})[a_cl.notna() & b_cl.isna()],
        pd.DataFrame({"app": pl["app_a"], "cluster": b_cl, "firm": pl["firm_b"]})[b_cl.notna() & a_cl.isna()],
    ])
    out = dict(assignment)
    if side.empty:
        return out
    firms = side.groupby(["app", "cluster"])["firm"].nunique().rename("firms").reset_index()
    best = firms[firms["firms"] >= min_firms].sort_values(["app", "firms", "cluster"], ascending=[True, False, True])
    best = best.drop_duplicates("app")
    out.update(zip(best["app"].astype("int64").tolist(), best["cluster"].astype(int).tolist()))
    return out


def merge_linked(assignment: dict[int, int], links: pd.DataFrame, *, min_pairs: int = 2) -> dict[int, int]:
    """Merge clusters tied by hard links between at least ``min_pairs`` distinct pairs of firms:
    one ring whose strong links happened to fall into two groups is one ring."""
    a_cl, b_cl = links["app_a"].map(assignment), links["app_b"].map(assignment)
    mask = a_cl.notna() & b_cl.notna() & (a_cl != b_cl) & links["hard"]
    if not mask.any():
        return dict(assignment)
    x = pd.DataFrame({"c1": np.minimum(a_cl[mask], b_cl[mask]), "c2": np.maximum(a_cl[mask], b_cl[mask]),
                      "f1": np.minimum(links.loc[mask, "firm_a"], links.loc[mask, "firm_b"]),
                      "f2": np.maximum(links.loc[mask, "firm_a"], links.loc[mask, "firm_b"])})
    ties = x.drop_duplicates().groupby(["c1", "c2"]).size()
    ties = ties[ties >= min_pairs]
    if ties.empty:
        return dict(assignment)
    g = nx.Graph()
    g.add_edges_from(ties.index.tolist())
    root = {int(c): int(min(comp)) for comp in nx.connected_components(g) for c in comp}
    return {app: root.get(cid, cid) for app, cid in assignment.items()}


def split_blocks(assignment: dict[int, int], links: pd.DataFrame, household: dict[int, int], *,
                 min_households: int, calls: dict[int, str] | None = None,
                 call_share: dict[str, float] | None = None, calls_alpha: float = 0.0) -> dict[int, int]:
    """Split each cluster into the biconnected blocks of its households' graph.

    A ring is many-to-many: its members share the broker's values with several other members, so
    its households form a block that stays connected when any one household is taken out. What
    hangs on one household only (the neighbour sharing a member's home phone, and its own dozen
    applications; the other users of a PC room one member once used) is that household's tie,
    not the ring's, and is judged apart: blocks of at least ``min_households`` households become
    clusters of their own, smaller pieces leave. A household in several blocks (the one they
    hang on) goes with the block it is most surely linked to, its heaviest link there (a ring's
    phone, shared by five firms, outweighs a PC room's address shared by fifty: the match weight
    is term-frequency adjusted); on equal weight, with the largest. A household with no link of
    its own in the cluster (it came with a trace of the whole cluster) stays with the largest
    block. Related firms count as one household. Timing alone is no tie.

    A block that hangs on another (shares a household with it, or one link joins them) stays with
    it when its applications went to that block's programs (``calls``: application -> program)
    more often than chance allows: a broker files its clients into the calls it works, so a piece
    of its ring that shares only one of the broker's values (a second device of its pool) went to
    the same few programs; a PC room's other users apply to whatever they need. Chance is the
    binomial tail of k of the piece's n applications falling in programs that hold a share p of
    all applications (``call_share``), below ``calls_alpha`` (0: never).

    ``links``: app_a, app_b, firm_a, firm_b, groups, weight (links touching clustered applications).
    Returns a new assignment, numbered 0.. largest cluster first.
    """
    def blocks(g: nx.Graph) -> dict[int, int]:
        found = sorted((b for b in nx.biconnected_components(g) if len(b) >= min_households),
                       key=lambda b: (-len(b), min(b)))
        owner: dict[int, int] = {}
        for i, b in enumerate(found):   # largest first: a strictly heavier link moves a household
            for h in b:
                if h not in owner or _heaviest(g, h, b) > _heaviest(g, h, found[owner[h]]):
                    owner[h] = i
        root = _same_calls(g, found, call_share or {}, calls_alpha) if calls_alpha > 0 else list(range(len(found)))
        return {h: root[i] for h, i in owner.items()}

    return _split(assignment, links, household, blocks, calls=calls)


def _same_calls(g: nx.Graph, found: list[set[int]], call_share: dict[str, float], alpha: float) -> list[int]:
    """For each block of ``found`` (largest first), the block it stays with (itself, or a larger
    one it hangs on whose programs its applications went to beyond chance: see :func:`split_blocks`).
    Nodes of ``g`` carry ``calls``, the programs of the household's applications."""
    from scipy.stats import binom

    root = list(range(len(found)))
    if len(found) < 2:
        return root

    def find(i: int) -> int:
        while root[i] != i:
            i = root[i]
        return i

    # each block's programs and the blocks each household is in or next to, once
    programs = [{c for h in b for c in g.nodes[h].get("calls", ())} for b in found]
    near: dict[int, set[int]] = {}
    for j, b in enumerate(found):
        for h in b:
            near.setdefault(h, set()).add(j)
            for o in g[h]:
                near.setdefault(o, set()).add(j)
    for i in range(1, len(found)):
        piece = found[i]
        for j in sorted({j for h in piece for j in near[h] if j < i}):
            host = found[j]
            own = [c for h in piece - host for c in g.nodes[h].get("calls", ())]
            k = sum(c in programs[j] for c in own)
            p = min(sum(call_share.get(c, 0.0) for c in programs[j]), 1.0)
            if own and k and binom.sf(k - 1, len(own), p) < alpha:
                root[find(i)] = find(j)
                break
    return [find(i) for i in range(len(found))]

def split_communities(assignment: dict[int, int], links: pd.DataFrame, household: dict[int, int],
                      thin: set[int], params: ClusterParams) -> dict[int, int]:
    """Split the ``thin`` clusters (see :func:`thin`) into the Louvain communities of their
    households' graph, links weighted by match weight.

    A public PC room, a carrier's shared address, a building's Wi-Fi: dozens of strangers tied by
    one value and nothing else. A ring of a dozen households that also used it is tied to the
    others by several traces (the broker's phone, template, timing) and, through the two or three
    members who used the room, one block with the crowd: judged as one cluster its few
    households with two kinds of evidence are a small share, and it goes unflagged. The ring is
    a community (dense and heavy inside, a few light links out) with evidence of its own: a
    group of evidence inside it that none of its links to the rest carries (the broker's phone,
    where the crowd shares only the room's network). Such communities of at least ``min_firms``
    households are judged on their own; the rest stays one cluster, as it was. A slice of the
    crowd itself (franchisees a few hours apart, sharing the one plan they all share) has no
    evidence of its own and stays. Only clusters that fail the evidence test are split, so no
    flagged cluster is ever broken up, and only the rings a split finds are taken out of the
    cluster (:func:`keep_found`).
    """
    def communities(g: nx.Graph) -> dict[int, int]:
        found = nx.community.louvain_communities(g, weight="weight", resolution=params.louvain_resolution,
                                                 seed=params.seed)
        apart = sorted((c for c in found if len(c) >= params.min_firms and _own_evidence(g, c, params.weak_groups)),
                       key=lambda c: (-len(c), min(c)))
        owner = {h: i for i, c in enumerate(apart) for h in c}
        return owner | {h: len(apart) for h in g if h not in owner}

    return _split(assignment, links, household, communities, only=thin)


def keep_found(before: dict[int, int], after: dict[int, int], thin: set[int], flagged: set[int]) -> dict[int, int]:
    """The pieces of the ``thin`` clusters of ``before`` that their split ``after``
    (:func:`split_communities`) ``flagged`` (clusters of ``after``) become clusters of their own;
    everything else stays as it was in ``before``. A split that finds no ring only scatters a
    cluster the auditor could still open whole (a ring too thinly tied to flag falls apart into
    pieces no later rule could join again).
    Returns a new assignment, numbered 0.. largest cluster first."""
    pieces: dict[tuple[str, int], list[int]] = {}
    for app, c in before.items():
        if c in thin and after.get(app) in flagged:
            pieces.setdefault(("after", after[app]), []).append(app)
        else:
            pieces.setdefault(("before", c), []).append(app)
    ordered = sorted(pieces.values(), key=lambda ps: (-len(ps), min(ps)))
    return {app: new for new, piece in enumerate(ordered) for app in piece}


def thin(cl: pd.DataFrame, params: ClusterParams) -> set[int]:
    """Clusters of :func:`risk` too few of whose households are tied by two independent groups
    (``multi_firms``, ``multi_share``) and large enough to hold two clusters of ``min_firms``
    households: where a ring may be swamped by an honest crowd (:func:`split_communities`)."""
    if not params.split_thin or cl.empty:
        return set()
    share = cl["multi_households"] / cl["n_households"].clip(lower=1)
    multi = (cl["multi_households"] >= params.multi_firms) & (share >= params.multi_share)
    return set(cl.loc[~multi & (cl["n_households"] >= 2 * params.min_firms), "cluster_id"].astype(int).tolist())


def _split(assignment: dict[int, int], links: pd.DataFrame, household: dict[int, int],
           pieces_of: Callable[[nx.Graph], dict[int, int]], only: set[int] | None = None,
           calls: dict[int, str] | None = None) -> dict[int, int]:
    """Split clusters (those in ``only``, or all) by ``pieces_of`` their households' graph
    (household -> piece; a household it leaves out leaves, one with no link in the cluster stays
    with piece 0). Links: non-timing ties between households, weighted by their heaviest link;
    nodes carry ``calls``, the programs of the household's applications (when ``calls`` is given).
    Returns a new assignment, numbered 0.. largest cluster first."""
    if not assignment:
        return dict(assignment)
    a_cl, b_cl = links["app_a"].map(assignment), links["app_b"].map(assignment)
    ties = _has_group(links["groups"], lambda g: g != "timing")
    inside = links[a_cl.notna() & (a_cl == b_cl) & ties]
    # each clustered application's household (its firm's, or its firm; -app when no link names it)
    apps = np.fromiter(assignment, dtype=np.int64, count=len(assignment))
    firm = pd.Series(np.concatenate([links["firm_a"].to_numpy(), links["firm_b"].to_numpy()]),
                     index=np.concatenate([links["app_a"].to_numpy(), links["app_b"].to_numpy()]))
    firm = firm[~firm.index.duplicated()].reindex(apps).fillna(pd.Series(-apps, index=apps)).astype(np.int64)
    hh: dict[int, int] = dict(zip(apps.tolist(), firm.map(household).fillna(firm).astype(np.int64).tolist()))
    graphs: dict[int, nx.Graph] = {}
    for app, cid in assignment.items():
        if only is not None and cid not in only:   # kept whole below: no graph needed
            continue
        if cid not in graphs:
            graphs[cid] = nx.Graph()
        graphs[cid].add_node(hh[app])
        if calls is not None and app in calls:
            graphs[cid].nodes[hh[app]].setdefault("calls", []).append(calls[app])
    # one edge per pair of households, in the order their first link comes (the order the pieces
    # are found in), with the heaviest weight and every group of their links: aggregated in pandas,
    # as an edge update per link in Python was seconds at scale
    e = pd.DataFrame({"cid": inside["app_a"].map(assignment).to_numpy(), "x": inside["app_a"].map(hh).to_numpy(),
                      "y": inside["app_b"].map(hh).to_numpy(), "w": inside["weight"].to_numpy(),
                      "groups": inside["groups"].to_numpy()})
    e = e[(e["x"] != e["y"]) & (e["cid"].isin(only) if only is not None else True)]
    e = e.assign(u=np.minimum(e["x"], e["y"]), v=np.maximum(e["x"], e["y"]))
    edges = e.groupby(["cid", "u", "v"], sort=False)["w"].max()
    row, group = _exploded(e["groups"])
    one = pd.DataFrame({"cid": e["cid"].to_numpy()[row], "u": e["u"].to_numpy()[row], "v": e["v"].to_numpy()[row],
                        "groups": group})
    one = one[one["groups"] != "timing"].drop_duplicates()
    # each edge's groups as bits (the sum of its distinct groups' bits), one set per combination:
    # a set per edge built link by link in Python was seconds at national scale
    code, names = pd.factorize(one["groups"], sort=True)
    bits = one.assign(bit=np.left_shift(1, code.astype(np.int64)))
    mask = bits.groupby(["cid", "u", "v"], sort=False)["bit"].sum().reindex(edges.index, fill_value=0)
    sets = {m: frozenset(n for i, n in enumerate(names) if m >> i & 1) for m in set(mask.tolist())}
    by_graph: dict[int, list[tuple[int, int, dict]]] = {}
    keys = edges.index
    for cid, u, v, w, m in zip(keys.get_level_values(0).tolist(), keys.get_level_values(1).tolist(),
                               keys.get_level_values(2).tolist(), edges.tolist(), mask.tolist()):
        by_graph.setdefault(cid, []).append((u, v, {"weight": w, "groups": sets[m]}))
    for cid, ebunch in by_graph.items():   # each graph's edges in the same order, one call per graph
        graphs[cid].add_edges_from(ebunch)
    apps_of = members_of(assignment)
    pieces: list[list[int]] = [apps for cid, apps in apps_of.items() if cid not in graphs]
    for cid, g in graphs.items():
        owner = pieces_of(g)
        if not owner:
            continue
        for h in nx.isolates(g):
            owner.setdefault(h, 0)
        split: dict[int, list[int]] = {}
        for app in apps_of[cid]:
            if hh[app] in owner:
                split.setdefault(owner[hh[app]], []).append(app)
        pieces.extend(split.values())
    pieces.sort(key=lambda c: (-len(c), min(c)))
    return {app: new for new, piece in enumerate(pieces) for app in piece}


def _households(firms: pd.Series, household: dict[int, int]) -> pd.Series:
    """Each firm's related-firm group (its own id when it has none); a dict look-up per row in
    Python was a minute of the risk step at national scale."""
    return firms.map(household).fillna(firms).astype("int64") if household else firms.astype("int64")


def same_sitting(assignment: dict[int, int], apps: pd.DataFrame, *, hours: float) -> dict[int, int]:
    """Add a clustered firm's other applications submitted within ``hours`` of one of its clustered
    applications, to that application's cluster.

    Links join applications of different firms only (a firm's own applications share its phone
    and address by nature, which says nothing of a third party), so a client's second and third
    application filed by the broker in the same sitting carry no evidence of their own when the
    broker's traces went on one of them. They were filed together: the auditor opens them
    together. Applications of the firm at other times stay out.

    ``apps``: application_id, firm_id, submitted_at of the clustered firms' applications.
    Returns a new assignment.
    """
    out = dict(assignment)
    if not assignment or hours <= 0 or apps.empty:
        return out
    inside = apps["application_id"].isin(assignment.keys())
    clustered = apps[inside].assign(cluster_id=apps.loc[inside, "application_id"].map(assignment))
    pairs = apps[~inside].merge(clustered[["firm_id", "submitted_at", "cluster_id"]], on="firm_id", suffixes=("", "_c"))
    pairs["gap"] = (pairs["submitted_at"] - pairs["submitted_at_c"]).abs()
    near = pairs[pairs["gap"] <= pd.Timedelta(hours=hours)].sort_values(["application_id", "gap", "cluster_id"])
    near = near.drop_duplicates("application_id")
    out.update(zip(near["application_id"].astype("int64").tolist(), near["cluster_id"].astype(int).tolist()))
    return out


def _own_evidence(g: nx.Graph, community: set[int], weak: tuple[str, ...]) -> bool:
    """Whether links inside ``community`` carry a group (not timing, not a weak one) that none of
    its links to the rest of the graph carries."""
    inside: set[str] = set()
    out: set[str] = set()
    for h in community:
        for o, d in g[h].items():
            (inside if o in community else out).update(d["groups"])
    return bool(inside - out - set(weak))


def _heaviest(g: nx.Graph, h: int, block: set[int]) -> float:
    """The weight of the heaviest link from household ``h`` to the rest of ``block``."""
    return max(d["weight"] for o, d in g[h].items() if o in block)


def multi_evidence(links: pd.DataFrame, household: dict[int, int], params: ClusterParams,
                   traces: pd.DataFrame | None = None, timed: set | None = None) -> pd.Series:
    """Per cluster: households tied to other households of the cluster by at least two independent
    evidence groups, over all their links and the cluster's traces they carry
    (:func:`analytics.brokers.links.cluster_traces`); timing and co-located groups not counted (see
    :data:`COLOCATION`). ``links``: strong in-cluster links with cluster_id, firm_a, firm_b, groups."""
    if links.empty or "firm_a" not in links:
        return pd.Series(dtype=float)
    ha = _households(links["firm_a"], household)
    hb = _households(links["firm_b"], household)
    row, group = _exploded(links["groups"])
    keep = (ha != hb).to_numpy()[row]
    row, group = row[keep], group[keep]
    cid = links["cluster_id"].to_numpy()[row]
    side = pd.DataFrame({"cluster_id": np.concatenate([cid, cid]), "groups": np.concatenate([group, group]),
                         "h": np.concatenate([ha.to_numpy()[row], hb.to_numpy()[row]])})
    if traces is not None and len(traces):
        side = pd.concat([side, pd.DataFrame({"cluster_id": traces["cluster_id"], "groups": traces["grp"],
                                              "h": _households(traces["firm_id"], household)})])
    # timing counts only in clusters submitted in a burst (``timed``): a deadline day alone is no tie
    side = side[(side["groups"] != "timing") | side["cluster_id"].isin(timed or set())]
    # each household's set of groups as rows (a Python set per household was seconds per score)
    side = side.astype({"groups": object}).drop_duplicates(["cluster_id", "h", "groups"])
    keys = [side["cluster_id"].to_numpy(), side["h"].to_numpy()]
    explained = np.zeros(len(side), dtype=bool)
    for g, kinds in COLOCATION.items():
        present = pd.Series((side["groups"] == g).to_numpy() & ~explained).groupby(keys).transform("any").to_numpy()
        explained |= present & side["groups"].isin(kinds).to_numpy()
    weak = side["groups"].isin(params.weak_groups).to_numpy()
    strong = pd.Series(~explained & ~weak).groupby(keys).sum()
    any_weak = pd.Series(~explained & weak).groupby(keys).any()
    return ((strong + any_weak.astype(int)) >= 2).groupby(level=0).sum().astype(float)


def _exploded(groups: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(row, group): each group of each list of ``groups`` with the position of its row (pandas'
    explode of DuckDB's lists took four times as long)."""
    lists = groups.tolist()
    lengths = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
    flat = np.concatenate(lists).astype(object) if lengths.sum() else np.array([], dtype=object)
    return np.repeat(np.arange(len(lists)), lengths), flat


def _has_group(groups: pd.Series, wanted: Callable[[pd.Series], pd.Series]) -> np.ndarray:
    """For each list of ``groups``: whether one of its groups is ``wanted`` (a test on a column of
    groups), in order (an ``any`` per row in Python was a second per score at scale)."""
    row, group = _exploded(groups)
    hit = np.zeros(len(groups), dtype=bool)
    hit[row[wanted(pd.Series(group)).to_numpy(dtype=bool)]] = True
    return hit


def tied_households(links: pd.DataFrame, household: dict[int, int], groups: tuple[str, ...],
                    traces: pd.DataFrame | None = None) -> pd.Series:
    """Per cluster: households tied to another household of the cluster by one of ``groups`` (a
    link between two households, or a trace of the cluster they carry)."""
    if links.empty or "firm_a" not in links or not groups:
        return pd.Series(dtype=float)
    ha = _households(links["firm_a"], household)
    hb = _households(links["firm_b"], household)
    hit = (ha != hb) & _has_group(links["groups"], lambda g: g.isin(groups))
    side = pd.concat([pd.DataFrame({"cluster_id": links["cluster_id"], "h": ha})[hit],
                      pd.DataFrame({"cluster_id": links["cluster_id"], "h": hb})[hit]])
    if traces is not None and len(traces):
        t = traces[traces["grp"].isin(groups)]
        side = pd.concat([side, pd.DataFrame({"cluster_id": t["cluster_id"], "h": _households(t["firm_id"], household)})])
    return side.drop_duplicates().groupby("cluster_id").size().astype(float)


def pool_kinds(traces: pd.DataFrame | None, household: dict[int, int], params: ClusterParams) -> pd.Series:
    """Per cluster: kinds of identifier (not names) of which at least ``pool_values`` values are
    traces of the cluster (:func:`analytics.brokers.links.cluster_traces`) each carried by at least
    ``pool_households`` households: a broker's rotating pool, not an office's one number."""
    if traces is None or traces.empty or params.pool_values <= 0:
        return pd.Series(dtype=float)
    t = traces[~traces["grp"].isin(params.weak_groups)]
    t = t.assign(h=_households(t["firm_id"], household))
    per_value = t.groupby(["cluster_id", "kind", "value"])["h"].nunique()
    per_value = per_value[per_value >= params.pool_households]
    per_kind = per_value.groupby(level=[0, 1]).size()
    return (per_kind >= params.pool_values).groupby(level=0).sum().astype(float)


def reordered_evidence(reordered: pd.DataFrame | None, household: dict[int, int]) -> pd.DataFrame:
    """Evidence rows (cluster_id, grp, firm_id) for :func:`multi_evidence` from plan links whose
    copies are reordered (:func:`analytics.brokers.links.reordered_copies`; cluster_id, firm_a,
    firm_b): both households get the group :data:`REORDERED`, beside the plan they share."""
    if reordered is None or reordered.empty:
        return pd.DataFrame(columns=["cluster_id", "grp", "firm_id"])
    r = reordered[_households(reordered["firm_a"], household) != _households(reordered["firm_b"], household)]
    return pd.DataFrame({"cluster_id": pd.concat([r["cluster_id"], r["cluster_id"]]), "grp": REORDERED,
                         "firm_id": pd.concat([r["firm_a"], r["firm_b"]]).astype("int64")}).drop_duplicates()


def risk(members: pd.DataFrame, links: pd.DataFrame, params: ClusterParams,
         household: dict[int, int] | None = None, traces: pd.DataFrame | None = None,
         reordered: pd.DataFrame | None = None) -> pd.DataFrame:
    """Risk parts, score and flag per cluster.

    ``members``: application_id, cluster_id, firm_id, region_code, program_id, submitted_at, status,
    amount_awarded_krw, prog_selection_rate, prog_mean_award (the last two over all applicants to
    the program). ``links``: strong links with cluster_id, weight, groups, plan_similarity (and
    firm_a, firm_b for the evidence part). ``household``: firm -> its related-firm group
    (:func:`analytics.brokers.links.related_firms`); related firms count once. ``reordered``: the
    in-cluster plan links whose copies are reordered (cluster_id, firm_a, firm_b), an act beside
    the copy (:func:`reordered_evidence`).
    """
    household = household or {}
    disguise = reordered_evidence(reordered, household)
    m = members.copy()
    m["household"] = _households(m["firm_id"], household)
    m["selected"] = (m["status"] == "selected").astype(float)
    m["t"] = (m["submitted_at"] - pd.Timestamp("2000-01-01")).dt.total_seconds() / 86_400  # days
    g = m.groupby("cluster_id")
    out = pd.DataFrame({
        "size": g.size(),
        "n_firms": g["firm_id"].nunique(),
        "n_households": g["household"].nunique(),
        "n_programs": g["program_id"].nunique(),
        "n_regions": g["region_code"].nunique(),
        "awarded_krw": g["amount_awarded_krw"].sum(),
        "selected": g["selected"].sum(),
        "expected_selected": g["prog_selection_rate"].sum(),
        "expected_award": g["prog_mean_award"].sum(),
        "first_at": g["submitted_at"].min(),
        "last_at": g["submitted_at"].max(),
    })
    # repeat: share of firms with several applications carrying the traces (robust to one big firm)
    per_firm = m.groupby(["cluster_id", "firm_id"]).size()
    out["repeat_share"] = (per_firm >= 2).groupby(level=0).mean()
    # burst: the largest share of members whose submissions fit in one window of burst_days
    out["burst_share"] = g["t"].apply(lambda s: _max_in_window(np.sort(s.to_numpy()), params.burst_days)) / out["size"]
    lg = links.groupby("cluster_id")
    row, group = _exploded(links["groups"])
    kinds = (pd.DataFrame({"cluster_id": links["cluster_id"].to_numpy()[row], "groups": group}).drop_duplicates()
             .sort_values(["cluster_id", "groups"]).groupby("cluster_id")["groups"].agg(list))
    out["groups"] = kinds.reindex(out.index).apply(lambda v: v if isinstance(v, list) else [])
    out["n_groups"] = out["groups"].apply(len)
    out["mean_weight"] = lg["weight"].mean().reindex(out.index).fillna(0)
    out["plan_similarity"] = lg["plan_similarity"].mean().reindex(out.index).fillna(0)
    ident = out["groups"].apply(lambda gs: len([x for x in gs if x != "timing"]))
    sel_z = (out["selected"] - out["expected_selected"]) / np.sqrt(g["prog_selection_rate"].apply(lambda p: (p * (1 - p)).sum()).clip(lower=0.25))
    out["selection_z"] = sel_z
    found = [t for t in (None if traces is None else traces[["cluster_id", "grp", "firm_id"]], disguise)
             if t is not None and len(t)]
    evidence = pd.concat(found) if found else None
    out["multi_households"] = multi_evidence(
        links, household, params, evidence, set(out.index[out["burst_share"] >= params.burst_at])).reindex(out.index).fillna(0)
    out["reordered_households"] = _households(disguise["firm_id"], household).groupby(
        disguise["cluster_id"].to_numpy()).nunique().reindex(out.index).fillna(0) if len(disguise) else 0.0
    multi_share = out["multi_households"] / out["n_households"].clip(lower=1)
    out["unexplained_households"] = tied_households(
        links, household, params.unexplained_groups, traces).reindex(out.index).fillna(0)
    out["pool_kinds"] = pool_kinds(traces, household, params).reindex(out.index).fillna(0)
    parts = pd.DataFrame({
        "groups": np.clip((ident - 1) / 3, 0, 1),
        "burst": np.clip((out["burst_share"] - 0.2) / 0.5, 0, 1),
        "plan": np.clip(out["plan_similarity"] / 0.3, 0, 1),
        "selection": np.clip(sel_z / 3, 0, 1),
        "amount": np.clip(out["awarded_krw"] / out["expected_award"].clip(lower=1) - 1, 0, 1),
        "repeat": np.clip(out["repeat_share"] / 0.4, 0, 1),
        "spread": np.clip((out["n_regions"] - 1) / np.maximum(out["n_firms"] - 1, 1) / 0.5, 0, 1),
        "evidence": np.clip(multi_share / 0.5, 0, 1),
    }, index=out.index)
    out["risk"] = sum(parts[k] * w for k, w in params.weights.items()) / sum(params.weights.values())
    behaviour = {k: w for k, w in params.weights.items() if k != "evidence"}
    out["behaviour"] = sum(parts[k] * w for k, w in behaviour.items()) / sum(behaviour.values())
    # a cluster held together only by namesakes and coincident timing is not a network
    core = out["groups"].apply(lambda gs: bool(set(gs) - {"timing", *params.weak_groups}))
    multi = (out["multi_households"] >= params.multi_firms) & (multi_share >= params.multi_share)
    # two independent groups on several members, and a broker's behaviour (bursts, copied plans,
    # repeat clients, outcomes) or members spread over the country: an office's clients are local
    # (or a tie no honest intermediary explains, on several households: see UNEXPLAINED)
    acts = ((out["behaviour"] >= params.flag_at) | (parts["spread"] >= params.spread_at)
            | (out["unexplained_households"] >= params.min_firms) | (out["pool_kinds"] >= 1))
    out["flagged"] = (out["n_households"] >= params.min_firms) & acts & multi & core
    # read column by column: a look-up per cell (.at) was seconds per score at scale
    p = {k: parts[k].tolist() for k in params.weights}
    o = {k: out[k].tolist() for k in (
        "n_groups", "groups", "mean_weight", "plan_similarity", "burst_share", "selected", "expected_selected",
        "selection_z", "awarded_krw", "expected_award", "n_programs", "n_regions", "repeat_share", "n_households",
        "multi_households", "unexplained_households", "pool_kinds", "reordered_households")}
    out["reasons"] = [
        {k: round(float(p[k][i]), 3) for k in params.weights} | {
            "n_groups": int(o["n_groups"][i]), "evidence_groups": o["groups"][i],
            "mean_weight": round(float(o["mean_weight"][i]), 2),
            "plan_similarity": round(float(o["plan_similarity"][i]), 3),
            "burst_share": round(float(o["burst_share"][i]), 3),
            "selected": int(o["selected"][i]), "expected_selected": round(float(o["expected_selected"][i]), 2),
            "selection_z": round(float(o["selection_z"][i]), 2),
            "awarded_krw": int(o["awarded_krw"][i]), "expected_award_krw": int(o["expected_award"][i]),
            "n_programs": int(o["n_programs"][i]), "n_regions": int(o["n_regions"][i]),
            "repeat_share": round(float(o["repeat_share"][i]), 3),
            "n_households": int(o["n_households"][i]), "multi_households": int(o["multi_households"][i]),
            "unexplained_households": int(o["unexplained_households"][i]),
            "pool_kinds": int(o["pool_kinds"][i]),
            "reordered_households": int(o["reordered_households"][i]),
        }
        for i in range(len(out))
    ]
    return out.reset_index()


def _max_in_window(t: np.ndarray, width: float) -> int:
    """Most points of a sorted array that fit in one window of the given width."""
    if t.size == 0:
        return 0
    ends = np.searchsorted(t, t + width, side="right")
    return int((ends - np.arange(t.size)).max())
