"""Scores and explanations of individual applicants (evaluator, admin)."""
from __future__ import annotations

from datetime import datetime

import streamlit as st

from scoring import decisions, explain, grades, plots, report, store, views
from scoring.features import DRIVER_BY_NAME, KTOP_PART_KO
from ui import cache
from ui import jobs as job_view
from ui.shell import page

ctx = page("scoring", filters=(), params=("model", "app"))
ctx.require_data("applications")
model = ctx.params.choice(st.segmented_control, ctx.t("scoring.model"), "model", ["ktop", "kvalue"], "ktop",
                         required=True, format_func=lambda m: ctx.t(f"scoring.model.{m}"))
version = ctx.query(store.current_version, model)
if version is None:
    job_view.wait_for(ctx, "scores")
st.caption(ctx.t("scoring.version", version=version.version, created=version.created_at))
if ctx.meta.get("source", "synthetic") == "synthetic":
    st.caption(ctx.t("scoring.synthetic"))
names = version.driver_names
tab_app, tab_global, tab_card = st.tabs([ctx.t("scoring.tab.applicant"), ctx.t("scoring.tab.global"),
                                         ctx.t("scoring.tab.card")])

with tab_app:
    text = ctx.params.text(st.text_input, ctx.t("scoring.search"), "app", placeholder="123-45-*****")
    found = ctx.query(store.find_applicants, text, role=ctx.role) if text.strip() else None
    if found is None:
        st.caption(ctx.t("scoring.search_hint"))
    elif found.empty:
        ctx.empty("scoring.no_match")
    else:
        options = found["application_id"].tolist()
        shown = {r.application_id: f"#{r.application_id} · {r.biz_no} · {r.firm_name} · {r.program_title}"
                 for r in found.itertuples()}
        app_id = st.selectbox(ctx.t("scoring.pick"), options, format_func=shown.get, key="pick")
        a = ctx.query(store.applicant, int(app_id), model, version.version, role=ctx.role)
        if a is None:
            ctx.empty("scoring.not_scored")
        else:
            seen = st.session_state.setdefault("_scoring_logged", set())
            if (app_id, model) not in seen:
                ctx.log("view_applicant", f"application {app_id} {version.version}")
                seen.add((app_id, model))
            c1, c2, c3, c4 = st.columns(4)
            c1.metric(ctx.t("scoring.score"), f"{a.score:.0f}")
            c2.metric(ctx.t("scoring.grade"), a.grade)
            c3.metric(ctx.t("scoring.percentile"), f"{a.percentile:.0f}")
            c4.metric(ctx.t(f"scoring.p.{model}"), f"{a.probability:.2%}")
            st.caption(ctx.t("common.masked_note"))
            info = explain.info_fields(a.info, ctx.lang)
            st.dataframe({"field": [ctx.t(f"scoring.info.{k}") for k in info], "value": list(info.values())},
                         hide_index=True, column_config={"field": ctx.t("scoring.col.field"), "value": ctx.t("scoring.col.value")})
            row = a.frame.iloc[0]
            table = explain.driver_table(model, names, a.contrib, row, ctx.lang)
            base = explain.base_points(model, version.base)
            st.subheader(ctx.t("scoring.waterfall"))
            st.plotly_chart(plots.waterfall(table, base, float(grades.points(model, a.log_odds)), lang=ctx.lang))
            blocks = explain.group_points(table, version.features, "block")
            st.caption(ctx.t("scoring.blocks") + " · " + " · ".join(f"{r.group} {r.points:+.1f}" for r in blocks.itertuples()))
            if model == "ktop":
                parts = explain.group_points(table, version.features, "part")
                st.caption(ctx.t("scoring.parts") + " · " + " · ".join(
                    f"{KTOP_PART_KO[r.group] if ctx.lang == 'ko' else r.group} {r.points:+.1f}" for r in parts.itertuples()))
            sample = ctx.query(store.shap_sample, model, version.version, role=ctx.role)
            reasons = explain.reason_codes(model, table, explain.peer_percentiles(sample, row, names),
                                           explain.used_drivers(version.metrics), ctx.lang)
            st.subheader(ctx.t("scoring.reasons"))
            st.dataframe(reasons[["code", "label", "value_text", "percentile", "points", "sentence"]], hide_index=True,
                         column_config={"code": ctx.t("scoring.col.code"), "label": ctx.t("scoring.col.driver"),
                                        "value_text": ctx.t("scoring.col.value"),
                                        "percentile": st.column_config.NumberColumn(ctx.t("scoring.col.percentile"), format="%.0f"),
                                        "points": st.column_config.NumberColumn(ctx.t("scoring.col.points"), format="%+.1f"),
                                        "sentence": ctx.t("scoring.col.sentence")})

            st.subheader(ctx.t("scoring.whatif"))
            choices = [n for n in explain.WHAT_IF if n in names]
            w1, w2, w3 = st.columns([2, 2, 1])
            wname = w1.selectbox(ctx.t("scoring.whatif_driver"), choices, key="whatif_driver",
                                 format_func=lambda n: explain.label(DRIVER_BY_NAME[n], ctx.lang))
            d = DRIVER_BY_NAME[wname]
            new = w2.number_input(ctx.t("scoring.whatif_value", lo=d.lo, hi=d.hi), min_value=float(d.lo),
                                  max_value=float(d.hi), value=explain.what_if_start(row, wname),
                                  key=f"whatif_{model}_{app_id}_{wname}")
            with cache.cursor(ctx.db_path) as cur:
                sm = store.load_model(cur, model, version.version)
            wi = explain.what_if(sm, a.frame, {wname: new})
            w3.metric(ctx.t("scoring.whatif_result"), f"{wi['score']:.0f} ({wi['grade']})",
                      delta=f"{wi['points'] - float(grades.points(model, a.log_odds)):+.1f}")

            st.subheader(ctx.t("scoring.compare"))
            sim = ctx.query(store.similar, int(app_id), model, version.version, role=ctx.role)
            if sim.empty:
                ctx.empty("scoring.compare_none")
            else:
                st.dataframe(explain.compare_table(sim, model, names, ctx.lang), hide_index=True,
                             column_config={"application_id": ctx.t("scoring.col.application"),
                                            "firm_name": ctx.t("scoring.col.firm"), "biz_no": ctx.t("scoring.col.biz_no"),
                                            "score": st.column_config.NumberColumn(ctx.t("scoring.score"), format="%.0f"),
                                            "grade": ctx.t("scoring.grade"),
                                            "percentile": st.column_config.NumberColumn(ctx.t("scoring.percentile"), format="%.0f"),
                                            "top_factors": ctx.t("scoring.col.top")})

            st.subheader(ctx.t("scoring.decision"))
            with st.form(f"decision_{model}_{app_id}", clear_on_submit=True):
                agrees = st.radio(ctx.t("scoring.decision"), [True, False], horizontal=True, key="decision_agrees",
                                  format_func=lambda v: ctx.t("scoring.decision.agree" if v else "scoring.decision.override"))
                reason = st.text_area(ctx.t("scoring.decision.reason"), key="decision_reason")
                if st.form_submit_button(ctx.t("scoring.decision.submit")):
                    if not reason.strip():
                        st.warning(ctx.t("scoring.decision.need_reason"))
                    else:
                        new_id = decisions.record(ctx.db_path, user=ctx.user, role=ctx.role, application_id=int(app_id),
                                                  model=model, model_version=version.version, agrees=agrees, reason=reason)
                        st.success(ctx.t("scoring.decision.saved", id=new_id))
                        st.session_state.pop(f"_decisions_{app_id}", None)
            # read the records file when an applicant is opened and after a decision, not on every rerun
            past = st.session_state.get(f"_decisions_{app_id}")
            if past is None:
                past = st.session_state[f"_decisions_{app_id}"] = decisions.history(ctx.db_path, int(app_id), role=ctx.role)
            if not past.empty:
                st.caption(ctx.t("scoring.decision.history"))
                st.dataframe(past, hide_index=True)

            def _html() -> str:
                ctx.log("export", f"explanation application {app_id} {version.version}")
                return report.render(model=model, version=version.version, info={ctx.t(f"scoring.info.{k}"): v for k, v in info.items()},
                                     score=a.score, grade=a.grade,
                                     percentile=a.percentile, probability=a.probability, base=base, table=table,
                                     reasons=reasons, generated_at=datetime.now().isoformat(timespec="seconds"),
                                     synthetic=ctx.meta.get("source", "synthetic") == "synthetic", lang=ctx.lang)
            st.download_button(ctx.t("scoring.export"), data=_html, file_name=f"explanation_{model}_{app_id}.html",
                               mime="text/html", key="export_html")

with tab_global:
    g = ctx.query(views.global_figures, model, version.version, ctx.lang, role=ctx.role)
    st.subheader(ctx.t("scoring.importance"))
    st.plotly_chart(g["importance"])
    st.subheader(ctx.t("scoring.beeswarm", n=g["n"]))
    st.plotly_chart(g["beeswarm"])
    dep = st.selectbox(ctx.t("scoring.dependence"), range(len(g["names"])), format_func=g["labels"].__getitem__,
                       key="dependence")
    st.plotly_chart(g["dependence"][dep])

with tab_card:
    m = version.metrics
    card = ctx.query(views.card_figures, model, version.version, ctx.lang)
    k1, k2, k3, k4 = st.columns(4)
    k1.metric(ctx.t("scoring.card.auc"), f"{m['auc']:.3f}")
    k2.metric(ctx.t("scoring.card.oracle"), f"{m['oracle_auc']:.3f}", delta=f"{-m['auc_gap']:+.3f}")
    k3.metric(ctx.t("scoring.card.brier"), f"{m['brier']:.4f}")
    k4.metric(ctx.t("scoring.card.n"), ctx.num(m["n_test"]))
    st.caption(ctx.t("scoring.card.split", cal=m["split_at"]["calibration"][:10], test=m["split_at"]["test"][:10]))
    g1, g2 = st.columns(2)
    g1.caption(ctx.t("scoring.card.calibration"))
    g1.plotly_chart(card["calibration"])
    g2.caption(ctx.t("scoring.card.grades"))
    g2.plotly_chart(card["grades"])
    st.caption(ctx.t("scoring.card.confusion"))
    st.plotly_chart(card["confusion"])
    st.caption(ctx.t("scoring.card.fair_region", cut=m["cutoff_grade"]))
    st.plotly_chart(card["fair_region"])
    st.caption(ctx.t("scoring.card.fair_size"))
    st.plotly_chart(card["fair_size"])
    st.caption(ctx.t("scoring.card.fair_table"))
    st.dataframe(card["fair_table"], hide_index=True, column_config={
        "dimension": ctx.t("scoring.col.dimension"), "group": ctx.t("scoring.col.group"), "n": ctx.t("scoring.col.n"),
        "median": st.column_config.NumberColumn(ctx.t("scoring.col.median"), format="%.0f"),
        "selection_rate": st.column_config.NumberColumn(ctx.t("scoring.col.selection"), format="percent"),
        "predicted_good": st.column_config.NumberColumn(ctx.t("scoring.col.predicted_good"), format="percent"),
        "observed_good": st.column_config.NumberColumn(ctx.t("scoring.col.observed_good"), format="percent"),
        "auc": st.column_config.NumberColumn("AUC", format="%.3f")})
