"""Broker network audit (불법 브로커 · 제3자 부당개입): clusters, graph, why linked, timeline, cases (auditor, admin)."""
from __future__ import annotations

import streamlit as st

from analytics.brokers import cases, evidence, suppressions
from analytics.brokers import views as broker_views
from ui.shell import page

ctx = page("brokers", filters=(), params=("cluster",))
run = ctx.query(broker_views.latest_run, role=ctx.role)
if run is None:
    ctx.empty("brokers.empty", db=str(ctx.db_path))
    st.stop()
run_id = run["run_id"]
stats = run["params"].get("stats", {})
st.caption(ctx.t("brokers.run", run_id=run_id, created=f"{run['created_at']:%Y-%m-%d %H:%M}",
                 clusters=ctx.num(stats.get("clusters", 0)), flagged=ctx.num(stats.get("flagged", 0))))
if ctx.meta.get("source", "synthetic") == "synthetic":
    st.caption(ctx.t("brokers.synthetic"))

flagged_only = st.toggle(ctx.t("brokers.flagged_only"), value=True, key="flagged_only")
ranked = ctx.query(broker_views.cluster_list, run_id, role=ctx.role, flagged_only=flagged_only)
st.subheader(ctx.t("brokers.list"))
if ranked.empty:
    ctx.empty("brokers.no_clusters")
    st.stop()
ranked = ranked.assign(evidence=ranked["evidence"].map(lambda g: broker_views.terms(g, ctx.lang)))
ctx.table(ranked.head(500), {
    "cluster_id": ("brokers.col.cluster", "num"), "risk": ("brokers.col.risk", "num"),
    "flagged": ("brokers.col.flagged", "check"), "size": ("brokers.col.size", "num"),
    "n_firms": ("brokers.col.firms", "num"), "evidence": ("brokers.col.evidence", "text"),
    "awarded_krw": ("brokers.col.awarded", "money"), "programs": ("brokers.col.programs", "text"),
    "regions": ("brokers.col.regions", "text")}, height=260)

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
if st.session_state.get("cluster") not in options:
    st.session_state["cluster"] = options[0]
cid = st.selectbox(ctx.t("brokers.cluster"), list(dict.fromkeys(options)), key="cluster", bind="query-params",
                   format_func=lambda c: labels.get(c, f"#{c}"))
cid = int(cid)
seen = st.session_state.setdefault("_brokers_logged", set())
if ctx.sees_personal and (run_id, cid) not in seen:  # auditors see full fingerprints: log each cluster viewed
    ctx.log("view_personal", f"brokers: run {run_id} cluster {cid}")
    seen.add((run_id, cid))

why_reasons = ctx.query(broker_views.reasons, run_id, cid, role=ctx.role)
st.caption(ctx.t("brokers.reasons") + " · " + " · ".join(
    f"{ctx.t('brokers.reason.' + k)} {why_reasons.get(k, 0):.2f}"
    for k in ("groups", "burst", "plan", "selection", "amount", "repeat", "spread")))

tab_graph, tab_why, tab_time, tab_case, tab_supp = st.tabs([
    ctx.t("brokers.tab.graph"), ctx.t("brokers.tab.why"), ctx.t("brokers.tab.timeline"),
    ctx.t("brokers.tab.case"), ctx.t("brokers.tab.suppress")])
base = ctx.query(broker_views.cluster_graph, run_id, cid, role=ctx.role)
members = base.nodes["application_id"].tolist()
names = {r.application_id: f"#{r.application_id} · {r.firm_name} · {r.biz_no}" for r in base.nodes.itertuples()}

with tab_graph:
    c1, c2 = st.columns([3, 1])
    focus = c1.selectbox(ctx.t("brokers.focus"), members, key="focus", format_func=names.get)
    hops = c2.number_input(ctx.t("brokers.hops"), min_value=0, max_value=3, value=0, key="hops")
    graph = ctx.query(broker_views.cluster_graph, run_id, cid, role=ctx.role, focus=int(focus), hops=int(hops)) if hops else base
    st.plotly_chart(broker_views.plot_network(graph, lang=ctx.lang, highlight=int(focus)), key="network")
    st.caption(ctx.t("brokers.graph_note"))

with tab_why:
    c1, c2 = st.columns(2)
    a = c1.selectbox(ctx.t("brokers.pick_a"), members, key="why_a", format_func=names.get)
    partner = base.strongest_partner(int(a))
    b = c2.selectbox(ctx.t("brokers.pick_b"), members, key="why_b", format_func=names.get,
                     index=members.index(partner) if partner in members else min(1, len(members) - 1))
    why = ctx.query(evidence.why_linked, run_id, int(a), int(b), role=ctx.role)
    gap = "—" if why.time_gap_hours is None else f"{why.time_gap_hours:,.1f} h"
    st.markdown(ctx.t("brokers.why_total", total=why.total_weight, sim=why.plan_similarity, gap=gap,
                      strong=ctx.t("brokers.strong" if why.strong else "brokers.weak")))
    if why.evidence.empty:
        ctx.empty("brokers.no_shared")
    else:
        st.plotly_chart(evidence.plot_waterfall(why, lang=ctx.lang), key="waterfall")
        shown = why.evidence.assign(kind=why.evidence["kind"].map(lambda k: broker_views.term(k, ctx.lang)),
                                    note=why.evidence["note"].map(lambda n: broker_views.term(n, ctx.lang)),
                                    counted=why.evidence["counted"].astype(bool))
        ctx.table(shown, {"kind": ("brokers.col.kind", "text"), "value": ("brokers.col.value", "text"),
                          "firms": ("brokers.col.df", "num"), "weight": ("brokers.col.weight", "num"),
                          "counted": ("brokers.col.counted", "check"), "note": ("brokers.col.note", "text")})
    st.subheader(ctx.t("brokers.plans"))
    k = int(run["params"]["links"]["shingle_k"])
    p1, p2 = st.columns(2)
    p1.markdown(evidence.highlight_shared(why.plan_a, why.plan_b, k), unsafe_allow_html=True)
    p2.markdown(evidence.highlight_shared(why.plan_b, why.plan_a, k), unsafe_allow_html=True)

with tab_time:
    tl = ctx.query(evidence.timeline, run_id, cid, role=ctx.role)
    st.plotly_chart(evidence.plot_timeline(tl, lang=ctx.lang), key="timeline")

with tab_case:
    existing = cases.list_cases(ctx.db_path, role=ctx.role, run_id=run_id, cluster_id=cid)
    if existing.empty:
        ctx.empty("brokers.case.none")
        with st.form("open_case"):
            title = st.text_input(ctx.t("brokers.case.title"), value=ctx.t("brokers.case.default_title", cid=cid))
            assignee = st.text_input(ctx.t("brokers.case.assignee"), value=ctx.user)
            if st.form_submit_button(ctx.t("brokers.case.open")):
                new_id = cases.open_case(ctx.db_path, run_id=run_id, cluster_id=cid, title=title, user=ctx.user,
                                         role=ctx.role, assignee=assignee)
                st.success(ctx.t("brokers.case.opened", case_id=new_id))
                st.rerun()
    else:
        case_id = st.selectbox(ctx.t("brokers.case.pick"), existing["case_id"].tolist(),
                               format_func=lambda c: f"#{c} · {existing.set_index('case_id').at[c, 'title']}")
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
        st.dataframe(hist, hide_index=True)
        pack = evidence.EvidencePack(ctx.db_path, run_id, cid, int(case_id), role=ctx.role, lang=ctx.lang,
                                     title=str(state["title"]))
        c1, c2 = st.columns(2)
        if c1.download_button(ctx.t("brokers.pack_csv"), data=pack.csv, file_name=f"case{case_id}_evidence.csv",
                              mime="text/csv", key="pack_csv"):
            ctx.log("export", f"brokers: case {case_id} evidence csv")
        if c2.download_button(ctx.t("brokers.pack_html"), data=pack.html, file_name=f"case{case_id}_report.html",
                              mime="text/html", key="pack_html"):
            ctx.log("export", f"brokers: case {case_id} evidence html")

with tab_supp:
    st.caption(ctx.t("brokers.supp.note"))
    supp = suppressions.load(ctx.db_path)
    picked = st.dataframe(supp, hide_index=True, on_select="rerun", selection_mode="multi-row", key="supp_table")
    rows = picked.selection.rows if picked else []
    if rows and st.button(ctx.t("brokers.supp.remove"), key="supp_remove"):
        for r in rows:
            suppressions.remove(ctx.db_path, supp.iloc[r]["kind"], supp.iloc[r]["value"], user=ctx.user, role=ctx.role)
        st.rerun()
    with st.form("supp_add", clear_on_submit=True):
        kind = st.selectbox(ctx.t("brokers.supp.kind"), suppressions.KINDS)
        value = st.text_area(ctx.t("brokers.supp.value"))
        reason = st.text_input(ctx.t("brokers.supp.reason"))
        if st.form_submit_button(ctx.t("brokers.supp.add")):
            try:
                suppressions.add(ctx.db_path, kind, value, reason, user=ctx.user, role=ctx.role)
                st.rerun()
            except ValueError as err:
                st.error(ctx.t("brokers.case.error", error=err))
