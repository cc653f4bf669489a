"""The evaluator page's model-wide sections, ready to draw and cheap to cache.

They depend only on the model version and the language, so the page fetches them through its
query cache; returning plain figure dicts (not plotly objects, whose construction validates every
property) keeps a cache hit to an unpickle: measured on the page, building these figures on every
rerun cost ~0.15 s of a 0.3 s budget.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from scoring import explain, plots, store
from scoring.features import DRIVER_BY_NAME


def global_figures(con: duckdb.DuckDBPyConnection, model: str, version: str, lang: str, *,
                   role: str) -> dict[str, object]:
    """Importance, beeswarm and one dependence figure per driver, from the stored SHAP sample."""
    v = store.current_version(con, model)
    if v is None or v.version != version:
        raise LookupError(f"{model}/{version} is not the current version")
    sample = store.shap_sample(con, model, version, role=role)
    names = v.driver_names
    labels = [explain.label(DRIVER_BY_NAME[n], lang) for n in names]
    pts = explain.sample_points(sample, model)
    return {
        "n": len(sample), "names": names, "labels": labels,
        "importance": plots.importance(explain.importance_table(v.metrics, lang), lang=lang).to_plotly_json(),
        "beeswarm": plots.beeswarm(sample, pts, names, labels, lang=lang).to_plotly_json(),
        "dependence": [plots.dependence(sample[n], pts[:, j], xlabel=labels[j], lang=lang).to_plotly_json()
                       for j, n in enumerate(names)],
    }


def card_figures(con: duckdb.DuckDBPyConnection, model: str, version: str, lang: str) -> dict[str, object]:
    """The model card: calibration, grade rates, grade confusion, fairness figures and table."""
    v = store.current_version(con, model)
    if v is None or v.version != version:
        raise LookupError(f"{model}/{version} is not the current version")
    m = v.metrics
    groups = store.group_names(con, lang)
    fair: pd.DataFrame = explain.fairness_table(m["fairness"], groups, lang)
    return {
        "calibration": plots.calibration(m["calibration"], lang=lang).to_plotly_json(),
        "grades": plots.grade_rates(m["grades"], lang=lang).to_plotly_json(),
        "confusion": plots.grade_confusion(m["grade_confusion"], lang=lang).to_plotly_json(),
        "fair_region": plots.fairness(m["fairness"]["region"], groups["region"], lang=lang).to_plotly_json(),
        "fair_size": plots.fairness(m["fairness"]["size"], groups["size"], lang=lang).to_plotly_json(),
        "fair_table": fair,
    }
