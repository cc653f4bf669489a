"""Scores and explanations of individual applicants (evaluator, admin).

The main body picks the model and its current version; each tab is one function, and the applicant
tab draws one :func:`scoring.views.explanation` (everything it shows of one applicant) section by section.
"""
from __future__ import annotations

from datetime import datetime

import streamlit as st

from scoring import decisions, drift, report, store, views
from ui import jobs as job_view
from ui.i18n import CATALOGUE
from ui.shell import page

TABS = ("applicant", "global", "card")
ctx = page("scoring", filters=(), params=("model", "app", "tab"))
ctx.require_data("applications")
# the scoring labels in this language (figures, driver names, units, sentences), passed to the cached
# builders (scoring never imports ui)
LABELS = tuple((k, ctx.t(k)) for k in CATALOGUE if k.startswith("scoring."))


def _find_applicant(model: str, version: store.Version) -> tuple[int, views.Explanation] | None:
    """The applicant searched by application id or 사업자등록번호 and picked, with its explanation
    (each applicant opened is logged); None while nothing is picked or it has no score."""
    text = ctx.params.text(st.text_input, ctx.t("scoring.search"), "app", placeholder="123-45-*****")
    found = ctx.query(store.find_applicants, text, role=ctx.role) if text.strip() else None
    if found is None:
        st.caption(ctx.t("scoring.search_hint"))
        return None
    if found.empty:
        ctx.empty("scoring.no_match")
        return None
    shown = {r.application_id: f"#{r.application_id} · {r.biz_no} · {r.firm_name} · {r.program_title}"
             for r in found.itertuples()}
    app_id = int(st.selectbox(ctx.t("scoring.pick"), found["application_id"].tolist(), format_func=shown.get, key="pick"))
    ex = ctx.query(views.explanation, app_id, model, version.version, ctx.lang, LABELS, role=ctx.role)
    if ex is None:
        ctx.empty("scoring.not_scored")
        return None
    seen = st.session_state.setdefault("_scoring_logged", set())
    if (app_id, model) not in seen:
        ctx.log("view_applicant", f"application {app_id} {version.version}")
        seen.add((app_id, model))
    return app_id, ex


def _scores(model: str, ex: views.Explanation) -> None:
    """Score, grade, percentile and probability, then the applicant's (masked) identity."""
    a = ex.applicant
    c1, c2, c3, c4 = st.columns(4)
    c1.metric(ctx.t("scoring.score"), f"{a.score:.0f}")
    c2.metric(ctx.t("scoring.grade"), a.grade)
    c3.metric(ctx.t("scoring.percentile"), f"{a.percentile:.0f}")
    c4.metric(ctx.t(f"scoring.p.{model}"), f"{a.probability:.2%}")
    st.caption(ctx.t("common.masked_note"))
    st.dataframe({"field": [ctx.t(f"scoring.info.{k}") for k in ex.info], "value": list(ex.info.values())},
                 hide_index=True, column_config={"field": ctx.t("scoring.col.field"), "value": ctx.t("scoring.col.value")})


def _contributions(ex: views.Explanation) -> None:
    """The waterfall of the drivers' points, and their sums by block and by K-TOP part."""
    st.subheader(ctx.t("scoring.waterfall"))
    st.plotly_chart(ex.waterfall, key="waterfall")
    st.caption(ctx.t("scoring.blocks") + " · " + " · ".join(f"{r.name} {r.points:+.1f}" for r in ex.blocks.itertuples()))
    if ex.parts is not None:
        st.caption(ctx.t("scoring.parts") + " · " + " · ".join(f"{r.name} {r.points:+.1f}" for r in ex.parts.itertuples()))


def _reasons(ex: views.Explanation) -> None:
    """Reason codes as full sentences, as lists (a table cell would cut them off), and as a table."""
    reasons = ex.reasons
    st.subheader(ctx.t("scoring.reasons"))
    for role, head in (("principal", "scoring.reasons.principal"), ("context", "scoring.reasons.context"),
                       ("strength", "scoring.reasons.strength")):
        part = reasons[reasons["role"] == role]
        if role == "principal" or len(part):
            (st.markdown if role == "principal" else st.caption)(f"**{ctx.t(head)}**")
        lines = [f"- `{r.code}` {r.sentence}" for r in part.itertuples()]
        if lines:
            st.markdown("\n".join(lines))
        elif role == "principal":
            st.caption(ctx.t("scoring.reasons.none"))
    with st.expander(ctx.t("scoring.col.sentence")):
        st.dataframe(reasons[["code", "role", "label", "value_text", "median_text", "percentile", "points"]].assign(
            role=reasons["role"].map(lambda r: ctx.t(f"scoring.role.{r}"))), hide_index=True,
            column_config={"code": ctx.t("scoring.col.code"), "role": ctx.t("scoring.col.role"),
                           "label": ctx.t("scoring.col.driver"), "value_text": ctx.t("scoring.col.value"),
                           "median_text": ctx.t("scoring.col.peer_median"),
                           "percentile": st.column_config.NumberColumn(ctx.t("scoring.col.percentile"), format="%.0f"),
                           "points": st.column_config.NumberColumn(ctx.t("scoring.col.points"), format="%+.1f")})


def _advice(ex: views.Explanation) -> None:
    """The smallest change to the next grade and to the cut-off grade."""
    st.subheader(ctx.t("scoring.advice"))
    st.caption(ctx.t("scoring.advice.help"))
    for item in ex.advice:
        if item["target"] is None:
            st.caption(ctx.t("scoring.advice.top"))
            continue
        head = ctx.t(f"scoring.advice.{item['kind']}", cut=ex.cutoff)
        if not item["reached"]:
            st.markdown(f"- {head}: " + ctx.t("scoring.advice.none", target=item["target"]))
            continue
        st.markdown(f"- {head}: " + ctx.t("scoring.advice.line", changes=item["change_text"], now=ex.applicant.grade,
                                          target=item["grade_after"], points=item["points"]))
    if ex.passes:
        st.caption(ctx.t("scoring.advice.passes", cut=ex.cutoff))


def _what_if(model: str, version: str, app_id: int, ex: views.Explanation) -> None:
    """Several drivers changed at once (starting from the advice), the new score and its waterfall."""
    st.subheader(ctx.t("scoring.whatif"))
    picked = st.multiselect(ctx.t("scoring.whatif_driver"), list(ex.what_if), key=f"whatif_drivers_{model}_{app_id}",
                            default=list(ex.what_if_default), format_func=lambda n: ex.what_if[n].label,
                            placeholder=ctx.t("common.choose"), select_all=False)  # its label is English only
    changes_in: dict[str, float] = {}
    cols = st.columns(3)
    for i, name in enumerate(picked):
        d = ex.what_if[name]
        changes_in[name] = cols[i % 3].number_input(
            f"{d.label} · " + ctx.t("scoring.whatif_value", lo=d.lo, hi=d.hi),
            min_value=float(d.lo), max_value=float(d.hi), value=d.start, key=f"whatif_{model}_{app_id}_{name}")
    if changes_in:
        wi = ctx.query(views.what_if, app_id, model, version, tuple(sorted(changes_in.items())), LABELS,
                       role=ctx.role)
        st.metric(ctx.t("scoring.whatif_result"), f"{wi['score']:.0f} ({wi['grade']})", delta=f"{wi['delta']:+.1f}")
        st.caption(ctx.t("scoring.whatif_waterfall"))
        st.plotly_chart(wi["waterfall"], key="whatif_waterfall")


def _similar(ex: views.Explanation) -> None:
    st.subheader(ctx.t("scoring.compare"))
    if ex.similar.empty:
        ctx.empty("scoring.compare_none")
        return
    st.dataframe(ex.similar, hide_index=True,
                 column_config={"application_id": ctx.t("scoring.col.application"),
                                "firm_name": ctx.t("scoring.col.firm"), "biz_no": ctx.t("scoring.col.biz_no"),
                                "score": st.column_config.NumberColumn(ctx.t("scoring.score"), format="%.0f"),
                                "grade": ctx.t("scoring.grade"),
                                "percentile": st.column_config.NumberColumn(ctx.t("scoring.percentile"), format="%.0f"),
                                "top_factors": ctx.t("scoring.col.top")})


def _decision(model: str, version: str, app_id: int) -> None:
    """The evaluator's decision (agree or override, with a reason) and the applicant's past decisions."""
    st.subheader(ctx.t("scoring.decision"))
    with st.form(f"decision_{model}_{app_id}", clear_on_submit=True):
        agrees = st.radio(ctx.t("scoring.decision"), [True, False], horizontal=True, key="decision_agrees",
                          format_func=lambda v: ctx.t("scoring.decision.agree" if v else "scoring.decision.override"))
        reason = st.text_area(ctx.t("scoring.decision.reason"), key="decision_reason")
        if st.form_submit_button(ctx.t("scoring.decision.submit")):
            if not reason.strip():
                st.warning(ctx.t("scoring.decision.need_reason"))
            else:
                new_id = decisions.record(ctx.db_path, user=ctx.user, role=ctx.role, application_id=app_id,
                                          model=model, model_version=version, agrees=agrees, reason=reason)
                st.success(ctx.t("scoring.decision.saved", id=new_id))
                st.session_state.pop(f"_decisions_{app_id}", None)
    # read the records file when an applicant is opened and after a decision, not on every rerun
    past = st.session_state.get(f"_decisions_{app_id}")
    if past is None:
        past = st.session_state[f"_decisions_{app_id}"] = decisions.history(ctx.db_path, app_id, role=ctx.role)
    if not past.empty:
        st.caption(ctx.t("scoring.decision.history"))
        st.dataframe(past, hide_index=True)


def _export(model: str, version: str, app_id: int, ex: views.Explanation) -> None:
    """The explanation as one HTML file (logged when downloaded)."""
    a = ex.applicant

    def _html() -> str:
        ctx.log("export", f"explanation application {app_id} {version}")
        return report.render(model=model, version=version, info={ctx.t(f"scoring.info.{k}"): v for k, v in ex.info.items()},
                             score=a.score, grade=a.grade, percentile=a.percentile, probability=a.probability,
                             base=ex.base, table=ex.table, reasons=ex.reasons,
                             generated_at=datetime.now().isoformat(timespec="seconds"),
                             synthetic=ctx.meta.get("source", "synthetic") == "synthetic", t=ctx.t)
    st.download_button(ctx.t("scoring.export"), data=_html, file_name=f"explanation_{model}_{app_id}.html",
                       mime="text/html", key="export_html")


def _applicant_tab(model: str, version: store.Version) -> None:
    picked = _find_applicant(model, version)
    if picked is None:
        return
    app_id, ex = picked
    _scores(model, ex)
    _contributions(ex)
    _reasons(ex)
    _advice(ex)
    _what_if(model, version.version, app_id, ex)
    _similar(ex)
    _decision(model, version.version, app_id)
    _export(model, version.version, app_id, ex)


def _global_tab(model: str, version: store.Version) -> None:
    """Importance, beeswarm and the dependence of one chosen driver, over the stored SHAP sample."""
    g = ctx.query(views.global_figures, model, version.version, LABELS, role=ctx.role)
    st.subheader(ctx.t("scoring.importance"))
    st.plotly_chart(g["importance"])
    st.subheader(ctx.t("scoring.beeswarm", n=g["n"]))
    st.plotly_chart(g["beeswarm"])
    dep = st.selectbox(ctx.t("scoring.dependence"), range(len(g["names"])), format_func=g["labels"].__getitem__,
                       key="dependence")
    st.plotly_chart(g["dependence"][dep])


def _card_tab(model: str, version: store.Version) -> None:
    """The model card judged out of time: accuracy against the truth, calibration, grades, fairness, drift."""
    m = version.metrics
    card = ctx.query(views.card_figures, model, version.version, ctx.lang, LABELS)
    ci = m.get("intervals", {})
    k1, k2, k3, k4 = st.columns(4)
    auc_ci = ci.get("auc", [float("nan")] * 2)
    k1.metric(ctx.t("scoring.card.auc"), f"{m['auc']:.3f}", help=f"[{auc_ci[0]:.3f}, {auc_ci[1]:.3f}]")
    k1.caption(f"[{auc_ci[0]:.3f}, {auc_ci[1]:.3f}]")
    k2.metric(ctx.t("scoring.card.oracle"), f"{m['oracle_auc']:.3f}", delta=f"{-m['auc_gap']:+.3f}")
    k3.metric(ctx.t("scoring.card.brier"), f"{m['brier']:.4f}")
    k3.caption(f"[{ci.get('brier', [0, 0])[0]:.4f}, {ci.get('brier', [0, 0])[1]:.4f}]")
    k4.metric(ctx.t("scoring.card.ece"), f"{m.get('ece', float('nan')):.4f}")
    st.caption(ctx.t("scoring.card.split", test=m["split_at"]["test"][:10], n=ctx.num(m["n_test"]),
                     held=ctx.num(m.get("n_held_back", 0))))
    oci = ci.get("oracle_auc", [float("nan")] * 2)
    st.caption(ctx.t("scoring.card.truth_figs", auc=m["oracle_auc"], lo=oci[0], hi=oci[1], brier=m["oracle_brier"],
                     ece=m.get("oracle_ece", float("nan")), share=m.get("unseen_share", 0.0),
                     au=m.get("auc_unseen") or float("nan"), ou=m.get("oracle_auc_unseen") or float("nan"),
                     reps=ci.get("reps", 0)))
    g1, g2 = st.columns(2)
    g1.caption(ctx.t("scoring.card.calibration"))
    g1.plotly_chart(card["calibration"])
    g2.caption(ctx.t("scoring.card.grades"))
    g2.plotly_chart(card["grades"])
    st.caption(ctx.t("scoring.card.ladder", labels=" / ".join(version.ladder.labels)))
    st.caption(ctx.t("scoring.card.grade_table"))
    ctx.table(card["grade_table"], {"grade": ("scoring.grade", "text"), "n": ("scoring.col.n", "num"),
                                    "observed": ("scoring.col.observed", "pct:2"), "observed_lo": ("scoring.col.lo", "pct:2"),
                                    "observed_hi": ("scoring.col.hi", "pct:2"),
                                    "predicted": ("scoring.col.predicted", "pct:2"), "truth": ("scoring.col.truth", "pct:2")},
              key="grade_table")
    st.caption(ctx.t("scoring.card.confusion"))
    st.plotly_chart(card["confusion"])
    st.caption(ctx.t("scoring.card.fair_region", cut=m["cutoff_grade"]))
    st.plotly_chart(card["fair_region"])
    st.caption(ctx.t("scoring.card.fair_size"))
    st.plotly_chart(card["fair_size"])
    st.caption(ctx.t("scoring.card.eo_table"))
    ctx.table(card["fair_table"], {
        "dimension": ("scoring.col.dimension", "text"), "group": ("scoring.col.group", "text"), "n": ("scoring.col.n", "num"),
        "median": ("scoring.col.median", "dec:0"), "selection_rate": ("scoring.col.selection", "pct"),
        **{c: (f"scoring.col.{c}", "pct") for c in ("tpr", "tpr_truth", "fnr", "fnr_truth")},
        "predicted_good": ("scoring.col.predicted_good", "pct"), "observed_good": ("scoring.col.observed_good", "pct"),
        "auc": ("scoring.col.auc", "dec:3")}, name="scoring_fairness", key="fair_table")
    d = m.get("drift")
    if d:
        st.caption(ctx.t("scoring.card.drift", prev=d["previous"], psi=d["psi_score"],
                         level=ctx.t(f"scoring.drift.{drift.level(d['psi_score'])}")))
        st.plotly_chart(card["psi"])
    else:
        st.caption(ctx.t("scoring.card.drift_none"))
    _versions(model, version)


def _versions(model: str, version: store.Version) -> None:
    """The model's versions, and the current one compared with an older one (figures, PSI, grade migration)."""
    st.subheader(ctx.t("scoring.card.versions"))
    history = ctx.query(store.versions, model)
    ctx.table(history, {"model_version": ("scoring.col.version", "text"), "created_at": ("scoring.col.created", "datetime"),
                        "auc": ("scoring.col.auc", "dec:3"), "oracle_auc": ("scoring.card.oracle", "dec:3"),
                        "brier": ("scoring.col.brier", "dec:4"), "n_test": ("scoring.card.n", "num"),
                        "scores_kept": ("scoring.col.scores_kept", "check")}, key="versions")
    others = [v for v in history["model_version"] if v != version.version]
    if not others:
        return
    other = st.selectbox(ctx.t("scoring.card.compare_with"), others, key="compare_version")
    cmp = ctx.query(store.compare_versions, model, other, version.version)
    ctx.table(cmp["table"], {"metric": ("scoring.col.metric", "text"), other: ("scoring.col.older", "text"),
                             version.version: ("scoring.col.current", "text")}, key="compare_table")
    if cmp["psi_score"] is not None:
        st.caption(f"PSI ({ctx.t('scoring.fig.scores')}): {cmp['psi_score']:.3f} "
                   f"({ctx.t('scoring.drift.' + drift.level(cmp['psi_score']))})")
    if cmp["migration"] is not None:
        st.caption(ctx.t("scoring.card.migration", a=other, b=version.version))
        st.dataframe(cmp["migration"])
    else:
        st.caption(ctx.t("scoring.card.no_scores"))


model = ctx.params.choice(st.segmented_control, ctx.t("scoring.model"), "model", ["ktop", "kvalue"], "ktop",
                          required=True, format_func=lambda m: ctx.t(f"scoring.model.{m}"))
version = ctx.query(store.current_version, model)
if version is None:
    job_view.wait_for(ctx, "scores")
st.caption(ctx.t("scoring.version", version=version.version, created=version.created_at))
if ctx.meta.get("source", "synthetic") == "synthetic":
    st.caption(ctx.t("scoring.synthetic"))
tabs = ctx.params.tabs(TABS, "scoring.tab", ctx.lang)
# Only the open tab runs (its figures are the page's slowest part), and the open tab is in the URL (tab=card).
for name, draw in zip(TABS, (_applicant_tab, _global_tab, _card_tab)):
    if tabs[name].open is not False:
        with tabs[name]:
            draw(model, version)
