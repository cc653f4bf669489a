"""The investigator's graph of a cluster, checked against networkx and the raw fingerprints on the
tiny synthetic database: which nodes and edges, hop expansion, evidence filters, masking."""
from __future__ import annotations

import json
import shutil
from functools import partial
from pathlib import Path

import duckdb
import networkx as nx
import pandas as pd
import pytest

from analytics import brokers
from analytics.brokers import graph, graph_draw
from data.access import AccessDenied
from data.db import attach_run, run_ids
from ui import i18n, names

# the words of the drawings, as the page passes them: the catalogue and the term names in one language
T = {lang: partial(i18n.t, lang=lang) for lang in i18n.LANGS}
TERM = {lang: partial(names.term, lang=lang) for lang in i18n.LANGS}


@pytest.fixture(scope="module")
def con(tiny_db: Path, tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("brokergraph") / "madang.duckdb"
    shutil.copyfile(tiny_db, path)
    brokers.run(path)
    con = duckdb.connect(str(path), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def run_id(con) -> str:
    run_id, = run_ids(con)
    return run_id


@pytest.fixture(scope="module")
def links(con, run_id) -> pd.DataFrame:
    df = con.execute(f"SELECT * FROM {attach_run(con, run_id)}.broker_links WHERE run_id = ?", [run_id]).df()
    df["evidence"] = df["evidence"].map(json.loads)
    return df


@pytest.fixture(scope="module")
def top(con, run_id) -> int:
    return int(con.execute(f"SELECT cluster_id FROM {attach_run(con, run_id)}.broker_clusters WHERE run_id = ? ORDER BY risk DESC, size DESC, "
                           "cluster_id LIMIT 1", [run_id]).fetchall()[0][0])


def _members(con, run_id, cid) -> set[int]:
    return {r[0] for r in con.execute(f"SELECT application_id FROM {attach_run(con, run_id)}.broker_cluster_members "
                                      "WHERE run_id = ? AND cluster_id = ?",
                                      [run_id, cid]).fetchall()}


def _as_nx(g: graph.Graph) -> nx.Graph:
    out = nx.Graph()
    out.add_nodes_from(g.nodes["node_id"])
    out.add_edges_from(zip(g.edges["source"], g.edges["target"]))
    return out


def test_applications_and_shared_identifiers_are_two_kinds_of_nodes(con, run_id, links, top) -> None:
    g = graph.cluster_graph(con, run_id, top, role="auditor")
    members = _members(con, run_id, top)
    apps = g.applications()
    assert set(apps["application_id"]) == members and apps["in_cluster"].all()
    # expected identifiers, from the stored links among the members: every (kind, value) they share
    inside = links[links["app_a"].isin(members) & links["app_b"].isin(members)]
    expected: dict[tuple[str, str], set[int]] = {}
    for r in inside.itertuples():
        for e in r.evidence:
            if e["kind"] != "plan" and e.get("value"):
                expected.setdefault((e["kind"], e["value"]), set()).update({r.app_a, r.app_b})
    ids = g.identifiers()
    values = ids[ids["kind"] != "plan"]
    assert sorted(zip(values["kind"], values["value"])) == sorted(expected)
    # plan groups: the connected groups of plan links among the members, one node each
    plan_pairs = [(r.app_a, r.app_b) for r in inside.itertuples() if any(e["kind"] == "plan" for e in r.evidence)]
    P = nx.Graph(plan_pairs)
    groups = sorted(sorted(c) for c in nx.connected_components(P))
    G = _as_nx(g)
    got_groups = sorted(sorted(int(n[1:]) for n in G.neighbors(r.node_id)) for r in ids[ids["kind"] == "plan"].itertuples())
    assert got_groups == groups
    assert len(g.nodes) == len(members) + len(expected) + len(groups)
    assert len(g.edges) == sum(len(v) for v in expected.values()) + P.number_of_nodes()
    # networkx: an identifier node's neighbours are exactly the applications that hold the value,
    # which the raw fingerprint table confirms independently
    fp = con.execute("SELECT application_id, kind::VARCHAR AS kind, value FROM app_fingerprints "
                     "WHERE application_id IN (SELECT unnest(?::BIGINT[]))", [sorted(members)]).df()
    holders = fp.groupby(["kind", "value"])["application_id"].apply(set).to_dict()
    for r in values.itertuples():
        around = {int(n[1:]) for n in G.neighbors(r.node_id)}
        assert around == expected[(r.kind, r.value)]
        assert around <= holders[(r.kind, r.value)] and G.degree(r.node_id) >= 2
    # bipartite: every edge joins an application to an identifier
    assert nx.is_bipartite(G) and g.edges["source"].str.startswith("a").all() and g.edges["target"].str.startswith("i").all()
    # the "why linked" partner is still the heaviest stored link
    app = min(members)
    mine = g.links[(g.links["app_a"] == app) | (g.links["app_b"] == app)]
    partner = g.strongest_partner(app)
    if partner is not None:
        w = dict(zip(mine["app_a"] + mine["app_b"] - app, mine["weight"]))
        assert w[partner] == max(w.values())


def test_hops_expand_like_networkx(con, run_id, links, top) -> None:
    members = _members(con, run_id, top)
    G = nx.Graph()
    G.add_edges_from(zip(links["app_a"], links["app_b"]))
    focus = min(members)
    for hops in (0, 1, 2, 3):
        g = graph.cluster_graph(con, run_id, top, role="auditor", focus=focus, hops=hops)
        expected = nx.single_source_shortest_path_length(G, focus, cutoff=hops) if focus in G else {focus: 0}
        apps = g.applications()
        assert set(apps["application_id"]) == members | set(expected)
        got = {int(a): int(h) for a, h in zip(apps["application_id"], apps["hop"]) if pd.notna(h)}
        assert got == expected
        assert (apps["in_cluster"] == apps["application_id"].isin(members)).all()
    # the graph of a neighbourhood is larger than the cluster somewhere in this run (else expanding shows nothing)
    grown = [a for a in G.nodes if a in members and len(nx.single_source_shortest_path_length(G, a, cutoff=1)) > 1]
    assert grown
    # a helper agrees with networkx from several seeds at once
    seeds = set(sorted(members)[:3])
    dist = graph.neighbourhood(con, run_id, seeds, 2)
    multi = nx.multi_source_dijkstra_path_length(G, seeds, cutoff=2) if seeds <= set(G) else None
    if multi is not None:
        assert dist == dict(multi)


def test_filter_by_evidence_kind(con, run_id, top) -> None:
    g = graph.cluster_graph(con, run_id, top, role="auditor")
    kinds = g.kinds()
    assert kinds and kinds == [k for k in graph.KINDS if k in set(g.edges["kind"])]
    one = g.only([kinds[0]])
    assert set(one.edges["kind"]) == {kinds[0]}
    assert set(one.identifiers()["kind"]) <= {kinds[0]}
    assert len(one.applications()) == len(g.applications())   # applications always stay
    G = _as_nx(one)
    assert all(G.degree(n) > 0 for n in one.identifiers()["node_id"])
    assert graph.Graph.only(g, []).edges.empty and graph.Graph.only(g, []).identifiers().empty
    nb = g.neighbours(g.identifiers()["node_id"].iloc[0])
    assert (nb["node_type"] == graph.APPLICATION).all() and nb["edge_weight"].is_monotonic_decreasing


def test_values_masked_for_admin_and_never_in_what_reaches_the_browser(con, run_id, top) -> None:
    with pytest.raises(AccessDenied):
        graph.cluster_graph(con, run_id, top, role="evaluator")
    clusters = [r[0] for r in con.execute(f"SELECT cluster_id FROM {attach_run(con, run_id)}.broker_clusters WHERE run_id = ? ORDER BY risk DESC "
                                          "LIMIT 5", [run_id]).fetchall()]
    kinds = set()
    for cid in clusters:
        full = graph.cluster_graph(con, run_id, cid, role="auditor")
        masked = graph.cluster_graph(con, run_id, cid, role="admin")
        assert masked.nodes["node_id"].tolist() == full.nodes["node_id"].tolist()
        assert masked.applications()["biz_no"].str.contains(r"\*").all()
        raw = set(full.identifiers()["value"].dropna())
        shown = set(masked.identifiers()["value"].dropna())
        assert raw and not raw & shown and all("*" in v for v in shown)
        sent = json.dumps(graph_draw.elements(masked, T["ko"], TERM["ko"]), ensure_ascii=False)
        assert not [v for v in raw if v in sent]
        assert all(e.get("value") in (None, *shown) for ev in masked.links["evidence"] for e in ev)
        kinds |= set(full.identifiers()["kind"])
    assert len(kinds - {"plan"}) >= 3  # masking was checked on several kinds of identifier


def test_drawings(con, run_id, top) -> None:
    members = _members(con, run_id, top)
    g = graph.cluster_graph(con, run_id, top, role="auditor", focus=min(members), hops=1)
    els = graph_draw.elements(g, T["ko"], TERM["ko"], focus=min(members))
    nodes = [e for e in els if "source" not in e["data"]]
    edges = [e for e in els if "source" in e["data"]]
    assert len(nodes) == len(g.nodes) and len(edges) == len(g.edges)
    ids = {e["data"]["id"] for e in nodes}
    assert all(e["data"]["source"] in ids and e["data"]["target"] in ids for e in edges)
    assert sum("focus" in e["classes"] for e in nodes) == 1
    # labels name the firm and the application, and identifiers by their kind in Korean
    first = g.applications().iloc[0]
    label = next(e["data"]["label"] for e in nodes if e["data"]["id"] == first["node_id"])
    assert f"#{first['application_id']}" in label
    kinds_ko = {TERM["ko"](k) for k in g.identifiers()["kind"]}
    assert any(e["data"]["label"].split("\n")[0] in kinds_ko for e in nodes if "identifier" in e["classes"])
    # every class the elements use is styled
    styled = " ".join(s["selector"] for s in graph_draw.stylesheet())
    used = {c for e in els for c in e["classes"].split()}
    assert all(f".{c}" in styled for c in used)
    # nodes beyond the hops asked for are faded only when hops were asked for
    assert not any("faded" in e["classes"] for e in graph_draw.elements(
        graph.cluster_graph(con, run_id, top, role="auditor", focus=min(members), hops=0), T["ko"], TERM["ko"],
        focus=min(members)))
    beyond = set(g.nodes.loc[g.nodes["hop"].isna(), "node_id"])
    if (g.nodes["hop"] > 0).any():
        assert {e["data"]["id"] for e in nodes if "faded" in e["classes"]} == beyond
    # the table under a clicked node: an identifier lists its applications, an application what it shares
    ident = g.identifiers().iloc[0]
    rows = graph_draw.detail_rows(g, ident["node_id"], T["ko"], TERM["ko"])
    assert sorted(rows["app"]) == sorted(f"#{a}" for a in g.neighbours(ident["node_id"])["application_id"])
    assert set(rows["status"]) <= {TERM["ko"](s) for s in g.applications()["status"]}
    shares = graph_draw.detail_rows(g, f"a{min(members)}", T["en"], TERM["en"])
    mine = g.edges[g.edges["source"] == f"a{min(members)}"]
    assert len(shares) == len(mine) and set(shares["kind"]) == {TERM["en"](k) for k in mine["kind"]}
    fig = graph_draw.plot_network(g, T["en"], TERM["en"])
    assert {t.name for t in fig.data if t.showlegend is not False} >= set(g.applications()["status"])
    assert "<span" in graph_draw.legend_html(g, TERM["ko"])
