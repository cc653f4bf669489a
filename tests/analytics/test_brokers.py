"""The detection batch job on the tiny synthetic database: stored results, CSV, quality against the
planted truth, independence from the truth table, and the auditor's views of a run."""
from __future__ import annotations

import json
import shutil
from functools import partial
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analytics.brokers import detect as brokers
from analytics.brokers import evaluation as broker_eval
from analytics.brokers import evidence, minhash
from analytics.brokers import graph as network
from analytics.brokers import graph_draw as network_draw
from analytics.brokers import pack as evidence_pack
from analytics.brokers import plots as broker_plots
from analytics.brokers import views as broker_views
from data import access
from data.build import build
from data.db import attach_run, data_version, run_ids, runs_root, writer
from tests.conftest import TINY_SCALE, TINY_SEED
from ui import i18n, names

# the words of the figures, as the page passes them: the catalogue and the term names in one language
T = {lang: partial(i18n.t, lang=lang) for lang in i18n.LANGS}
TERM = {lang: partial(names.term, lang=lang) for lang in i18n.LANGS}


@pytest.fixture(scope="module")
def run_db(tiny_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, brokers.Detection, Path]:
    path = tmp_path_factory.mktemp("brokers") / "madang.duckdb"
    shutil.copyfile(tiny_db, path)
    out = path.with_name("clusters.csv")
    assert brokers.main(["--db", str(path), "--out", str(out)]) == 0
    con = duckdb.connect(str(path), read_only=True)
    run_id, = run_ids(con)
    con.close()
    _, det = brokers.run(shutil.copyfile(tiny_db, path.with_name("again.duckdb")))
    return path, run_id, det, out


def test_results_are_stored_with_parameters(run_db) -> None:
    path, run_id, _, _ = run_db
    con = duckdb.connect(str(path), read_only=True)
    run = attach_run(con, run_id)
    params = json.loads(con.execute(f"SELECT params FROM {run}.broker_runs WHERE run_id = ?", [run_id]).fetchall()[0][0])
    assert {"links", "clusters", "stats"} <= set(params) and params["links"]["df_cap"] > 0
    cl = con.execute(f"SELECT * FROM {run}.broker_clusters WHERE run_id = ?", [run_id]).df()
    mem = con.execute(f"SELECT * FROM {run}.broker_cluster_members WHERE run_id = ?", [run_id]).df()
    lk = con.execute(f"SELECT * FROM {run}.broker_links WHERE run_id = ?", [run_id]).df()
    assert len(cl) > 0 and cl["flagged"].any()
    assert (mem.groupby("cluster_id").size().sort_index() == cl.set_index("cluster_id")["size"].sort_index()).all()
    assert (lk["app_a"] < lk["app_b"]).all() and lk["strong"].any()
    reasons = json.loads(cl["reasons"].iloc[0])
    assert {"burst", "plan", "selection", "repeat", "evidence_groups"} <= set(reasons)
    # a firm's own applications never link to each other
    firm = dict(con.execute("SELECT application_id, firm_id FROM applications").fetchall())
    assert not any(firm[a] == firm[b] for a, b in zip(lk["app_a"], lk["app_b"]))
    # every flagged cluster holds at least three firms
    n_firms = mem.assign(firm=mem["application_id"].map(firm)).groupby("cluster_id")["firm"].nunique()
    assert (n_firms.reindex(cl.loc[cl["flagged"], "cluster_id"]) >= 3).all()


def test_data_replaced_during_detection_stores_nothing(tiny_db: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Detection reads the file outside the writer: a run over data that was replaced meanwhile
    must not be stored beside the new data."""
    path = tmp_path / "madang.duckdb"
    shutil.copyfile(tiny_db, path)
    detect = brokers.detect

    def detect_then_replace(*args, **kwargs):
        out = detect(*args, **kwargs)
        with writer(path) as con:   # an import landing while the job runs
            con.execute("DELETE FROM business_plans WHERE application_id < 10")
        return out

    monkeypatch.setattr(brokers, "detect", detect_then_replace)
    with pytest.raises(RuntimeError, match="replaced while the detection ran"):
        brokers.run(path)
    with duckdb.connect(str(path), read_only=True) as con:
        assert run_ids(con) == []
    assert not runs_root(path).exists()   # no run file, no work folder


def test_csv_has_one_row_per_clustered_application(run_db) -> None:
    path, run_id, _, out = run_db
    csv = pd.read_csv(out)
    assert list(csv.columns) == ["application_id", "cluster_id", "risk", "flagged"]
    con = duckdb.connect(str(path), read_only=True)
    mem = con.execute(f"SELECT application_id, cluster_id FROM {attach_run(con, run_id)}.broker_cluster_members WHERE run_id = ?",
                      [run_id]).df()
    assert csv["application_id"].is_unique and set(csv["application_id"]) == set(mem["application_id"])


def test_quality_against_planted_truth(run_db, tiny_db: Path) -> None:
    _, _, det, _ = run_db
    con = duckdb.connect(str(tiny_db), read_only=True)
    q = broker_eval.evaluate(det.members, det.clusters, broker_eval.truth(con))
    assert q["recall"] >= 0.95, q
    assert q["precision"] >= 0.95, q
    assert q["decoy_flag_rate"] <= 0.02, q


def test_detector_never_reads_the_truth(tiny_db: Path, tmp_path: Path, run_db) -> None:
    path = tmp_path / "notruth.duckdb"
    shutil.copyfile(tiny_db, path)
    with duckdb.connect(str(path)) as con:
        con.execute("DROP TABLE truth_broker_rings")
    _, det = brokers.run(path)
    _, _, ref, _ = run_db
    key = lambda d: sorted(map(tuple, d.members[["application_id", "cluster_id"]].to_numpy().tolist()))  # noqa: E731
    assert key(det) == key(ref)
    assert (det.clusters["risk"].round(9).tolist() == ref.clusters["risk"].round(9).tolist())


def test_views_of_a_run(run_db) -> None:
    path, run_id, det, _ = run_db
    con = duckdb.connect(str(path), read_only=True)
    with pytest.raises(access.AccessDenied):
        broker_views.cluster_list(con, run_id, role="evaluator")
    assert broker_views.latest_run(con, role="auditor")["run_id"] == run_id
    ranked = broker_views.cluster_list(con, run_id, role="auditor")
    assert ranked["risk"].is_monotonic_decreasing and len(ranked) == len(det.clusters)
    top = int(ranked["cluster_id"].iloc[0])
    g = network.cluster_graph(con, run_id, top, role="auditor")
    members = set(det.members.loc[det.members["cluster_id"] == top, "application_id"])
    apps = g.applications()
    assert set(apps["application_id"]) == members and apps["in_cluster"].all()
    # the default "why linked" partner is the member's heaviest link, computed independently here
    e = g.links
    for app in sorted(members)[:5]:
        mine = e[(e["app_a"] == app) | (e["app_b"] == app)]
        partner = g.strongest_partner(app)
        assert (partner is None) == mine.empty
        if partner is not None:
            w = dict(zip(mine["app_a"] + mine["app_b"] - app, mine["weight"]))
            assert w[partner] == max(w.values())
    wider = network.cluster_graph(con, run_id, top, role="auditor", focus=min(members), hops=2)
    assert set(wider.applications()["application_id"]) >= members
    fig = network_draw.plot_network(g, T["ko"], TERM["ko"])
    assert any(t.mode == "markers" for t in fig.data)
    legend = {t.name for t in fig.data if t.showlegend is not False}
    statuses = set(apps["status"])
    assert {TERM["ko"](s) for s in statuses} <= legend and not statuses & legend  # in Korean
    english = {t.name for t in network_draw.plot_network(g, T["en"], TERM["en"]).data if t.showlegend is not False}
    assert statuses <= english
    # search by application id and by business number
    app = min(members)
    biz = con.execute("SELECT biz_no FROM firms JOIN applications USING (firm_id) WHERE application_id = ?", [app]).fetchall()[0][0]
    assert top in broker_views.find(con, run_id, str(app), role="auditor")["cluster_id"].tolist()
    assert top in broker_views.find(con, run_id, f"{biz[:3]}-{biz[3:5]}-{biz[5:]}", role="auditor")["cluster_id"].tolist()
    # admin sees masked fingerprints, auditor the full values
    masked = network.cluster_graph(con, run_id, top, role="admin")
    assert masked.applications()["biz_no"].str.contains(r"\*").all()


def test_why_linked_matches_the_stored_link(run_db) -> None:
    path, run_id, det, _ = run_db
    con = duckdb.connect(str(path), read_only=True)
    lk = con.execute(f"SELECT * FROM {attach_run(con, run_id)}.broker_links WHERE run_id = ? AND strong ORDER BY weight DESC LIMIT 5",
                     [run_id]).df()
    for r in lk.itertuples():
        why = evidence.why_linked(con, run_id, int(r.app_a), int(r.app_b), role="auditor")
        stored = [e for e in json.loads(r.evidence) if e["kind"] != "plan"]
        counted = why.evidence[why.evidence["counted"].astype(bool) & ~why.evidence["kind"].isin(["plan", "timing"])]
        assert set(counted["value"]) <= {e["value"] for e in stored}
        assert why.total_weight == pytest.approx(r.weight, abs=0.05) or why.plan_similarity > 0
        assert why.strong
    fig = broker_plots.plot_waterfall(why, T["ko"], TERM["ko"])
    assert fig.data[0].measure[-1] == "total"
    marked = evidence.highlight_shared(why.plan_a, why.plan_b, 12)
    assert "<mark>" in marked or minhash.exact_jaccard(why.plan_a, why.plan_b, 12) == 0


def test_highlight_marks_exactly_the_shared_shingles() -> None:
    a, b = "하나 둘셋 넷다섯 여섯", "둘셋 넷다섯 일곱"
    html = evidence.highlight_shared(a, b, 5)
    assert html == "하나 <mark>둘셋 넷다</mark>섯 여섯"          # the one shared 5-gram from a word start
    assert evidence.highlight_shared("<b>x</b>", "y", 3) == "&lt;b&gt;x&lt;/b&gt;"


def test_evidence_pack(run_db) -> None:
    from analytics.brokers import cases

    path, run_id, det, _ = run_db
    cid = int(det.clusters.sort_values("risk", ascending=False)["cluster_id"].iloc[0])
    case_id = cases.open_case(path, run_id=run_id, cluster_id=cid, title="증거 테스트", user="kim", role="auditor")
    cases.add_event(path, case_id, user="kim", role="auditor", status="investigating", note="확인 중")
    pack = evidence_pack.EvidencePack(path, run_id, cid, case_id, role="auditor", t=T["ko"], term=TERM["ko"],
                                      title="증거 테스트")
    csv = pack.csv().decode("utf-8-sig")
    assert "# members" in csv and "# links" in csv and "# case_history" in csv and "확인 중" in csv
    html = pack.html()
    assert html.startswith("<!doctype html>") and "plotly" in html and "확인 중" in html
    assert html.count("<script") >= 2 and "<script src=" not in html      # plotly.js inlined: self-contained


@pytest.mark.parametrize("chunk", [1, 7, 250])
def test_chunked_plan_step_gives_the_same_links_as_one_chunk(tiny_db: Path, chunk: int) -> None:
    """Oracle: reading and hashing plans a few at a time changes nothing (one chunk holds them all)."""
    con = duckdb.connect(str(tiny_db), read_only=True)
    supp = pd.DataFrame(columns=["kind", "value"])
    whole = brokers.detect(con, supp, chunk=10_000_000)
    part = brokers.detect(con, supp, chunk=chunk)
    con.close()
    cols = ["app_a", "app_b", "weight", "n_groups", "plan_similarity", "strong"]
    key = lambda d: d.links[cols].sort_values(["app_a", "app_b"]).reset_index(drop=True)  # noqa: E731
    assert len(whole.links) and whole.stats["plan_pairs"]
    pd.testing.assert_frame_equal(key(part), key(whole))
    assert part.stats["plan_pairs"] == whole.stats["plan_pairs"]


def test_confirmed_cases_seed_the_weights_of_the_next_run(run_db, tmp_path: Path) -> None:
    """An auditor refers three flagged clusters (confirmed rings): the next run counts m on their
    pairs (source 'cases', stored with the run) instead of EM; a case only opened does not count."""
    from analytics.brokers import cases

    path, run_id, _, _ = run_db
    db = tmp_path / "madang.duckdb"
    shutil.copyfile(path, db)
    shutil.copytree(runs_root(path), runs_root(db))   # the runs go with the data they describe
    with duckdb.connect(str(db), read_only=True) as con:
        top = [c for (c,) in con.execute(f"SELECT cluster_id FROM {attach_run(con, run_id)}.broker_clusters WHERE run_id = ? "
                                         "AND flagged ORDER BY risk DESC LIMIT 4", [run_id]).fetchall()]
    for cid in top[:3]:
        case = cases.open_case(db, run_id=run_id, cluster_id=cid, title=f"#{cid}", user="kim", role="auditor")
        cases.add_event(db, case, user="kim", role="auditor", status="investigating")
        cases.add_event(db, case, user="kim", role="auditor", status="referred")
    cases.open_case(db, run_id=run_id, cluster_id=top[3], title="open only", user="kim", role="auditor")
    with duckdb.connect(str(db), read_only=True) as con:
        seeds = brokers.seed_sets(con, cases.confirmed_clusters(db))
        sizes = [n for (n,) in con.execute(f"SELECT size FROM {attach_run(con, run_id)}.broker_clusters WHERE run_id = ? "
                                           "AND cluster_id IN (SELECT unnest(?)) ORDER BY cluster_id", [run_id, top[:3]]).fetchall()]
    assert sorted(len(s) for s in seeds) == sorted(sizes)
    new_run, det = brokers.run(db)
    w = det.stats["weights"]
    assert w["source"] == "cases" and w["seed_pairs"] > 0
    with duckdb.connect(str(db), read_only=True) as con:
        stored = json.loads(con.execute(f"SELECT params FROM {attach_run(con, new_run)}.broker_runs WHERE run_id = ?",
                                        [new_run]).fetchall()[0][0])
    assert stored["stats"]["weights"]["source"] == "cases"
    assert det.clusters["flagged"].any()


def test_a_run_is_a_file_beside_the_data_that_an_import_keeps_and_a_rebuild_drops(tiny_db: Path, tmp_path: Path) -> None:
    """Storing a run leaves the data file as it was (no copy, no write) and gives the caches a new
    version; an import (a writer on the file) keeps the runs, a rebuild (a new file, a new
    lineage) starts with none, and the next run stored removes the old lineage's files."""
    path = tmp_path / "madang.duckdb"
    shutil.copyfile(tiny_db, path)
    before, version = path.read_bytes(), data_version(path)
    first, _ = brokers.run(path)
    assert path.read_bytes() == before and data_version(path) != version
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []   # no copy or work folder left
    assert oct(runs_root(path).stat().st_mode & 0o777) == "0o700"                 # the links hold personal data
    with writer(path) as con:      # an import: same lineage
        con.execute("DELETE FROM business_plans WHERE application_id < 10")
    with duckdb.connect(str(path), read_only=True) as con:
        assert run_ids(con) == [first]
        assert con.execute(f"SELECT count(*) FROM {attach_run(con, first)}.broker_runs").fetchall()[0][0] == 1
    build(path, scale=TINY_SCALE, seed=TINY_SEED)   # a rebuild: the same data, a new lineage
    with duckdb.connect(str(path), read_only=True) as con:
        assert run_ids(con) == []
        with pytest.raises(LookupError, match=first):
            attach_run(con, first)
    second, _ = brokers.run(path)
    assert [p.name.split(".", 1)[1] for p in runs_root(path).iterdir()] == [f"{second}.duckdb"]   # the old lineage's is gone


def test_scoring_again_takes_unchanged_clusters_from_before(tiny_db: Path) -> None:
    """Oracle: an assignment scored reusing an earlier scoring (clusters with the same members,
    renumbered) equals the same assignment scored from scratch, members, traces and risk alike."""
    from analytics.brokers import links, suppressions
    from analytics.brokers.clusters import ClusterParams
    from analytics.brokers.links import LinkParams
    from data.db import connect_read_only

    with connect_read_only(tiny_db) as con:
        det = brokers.detect(con, suppressions.load(tiny_db))   # leaves its temp tables on con
        first = dict(zip(det.members["application_id"].astype(int), det.members["cluster_id"].astype(int)))
        near = links.touching(con, first)
        household = dict(zip(det.related["firm_id"], det.related["household"]))
        args = (household, LinkParams(), ClusterParams(), pd.DataFrame(columns=["app_a", "app_b"]))
        _, before = brokers._score(con, near, first, *args)
        # the largest cluster split in two, the others renumbered (shifted by two)
        big = sorted(a for a, c in first.items() if c == 0)
        second = {a: (0 if a in big[: len(big) // 2] else 1) if c == 0 else c + 2 for a, c in first.items()}
        _, again = brokers._score(con, near, second, *args, before=(before,))
        _, fresh = brokers._score(con, near, second, *args)
    assert len(set(second.values())) == len(set(first.values())) + 1
    for got, want, keys in [(again.members, fresh.members, ["application_id"]),
                            (again.traces, fresh.traces, ["cluster_id", "application_id", "kind", "value"]),
                            (again.risk, fresh.risk, ["cluster_id"])]:
        got, want = (x.sort_values(keys).reset_index(drop=True) for x in (got, want))
        for c in ("reasons", "groups"):
            if c in got:
                got[c], want[c] = got[c].map(repr), want[c].map(repr)
        pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12)
