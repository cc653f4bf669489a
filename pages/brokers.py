"""Broker network audit (불법 브로커 · 제3자 부당개입): clusters, graph, why linked, timeline, cases (auditor, admin).

The main body picks a run and a cluster; each tab and panel below is one function of that choice.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import pandas as pd
import streamlit as st
from st_cytoscape import cytoscape

from analytics.brokers import cases, evidence, suppressions, weights
from analytics.brokers import graph as network
from analytics.brokers import graph_draw as network_draw
from analytics.brokers import pack as evidence_pack
from analytics.brokers import plots as broker_plots
from analytics.brokers import views as broker_views
from ui import jobs as job_view
from ui import names
from ui.shell import page

TABS = ("graph", "why", "timeline", "case", "suppress")
ctx = page("brokers", filters=(), params=("cluster", "tab"))
ctx.require_data("applications")
term = partial(names.term, lang=ctx.lang)   # an evidence kind, group or status in the user's language


@dataclass(frozen=True)
class Cluster:
    """The cluster the page shows: its run, its id, its network without expansion and its members."""

    run: dict
    cid: int
    base: network.Graph
    members: list[int]
    names: dict[int, str]     # application id -> "#id · firm · 사업자등록번호"

    @property
    def run_id(self) -> str:
        return str(self.run["run_id"])


def _run_header() -> dict:
    """The newest detection run (waiting for the job when there is none yet), with its summary."""
    run = ctx.query(broker_views.latest_run, role=ctx.role)
    if run is None:
        job_view.wait_for(ctx, "clusters")
    stats = run["params"].get("stats", {})
    st.caption(ctx.t("brokers.run", run_id=run["run_id"], created=f"{run['created_at']:%Y-%m-%d %H:%M}",
                     clusters=ctx.num(stats.get("clusters", 0)), flagged=ctx.num(stats.get("flagged", 0))))
    if ctx.meta.get("source", "synthetic") == "synthetic":
        st.caption(ctx.t("brokers.synthetic"))
    return run


def _ranked_list(run_id: str) -> pd.DataFrame:
    """The clusters ranked by risk (flagged only by default); stops the page when there are none."""
    flagged_only = st.toggle(ctx.t("brokers.flagged_only"), value=True, key="flagged_only")
    ranked = ctx.query(broker_views.cluster_list, run_id, role=ctx.role, flagged_only=flagged_only)
    st.subheader(ctx.t("brokers.list"))
    if ranked.empty:
        ctx.empty("brokers.no_clusters")
        st.stop()
    ranked = ranked.assign(evidence=ranked["evidence"].map(lambda g: names.terms(g, ctx.lang)))
    ctx.table(ranked.head(500), {
        "cluster_id": ("brokers.col.cluster", "text"), "risk": ("brokers.col.risk", "dec:2"),
        "flagged": ("brokers.col.flagged", "check"), "size": ("brokers.col.size", "num"),
        "n_firms": ("brokers.col.firms", "num"), "evidence": ("brokers.col.evidence", "text"),
        "awarded_krw": ("brokers.col.awarded", "money"), "programs": ("brokers.col.programs", "text"),
        "regions": ("brokers.col.regions", "text")}, height=260)
    return ranked


def _pick_cluster(run: dict, ranked: pd.DataFrame) -> Cluster:
    """The cluster chosen from the list or found by an application id or 사업자등록번호 (logged for
    auditors, who see full fingerprints), and its risk reasons."""
    run_id = str(run["run_id"])
    text = st.text_input(ctx.t("brokers.search"), key="search", placeholder="1234567890")
    found = ctx.query(broker_views.find, run_id, text, role=ctx.role) if text.strip() else None
    options = ranked["cluster_id"].tolist()
    if found is not None:
        if found.empty:
            ctx.empty("brokers.no_match")
        elif found["cluster_id"].isna().all():
            ctx.empty("brokers.not_clustered")
        else:
            options = sorted({int(c) for c in found["cluster_id"].dropna()}) + options
    labels = {r.cluster_id: ctx.t("brokers.cluster_option", cid=r.cluster_id, risk=r.risk, size=r.size, evidence=r.evidence)
              for r in ranked.itertuples()}
    cid = int(ctx.params.choice(st.selectbox, ctx.t("brokers.cluster"), "cluster", list(dict.fromkeys(options)), options[0],
                                format_func=lambda c: labels.get(c, f"#{c}")))
    seen = st.session_state.setdefault("_brokers_logged", set())
    if ctx.sees_personal and (run_id, cid) not in seen:  # auditors see full fingerprints: log each cluster viewed
        ctx.log("view_personal", f"brokers: run {run_id} cluster {cid}")
        seen.add((run_id, cid))
    why_reasons = ctx.query(broker_views.reasons, run_id, cid, role=ctx.role)
    st.caption(ctx.t("brokers.reasons") + " · " + " · ".join(
        f"{ctx.t('brokers.reason.' + k)} {why_reasons.get(k, 0):.2f}"
        for k in ("evidence", "groups", "burst", "plan", "selection", "amount", "repeat", "spread"))
        # a disguise counts as an act beside the copy (clusters.REORDERED): said when it is there
        + (" · " + ctx.t("brokers.reason.reordered", n=int(why_reasons["reordered_households"]))
           if why_reasons.get("reordered_households") else ""))
    base = ctx.query(network.cluster_graph, run_id, cid, role=ctx.role)
    apps = base.applications()
    return Cluster(run, cid, base, [int(a) for a in apps["application_id"]],
                   {int(r.application_id): f"#{r.application_id} · {r.firm_name} · {r.biz_no}" for r in apps.itertuples()})


def _expand_from(app: int) -> None:
    """The clicked application becomes the focus, expanded by at least one hop."""
    st.session_state["focus"] = app
    st.session_state["hops"] = max(1, int(st.session_state.get("hops", 0)))


def _graph_tab(c: Cluster) -> None:
    """The cluster's network around a focus, some hops out, filtered by kind; a clicked node's details."""
    if st.session_state.get("_focus_cluster") != c.cid:  # a focus picked in another cluster means nothing here
        st.session_state.pop("focus", None)
        st.session_state["_focus_cluster"] = c.cid
    # a focus expanded from outside the cluster (by "expand from here") stays pickable
    focus_options = c.members + [a for a in [st.session_state.get("focus")] if a is not None and a not in c.members]
    c1, c2, c3 = st.columns([3, 1, 4])
    focus = int(c1.selectbox(ctx.t("brokers.focus"), focus_options, key="focus", format_func=lambda a: c.names.get(a, f"#{a}")))
    hops = int(c2.number_input(ctx.t("brokers.hops"), min_value=0, max_value=3, value=0, key="hops"))
    full = ctx.query(network.cluster_graph, c.run_id, c.cid, role=ctx.role, focus=focus, hops=hops)
    kinds = full.kinds()
    # The kinds the user switched off stay off when a cluster or an expansion brings other kinds
    # (the widget is keyed by its options, so new kinds appear switched on).
    kinds_key = f"graph_kinds_{'-'.join(kinds)}"
    hidden = st.session_state.setdefault("graph_hidden", frozenset())

    def _kinds_changed() -> None:
        shown_now = set(st.session_state[kinds_key] or [])
        st.session_state["graph_hidden"] = frozenset((hidden - set(kinds)) | (set(kinds) - shown_now))

    picked = c3.pills(ctx.t("brokers.graph.kinds"), kinds, selection_mode="multi", key=kinds_key,
                      default=[k for k in kinds if k not in hidden], on_change=_kinds_changed,
                      format_func=term)
    shown = full.only(picked or [])
    shown_apps = shown.applications()
    outside = int((~shown_apps["in_cluster"]).sum())
    st.caption(ctx.t("brokers.graph.summary", apps=ctx.num(len(shown_apps)), ids=ctx.num(len(shown.identifiers())),
                     edges=ctx.num(len(shown.edges))))
    if hops:
        near = int(shown_apps["hop"].between(1, hops).sum())
        st.caption(ctx.t("brokers.graph.expanded", hops=hops, near=ctx.num(near), outside=ctx.num(outside))
                   if near else ctx.t("brokers.graph.nothing_new", hops=hops))
    st.markdown(network_draw.legend_html(shown, term), unsafe_allow_html=True)
    clicked = cytoscape(network_draw.elements(shown, ctx.t, term, focus=focus), network_draw.stylesheet(),
                        layout=network_draw.layout(), height="620px", selection_type="single",
                        key=f"network_{c.cid}_{focus}_{hops}_{'-'.join(picked or [])}")
    st.caption(ctx.t("brokers.graph_note"))
    node_id = next(iter((clicked or {}).get("nodes", [])), None)
    node = shown.nodes[shown.nodes["node_id"] == node_id]
    if node.empty:
        st.info(ctx.t("brokers.graph.click"), icon=":material/touch_app:")
    else:
        _node_detail(shown, node.iloc[0], focus, hops)


def _node_detail(shown: network.Graph, r: pd.Series, focus: int, hops: int) -> None:
    """A clicked application (its identifiers, and a button to expand from it) or identifier (its applications)."""
    rows = network_draw.detail_rows(shown, str(r["node_id"]), ctx.t, term)
    with st.container(border=True):
        if r["node_type"] == network.APPLICATION:
            where = (ctx.t("brokers.graph.member") if r["in_cluster"] else
                     ctx.t("brokers.graph.outside", hop=int(r["hop"]) if pd.notna(r["hop"]) else "–"))
            st.markdown(ctx.t("brokers.graph.app_detail", app=int(r["application_id"]), firm=r["firm_name"],
                              biz=r["biz_no"], program=r["program"], region=r["region"],
                              status=term(r["status"]), when=f"{r['submitted_at']:%Y-%m-%d %H:%M}",
                              amount=ctx.money(r["amount_awarded_krw"]), where=where))
            ctx.table(rows, {"kind": ("brokers.col.kind", "text"), "value": ("brokers.col.value", "text"),
                             "firms": ("brokers.col.df", "num"), "edge_weight": ("brokers.col.weight", "num")})
            if int(r["application_id"]) != focus or hops == 0:
                st.button(ctx.t("brokers.graph.expand_here"), on_click=_expand_from, args=(int(r["application_id"]),),
                          key="expand_here", icon=":material/open_in_full:")
        else:
            head = network_draw.ident_label(r, ctx.t, term).replace("\n", " · ")
            st.markdown(ctx.t("brokers.graph.plan_detail" if r["kind"] == "plan" else "brokers.graph.ident_detail",
                              what=head, firms=ctx.num(r["firms"]), weight=f"{r['weight']:.1f}"))
            ctx.table(rows, {"app": ("brokers.graph.col.app", "text"), "firm_name": ("brokers.graph.col.firm", "text"),
                             "biz_no": ("brokers.graph.col.biz", "text"), "status": ("brokers.graph.col.status", "text"),
                             "program": ("brokers.col.programs", "text"), "in_cluster": ("brokers.graph.col.member", "check")})


def _why_tab(c: Cluster, learned: dict) -> None:
    """Why two members are linked: the shared evidence and its weights, and their plans side by side."""
    c1, c2 = st.columns(2)
    a = c1.selectbox(ctx.t("brokers.pick_a"), c.members, key="why_a", format_func=c.names.get)
    partner = c.base.strongest_partner(int(a))
    b = c2.selectbox(ctx.t("brokers.pick_b"), c.members, key="why_b", format_func=c.names.get,
                     index=c.members.index(partner) if partner in c.members else min(1, len(c.members) - 1))
    why = ctx.query(evidence.why_linked, c.run_id, int(a), int(b), role=ctx.role)
    gap = "—" if why.time_gap_hours is None else f"{why.time_gap_hours:,.1f} h"
    st.markdown(ctx.t("brokers.why_total", total=why.total_weight, sim=why.plan_similarity, gap=gap,
                      strong=ctx.t("brokers.strong" if why.strong else "brokers.weak")))
    if why.evidence.empty:
        ctx.empty("brokers.no_shared")
    else:
        st.plotly_chart(broker_plots.plot_waterfall(why, ctx.t, term), key="waterfall")
        if learned:
            st.caption(ctx.t("brokers.weights.waterfall"))
            fs = weights.waterfall(learned, why.evidence[why.evidence["counted"].astype(bool)])
            st.plotly_chart(broker_plots.plot_bits(fs, ctx.t, term), key="fs_waterfall")
        shown = why.evidence.assign(kind=why.evidence["kind"].map(term),
                                    note=why.evidence["note"].map(term),
                                    counted=why.evidence["counted"].astype(bool))
        ctx.table(shown, {"kind": ("brokers.col.kind", "text"), "value": ("brokers.col.value", "text"),
                          "firms": ("brokers.col.df", "num"), "weight": ("brokers.col.weight", "num"),
                          "counted": ("brokers.col.counted", "check"), "note": ("brokers.col.note", "text")})
    st.subheader(ctx.t("brokers.plans"))
    k = int(c.run["params"]["links"]["shingle_k"])
    p1, p2 = st.columns(2)
    p1.markdown(evidence.highlight_shared(why.plan_a, why.plan_b, k), unsafe_allow_html=True)
    p2.markdown(evidence.highlight_shared(why.plan_b, why.plan_a, k), unsafe_allow_html=True)


def _timeline_tab(c: Cluster) -> None:
    tl = ctx.query(evidence.timeline, c.run_id, c.cid, role=ctx.role)
    st.plotly_chart(broker_plots.plot_timeline(tl, ctx.t, term), key="timeline")


def _case_tab(c: Cluster) -> None:
    """The cluster's case: open one, or move it on, add notes, read its history and export the evidence pack."""
    existing = cases.list_cases(ctx.db_path, role=ctx.role, run_id=c.run_id, cluster_id=c.cid)
    if existing.empty:
        ctx.empty("brokers.case.none")
        with st.form("open_case"):
            title = st.text_input(ctx.t("brokers.case.title"), value=ctx.t("brokers.case.default_title", cid=c.cid))
            assignee = st.text_input(ctx.t("brokers.case.assignee"), value=ctx.user)
            if st.form_submit_button(ctx.t("brokers.case.open")):
                new_id = cases.open_case(ctx.db_path, run_id=c.run_id, cluster_id=c.cid, title=title, user=ctx.user,
                                         role=ctx.role, assignee=assignee)
                st.success(ctx.t("brokers.case.opened", case_id=new_id))
                st.rerun()
        return
    case_id = st.selectbox(ctx.t("brokers.case.pick"), existing["case_id"].tolist(),
                           format_func=lambda i: f"#{i} · {existing.set_index('case_id').at[i, 'title']}")
    state = existing.set_index("case_id").loc[case_id]
    st.markdown(ctx.t("brokers.case.state", status=ctx.t(f"brokers.status.{state['status']}"),
                      assignee=state["assignee"] or "—", events=int(state["events"])))
    with st.form("case_event", clear_on_submit=True):
        nxt = [None, *sorted(cases.TRANSITIONS[state["status"]])]
        status = st.selectbox(ctx.t("brokers.case.status"), nxt,
                              format_func=lambda s: ctx.t("brokers.case.keep") if s is None else ctx.t(f"brokers.status.{s}"))
        assignee = st.text_input(ctx.t("brokers.case.assignee"))
        note = st.text_area(ctx.t("brokers.case.note"))
        if st.form_submit_button(ctx.t("brokers.case.add")):
            try:
                cases.add_event(ctx.db_path, int(case_id), user=ctx.user, role=ctx.role, status=status,
                                assignee=assignee or None, note=note)
                st.success(ctx.t("brokers.case.added"))
                st.rerun()
            except (ValueError, KeyError) as err:
                st.error(ctx.t("brokers.case.error", error=err))
    hist = cases.history(ctx.db_path, int(case_id), role=ctx.role)
    st.subheader(ctx.t("brokers.case.history"))
    ctx.table(hist.assign(status=[ctx.t(f"brokers.status.{x}") if isinstance(x, str) else None for x in hist["status"]]),
              {"event_id": ("brokers.col.event", "text"), "at_time": ("brokers.col.at", "datetime"),
               "by_user": ("brokers.col.by", "text"), "status": ("brokers.col.status", "text"),
               "assignee": ("brokers.case.assignee", "text"), "note": ("brokers.case.note", "text")})
    pack = evidence_pack.EvidencePack(ctx.db_path, c.run_id, c.cid, int(case_id), role=ctx.role, t=ctx.t,
                                      term=term, title=str(state["title"]))
    c1, c2 = st.columns(2)
    if c1.download_button(ctx.t("brokers.pack_csv"), data=pack.csv, file_name=f"case{case_id}_evidence.csv",
                          mime="text/csv", key="pack_csv"):
        ctx.log("export", f"brokers: case {case_id} evidence csv")
    if c2.download_button(ctx.t("brokers.pack_html"), data=pack.html, file_name=f"case{case_id}_report.html",
                          mime="text/html", key="pack_html"):
        ctx.log("export", f"brokers: case {case_id} evidence html")


def _suppress_tab() -> None:
    """The suppression list (values never counted as evidence): remove selected rows, add new ones."""
    st.caption(ctx.t("brokers.supp.note"))
    supp = suppressions.load(ctx.db_path)
    picked = ctx.table(supp, {"kind": ("brokers.supp.kind", "term"), "value": ("brokers.col.value", "text"),
                              "reason": ("brokers.supp.reason", "text"), "added_by": ("brokers.col.by", "text"),
                              "added_at": ("brokers.col.at", "datetime")},
                       on_select="rerun", selection_mode="multi-row", key="supp_table")
    rows = picked.selection.rows if picked else []
    if rows and st.button(ctx.t("brokers.supp.remove"), key="supp_remove"):
        for r in rows:
            suppressions.remove(ctx.db_path, supp.iloc[r]["kind"], supp.iloc[r]["value"], user=ctx.user, role=ctx.role)
        st.rerun()
    with st.form("supp_add", clear_on_submit=True):
        kind = st.selectbox(ctx.t("brokers.supp.kind"), suppressions.KINDS, format_func=term)
        value = st.text_area(ctx.t("brokers.supp.value"))
        reason = st.text_input(ctx.t("brokers.supp.reason"))
        if st.form_submit_button(ctx.t("brokers.supp.add")):
            try:
                suppressions.add(ctx.db_path, kind, value, reason, user=ctx.user, role=ctx.role)
                st.rerun()
            except ValueError as err:
                st.error(ctx.t("brokers.case.error", error=err))


def _weights_panel(learned: dict) -> None:
    """The run's learned match weights (m, u and bits per evidence group)."""
    with st.expander(ctx.t("brokers.weights.title")):
        st.caption(ctx.t("brokers.weights.note", pairs=ctx.num(learned.get("pairs", 0)), starts=learned.get("starts", 1),
                         iterations=learned.get("iterations", 0), prior=learned.get("prior", 0.0)))
        if learned.get("source") == "cases":
            st.caption(ctx.t("brokers.weights.cases", pairs=ctx.num(learned.get("seed_pairs", 0))))
        wt = weights.table(learned)
        ctx.table(wt.assign(group=wt["group"].map(term),
                            m=wt["m"].map("{:.3f}".format), u=wt["u"].map("{:.2g}".format)), {
            "group": ("brokers.weights.group", "text"), "m": ("brokers.weights.m", "text"), "u": ("brokers.weights.u", "text"),
            "agree_bits": ("brokers.weights.agree", "num"), "disagree_bits": ("brokers.weights.disagree", "num")})


def _related_panel(run_id: str) -> None:
    """Related firms applying separately (특수관계 기업)."""
    related = ctx.query(broker_views.related_firms, run_id, role=ctx.role)
    with st.expander(ctx.t("brokers.related.title")):
        st.caption(ctx.t("brokers.related.note", n=ctx.num(len(related))))
        if len(related):
            ctx.table(related.head(500).assign(basis=related["basis"].map(term)), {
                "firms": ("brokers.related.firms", "text"), "biz_nos": ("brokers.related.biz", "text"),
                "basis": ("brokers.related.basis", "text"), "applications": ("brokers.related.apps", "num"),
                "programs": ("brokers.related.programs", "num")}, height=220)


run = _run_header()
cluster = _pick_cluster(run, _ranked_list(str(run["run_id"])))
learned = run["params"].get("stats", {}).get("weights", {})
tabs = ctx.params.tabs(TABS, "brokers.tab", ctx.lang)
# Only the open tab runs, and the open tab is in the URL (tab=why).
for name, draw in zip(TABS, (lambda: _graph_tab(cluster), lambda: _why_tab(cluster, learned),
                             lambda: _timeline_tab(cluster), lambda: _case_tab(cluster), _suppress_tab)):
    if tabs[name].open is not False:
        with tabs[name]:
            draw()
if learned:
    _weights_panel(learned)
_related_panel(cluster.run_id)
