"""The evaluator page's model-wide sections, ready to draw and cheap to cache.

They depend only on the model version and the language, so the page fetches them through its
query cache; returning plain figure dicts (not plotly objects, whose construction validates every
property) keeps a cache hit to an unpickle: measured on the page, building these figures on every
rerun cost ~0.15 s of a 0.3 s budget.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import duckdb
import pandas as pd

from scoring import counterfactual, explain, grades, plots, store
from scoring.features import DRIVER_BY_NAME

Labels = tuple[tuple[str, str], ...]   # (key, text) pairs of the page's language: hashable, so cacheable


def label_function(labels: Labels) -> Callable[..., str]:
    """``t(key, **kw)`` over the labels the page passed (scoring never reads the UI catalogue itself)."""
    table = dict(labels)

    def t(key: str, **kw: object) -> str:
        text = table.get(key, f"[{key}]")
        return text.format(**kw) if kw else text
    return t


def global_figures(con: duckdb.DuckDBPyConnection, model: str, version: str, labels: Labels, *,
                   role: str) -> dict[str, object]:
    """Importance, beeswarm and one dependence figure per driver, from the stored SHAP sample."""
    v = store.current_version(con, model)
    if v is None or v.version != version:
        raise LookupError(f"{model}/{version} is not the current version")
    sample = store.shap_sample(con, model, version, role=role)
    t = label_function(labels)
    names = v.driver_names
    labels_ = [explain.label(DRIVER_BY_NAME[n], t) for n in names]
    pts = explain.sample_points(sample, model)
    return {
        "n": len(sample), "names": names, "labels": labels_,
        "importance": plots.importance(explain.importance_table(v.metrics, t), t).to_plotly_json(),
        "beeswarm": plots.beeswarm(sample, pts, names, labels_, t).to_plotly_json(),
        "dependence": [plots.dependence(sample[n], pts[:, j], xlabel=labels_[j], t=t).to_plotly_json()
                       for j, n in enumerate(names)],
    }


def card_figures(con: duckdb.DuckDBPyConnection, model: str, version: str, lang: str,
                 labels: Labels) -> dict[str, object]:
    """The model card: calibration, grade rates with intervals, grade confusion, fairness (score
    distribution and equal opportunity beside the truth's grades), and drift against the previous
    version. ``lang`` picks the data's names of the regions and size classes."""
    v = store.current_version(con, model)
    if v is None or v.version != version:
        raise LookupError(f"{model}/{version} is not the current version")
    m = v.metrics
    t = label_function(labels)
    groups = store.group_names(con, lang)
    fair: pd.DataFrame = explain.fairness_table(m["fairness"], groups, t)
    grade_labels = [g["grade"] for g in m["grades"]]
    out: dict[str, object] = {
        "calibration": plots.calibration(m["calibration"], t, m.get("calibration_truth")).to_plotly_json(),
        "grades": plots.grade_rates(m["grades"], t).to_plotly_json(),
        "confusion": plots.grade_confusion(m["grade_confusion"], grade_labels, t).to_plotly_json(),
        "fair_region": plots.fairness(m["fairness"]["region"], groups["region"], t).to_plotly_json(),
        "fair_size": plots.fairness(m["fairness"]["size"], groups["size"], t).to_plotly_json(),
        "fair_table": fair,
        "grade_table": pd.DataFrame(m["grades"])[["grade", "n", "observed", "observed_lo", "observed_hi",
                                                   "predicted", "truth"]],
        "psi": None,
    }
    d = m.get("drift")
    if d:
        names = {n: explain.label(DRIVER_BY_NAME[n], t) for n in d["psi_features"]}
        out["psi"] = plots.psi_bars(d["psi_features"], names, d["psi_score"], t).to_plotly_json()
    return out


def advice(con: duckdb.DuckDBPyConnection, application_id: int, model: str, version: str, *,
           role: str) -> list[dict[str, object]]:
    """Counterfactual advice for one applicant under the current version: the smallest change to the
    next grade and, below the cut-off, to the cut-off grade. Plain dicts (the search scores a few
    hundred changed rows, so the page caches it with the rest of :func:`explanation`)."""
    v = store.current_version(con, model)
    if v is None or v.version != version:
        raise LookupError(f"{model}/{version} is not the current version")
    a = store.applicant(con, application_id, model, version, role=role)
    if a is None:
        return []
    sm = store.load_model(con, model, version)
    ladder = v.ladder
    peers = explain.peers_of(store.shap_sample(con, model, version, role=role), a.frame.iloc[0])
    cut = counterfactual.cutoff_grade(ladder, v.metrics["cutoff_grade"])
    out: list[dict[str, object]] = [{"kind": "next", "target": counterfactual.next_grade(ladder, a.grade)}]
    if grades.rank(a.grade) > grades.rank(cut):
        out.append({"kind": "cutoff", "target": cut})
    for item in out:
        if item["target"] is None:
            continue
        adv = counterfactual.advise(sm, a.frame, ladder, str(item["target"]), peers)
        item.update({"reached": adv.reached, "changes": adv.changes, "grade_after": adv.grade_after,
                     "points_after": adv.points_after, "cost": adv.cost})
    return out


@dataclass(frozen=True)
class WhatIfInput:
    """One driver offered in what-if: its name, valid range (as the driver writes it: 0 ~ 500, not
    0.0 ~ 500.0) and the value the input starts at."""
    label: str
    lo: float
    hi: float
    start: float


@dataclass(frozen=True)
class Explanation:
    """Everything the applicant tab shows of one applicant under the current version, in one cached
    value: the scores, identity, the driver table (SHAP in points) with its waterfall and block and
    part sums, the reason codes, the advice, the what-if inputs and the similar applicants."""
    applicant: store.Applicant
    info: dict[str, str]              # identity fields (masked) and history, in display order
    table: pd.DataFrame
    base: float
    waterfall: dict
    blocks: pd.DataFrame
    parts: pd.DataFrame | None        # K-TOP's sub-models (None for K-value); blocks and parts: group, name, points
    reasons: pd.DataFrame
    cutoff: str                       # the grade that passes
    advice: list[dict[str, object]]   # see advice(); each reached item with "change_text" and "points"
    what_if: dict[str, WhatIfInput]   # the drivers offered, in the model's order
    what_if_default: tuple[str, ...]  # the drivers the first reached advice changes
    similar: pd.DataFrame             # applicants of the same program with the closest scores

    @property
    def passes(self) -> bool:
        """The applicant's grade is at or above the cut-off grade."""
        return grades.rank(self.applicant.grade) <= grades.rank(self.cutoff)


def explanation(con: duckdb.DuckDBPyConnection, application_id: int, model: str, version: str, lang: str,
                labels: Labels, *, role: str) -> Explanation | None:
    """One applicant's explanation under the current version (None: not scored), cached per applicant.
    ``lang`` picks the data's names of the applicant's region, size class and industry."""
    v = store.current_version(con, model)
    if v is None or v.version != version:
        raise LookupError(f"{model}/{version} is not the current version")
    a = store.applicant(con, application_id, model, version, role=role)
    if a is None:
        return None
    t = label_function(labels)
    row = a.frame.iloc[0]
    info = explain.info_fields(a.info, lang)
    info["history"] = t("scoring.info.history_value", apps=int(row["prior_applications"]), awards=int(row["prior_awards"]))
    table = explain.driver_table(model, v.driver_names, a.contrib, row, t)
    base = explain.base_points(model, v.base)
    now = float(grades.points(model, a.log_odds))
    sample = store.shap_sample(con, model, version, role=role)
    items = advice(con, application_id, model, version, role=role)
    for item in items:
        if item.get("reached"):
            changes = cast(dict[str, tuple[float, float]], item["changes"])
            item["change_text"] = ", ".join(
                t("scoring.advice.change", label=explain.label(DRIVER_BY_NAME[n], t),
                  a=explain.value_text(n, x0, t), b=explain.value_text(n, x1, t)) for n, (x0, x1) in changes.items())
            item["points"] = cast(float, item["points_after"]) - now
    first = next((cast(dict[str, tuple[float, float]], i["changes"]) for i in items if i.get("reached")), {})
    advised = {n: x1 for n, (_, x1) in first.items()}
    offered = explain.what_if_drivers(v.driver_names)
    what_if = {n: WhatIfInput(explain.label(DRIVER_BY_NAME[n], t), DRIVER_BY_NAME[n].lo, DRIVER_BY_NAME[n].hi,
                              float(advised.get(n, explain.what_if_start(row, n))))
               for n in offered}
    similar = store.similar(con, application_id, model, version, role=role)
    blocks = explain.group_points(table, v.features, "block")
    parts = explain.group_points(table, v.features, "part") if model == "ktop" else None
    return Explanation(
        applicant=a, info=info, table=table, base=base,
        waterfall=plots.waterfall(table, base, now, t).to_plotly_json(),
        blocks=blocks.assign(name=[explain.block_name(g, t) for g in blocks["group"]]),
        parts=None if parts is None else parts.assign(name=[t(f"scoring.part.{g}") for g in parts["group"]]),
        reasons=explain.reason_codes(model, table, sample, row, explain.used_drivers(v.metrics), t),
        cutoff=counterfactual.cutoff_grade(v.ladder, v.metrics["cutoff_grade"]), advice=items,
        what_if=what_if, what_if_default=tuple(n for n in advised if n in offered),
        similar=similar if similar.empty else explain.compare_table(similar, model, v.driver_names, t))


def what_if(con: duckdb.DuckDBPyConnection, application_id: int, model: str, version: str,
            changes: tuple[tuple[str, float], ...], labels: Labels, *, role: str) -> dict[str, object]:
    """Score, grade and the redrawn waterfall (SHAP recomputed) after changing several drivers at once."""
    v = store.current_version(con, model)
    a = store.applicant(con, application_id, model, version, role=role)
    if v is None or v.version != version or a is None:
        raise LookupError(f"{model}/{version}: no application {application_id}")
    sm = store.load_model(con, model, version)
    wi = explain.what_if(sm, a.frame, dict(changes), v.ladder)
    t = label_function(labels)
    table, pts = explain.what_if_table(sm, a.frame, dict(changes), t)
    return {**wi, "delta": float(wi["points"]) - float(grades.points(model, a.log_odds)),
            "waterfall": plots.waterfall(table, explain.base_points(model, v.base), pts, t).to_plotly_json()}
