"""The broker audit page in AppTest on the tiny database: empty state, roles, the ranked list, the
network graph, why linked, the timeline, opening a case and its append-only history, the log."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from analytics.brokers import cases
from analytics.brokers import detect as brokers
from analytics.brokers import graph as network
from analytics.brokers import views as broker_views
from bench.harness import signed_in_app
from data.db import attach_run, run_ids
from data.records import records
from tests.ui.helpers import NOT_IN_MENU, texts
from ui.i18n import CATALOGUE, t

KOREAN_TERMS = {ko for key, (ko, _) in CATALOGUE.items() if key.startswith("names.term.")}

PAGE = "pages/brokers.py"


@pytest.fixture(scope="module")
def run_db(tiny_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("brokerpage") / "madang.duckdb"
    shutil.copyfile(tiny_db, path)
    brokers.run(path)
    return path


@pytest.fixture
def db(run_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MADANG_DB", str(run_db))
    return run_db


def test_empty_state_before_any_run(tiny_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MADANG_DB", str(tiny_db))
    at = signed_in_app("auditor", PAGE)
    assert not at.exception
    shown = texts(at)
    # in words for a user who cannot run commands: no command line, no server path (issue 21)
    assert "아직 브로커 탐지 결과가 없습니다" in shown and "관리자가" in shown
    assert "python -m" not in shown and str(tiny_db.parent) not in shown
    assert [b.key for b in at.button] == ["_signout"]            # no job button: not an admin


def _on(at, tab: str):  # noqa: ANN001, ANN202
    """Open one of the page's tabs (only the open tab runs; its code goes into the URL)."""
    at.session_state["brokers.tab"] = t(f"brokers.tab.{tab}", "ko")
    at.run()
    assert not at.exception, at.exception
    return at


def test_auditor_sees_clusters_graph_and_evidence(db: Path) -> None:
    at = signed_in_app("auditor", PAGE)
    assert not at.exception
    assert not [w for w in at.selectbox if w.key == "why_a"]  # only the open tab (the network) runs
    _on(at, "why")
    assert len(at.dataframe) >= 2                            # ranked list + why-linked evidence
    # "why linked" opens on the first member and its heaviest link, not on two strangers
    a, b = at.selectbox(key="why_a").value, at.selectbox(key="why_b").value
    with duckdb.connect(str(db), read_only=True) as con:
        run_id = broker_views.latest_run(con, role="auditor")["run_id"]
        run = attach_run(con, run_id)
        heaviest = con.execute(f"""  -- among the links inside the member's cluster (what the graph holds)
            WITH m AS (SELECT application_id FROM {run}.broker_cluster_members WHERE run_id = $r AND cluster_id =
                       (SELECT cluster_id FROM {run}.broker_cluster_members WHERE run_id = $r AND application_id = $a))
            SELECT CASE WHEN app_a = $a THEN app_b ELSE app_a END FROM {run}.broker_links
            WHERE run_id = $r AND $a IN (app_a, app_b) AND app_a IN (SELECT * FROM m) AND app_b IN (SELECT * FROM m)
            ORDER BY weight DESC, app_a, app_b LIMIT 1""",
                               {"a": a, "r": run_id}).fetchall()
    assert [(b,)] == heaviest and "공유하는 식별자가 없습니다." not in [i.value for i in at.info]
    why = at.dataframe[1].value                              # its evidence, named for the auditor
    assert why["counted"].dtype == bool and why["counted"].any()
    assert set(why["kind"]) <= KOREAN_TERMS, why["kind"].tolist()
    assert len(at.get("plotly_chart")) >= 1                 # the waterfall of the link's weights
    assert len(_on(at, "timeline").get("plotly_chart")) >= 1
    with records(db) as con:
        actions = {r[0] for r in con.execute("SELECT action FROM access_log WHERE user_name = 'auditor'").fetchall()}
    assert "view_personal" in actions
    shown = at.dataframe[0].value
    assert shown["flagged"].dtype == bool                    # a checkbox column, not "true"/"false"
    assert all(set(e.split(", ")) <= KOREAN_TERMS for e in shown["evidence"]), shown["evidence"].tolist()


def test_pick_a_cluster_and_search(db: Path) -> None:
    con = duckdb.connect(str(db), read_only=True)
    cid, app = con.execute(f"SELECT cluster_id, min(application_id) FROM {attach_run(con, run_ids(con)[0])}.broker_cluster_members GROUP BY 1 "
                           "ORDER BY 1 DESC LIMIT 1").fetchall()[0]
    con.close()
    at = signed_in_app("auditor", PAGE)
    at.toggle(key="flagged_only").set_value(False).run()
    at.selectbox(key="brokers.cluster").set_value(cid).run()
    assert not at.exception and at.selectbox(key="brokers.cluster").value == cid
    at.text_input(key="search").set_value(str(app)).run()
    assert not at.exception and at.selectbox(key="brokers.cluster").options[0].startswith(f"#{cid} ")


def test_open_a_case_and_add_an_event(db: Path) -> None:
    at = signed_in_app("auditor", PAGE)
    cid = int(at.selectbox(key="brokers.cluster").value)
    _on(at, "case")                # the open-case form is on the case tab
    submit = [b for b in at.button if b.label == "사건 열기"]
    assert submit, [b.label for b in at.button]
    submit[0].click().run()
    assert not at.exception
    run_id, = run_ids(duckdb.connect(str(db), read_only=True))
    opened = cases.list_cases(db, role="auditor", run_id=run_id, cluster_id=cid)
    assert len(opened) == 1 and opened.iloc[0]["status"] == "open"
    add = [b for b in at.button if b.label == "기록 추가"]
    assert add
    at.text_area[0].set_value("전화번호 일치 확인")
    add[0].click().run()
    assert not at.exception
    hist = cases.history(db, int(opened.iloc[0]["case_id"]), role="auditor")
    assert hist["note"].tolist()[-1] == "전화번호 일치 확인"
    assert len(at.get("download_button")) >= 2


@pytest.mark.parametrize("role", ["policy", "evaluator"])
def test_other_roles_cannot_open_it(db: Path, role: str) -> None:
    at = signed_in_app(role)
    with pytest.raises(ValueError, match=NOT_IN_MENU):
        at.switch_page(PAGE).run()


def test_admin_sees_masked_values(db: Path) -> None:
    at = signed_in_app("admin", PAGE)
    assert not at.exception


def _network(at) -> list[dict]:
    """The elements the page sends to the Cytoscape.js component."""
    found = [e for e in at.get("component_instance") if e.proto.component_name.endswith("st_cytoscape")]
    assert len(found) == 1
    return json.loads(found[0].proto.json_args)["elements"]


def test_network_tab_draws_the_graph_filters_kinds_and_expands_hops(db: Path) -> None:
    at = signed_in_app("auditor", PAGE)
    cid = int(at.selectbox(key="brokers.cluster").value)
    with duckdb.connect(str(db), read_only=True) as con:
        run_id = broker_views.latest_run(con, role="auditor")["run_id"]
        g = network.cluster_graph(con, run_id, cid, role="auditor")
        focus = int(at.selectbox(key="focus").value)
        wider = network.cluster_graph(con, run_id, cid, role="auditor", focus=focus, hops=2)
    els = _network(at)
    assert len(els) == len(g.nodes) + len(g.edges)
    assert {e["data"]["id"] for e in els if "source" not in e["data"]} == set(g.nodes["node_id"])
    assert any("identifier" in e["classes"] for e in els)            # the shared items are nodes of their own
    kinds = g.kinds()
    pills = at.pills(key=f"graph_kinds_{'-'.join(kinds)}")
    assert pills.value == kinds
    pills.set_value(kinds[1:]).run()
    some = g.only(kinds[1:])
    assert not at.exception and len(_network(at)) == len(some.nodes) + len(some.edges)
    # expanding brings more kinds: they show, and the kind switched off stays off
    at.number_input(key="hops").set_value(2).run()
    assert not at.exception
    els = _network(at)
    wider = wider.only([k for k in wider.kinds() if k != kinds[0]])
    assert len(els) == len(wider.nodes) + len(wider.edges)
    outside = int((~wider.applications()["in_cluster"]).sum())
    assert sum("outside" in e.get("classes", "") for e in els) == outside
    assert any("faded" in e.get("classes", "") for e in els) == bool(wider.nodes["hop"].isna().any())
    near = int(wider.applications()["hop"].between(1, 2).sum())
    expected = (t("brokers.graph.expanded", "ko", hops=2, near=near, outside=outside) if near else
                t("brokers.graph.nothing_new", "ko", hops=2))
    assert expected in [c.value for c in at.caption]


def test_clicking_a_node_shows_its_details_and_expands_from_it(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """AppTest cannot click inside a component: the component answers as if the first identifier
    node, then an application, had been clicked (the browser test clicks for real)."""
    import st_cytoscape

    clicked: dict[str, list[str]] = {"nodes": [], "edges": []}
    real = st_cytoscape.cytoscape

    def answer(*args, **kwargs):
        real(*args, **kwargs)
        return clicked

    monkeypatch.setattr(st_cytoscape, "cytoscape", answer)
    at = signed_in_app("auditor", PAGE)
    assert t("brokers.graph.click", "ko") in [i.value for i in at.info]
    cid = int(at.selectbox(key="brokers.cluster").value)
    with duckdb.connect(str(db), read_only=True) as con:
        run_id = broker_views.latest_run(con, role="auditor")["run_id"]
        g = network.cluster_graph(con, run_id, cid, role="auditor")
    ident = g.identifiers().iloc[0]
    clicked["nodes"] = [ident["node_id"]]
    at.run()
    holders = g.neighbours(ident["node_id"])
    [table] = [d.value for d in at.dataframe if "app" in d.value.columns]   # the clicked item's applications
    assert sorted(table["app"]) == sorted(f"#{a}" for a in holders["application_id"])
    outsider = [a for a in g.applications()["application_id"] if a != int(at.selectbox(key="focus").value)][0]
    clicked["nodes"] = [f"a{outsider}"]
    at.run()
    assert any(f"#{outsider}" in m.value for m in at.markdown)
    [expand] = [b for b in at.button if b.key == "expand_here"]
    expand.click().run()
    assert not at.exception
    assert int(at.selectbox(key="focus").value) == outsider and at.number_input(key="hops").value == 1
def test_learned_weights_panel_and_related_firms(db: Path) -> None:
    """The panel shows the run's estimated m and u for every evidence group; the related-firm list
    holds the stored groups; the why-linked tab adds a waterfall with the learned weights."""
    at = signed_in_app("auditor", PAGE)
    assert not at.exception
    titles = [e.label for e in at.expander]
    assert "증거 가중치는 어떻게 학습되었나" in titles and any(t.startswith("관련 기업") for t in titles)
    with duckdb.connect(str(db), read_only=True) as con:
        run = broker_views.latest_run(con, role="auditor")
        related = broker_views.related_firms(con, run["run_id"], role="auditor")
    learned = run["params"]["stats"]["weights"]
    panel = next(d.value for d in at.dataframe if {"m", "u", "agree_bits"} <= set(d.value.columns))
    assert [float(x) for x in panel["m"]] == pytest.approx(list(learned["m"].values()), abs=6e-4)   # shown to 3 decimals
    assert len(_on(at, "why").get("plotly_chart")) >= 2   # the link's waterfall and the learned weights' waterfall
    assert related["household"].is_unique
