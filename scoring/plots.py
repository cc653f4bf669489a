"""Plotly figures for the evaluator page and the model card: pure functions of prepared tables.

Each builder takes ``t``, the label function of the page's language (ui/labels/scoring.toml).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

Label = Callable[..., str]
_UP, _DOWN, _GREY = "#1f77b4", "#d62728", "#7f7f7f"
_MARGIN = {"l": 10, "r": 10, "t": 30, "b": 10}


def waterfall(table: pd.DataFrame, base: float, score: float, t: Label, *, top: int = 10) -> go.Figure:
    """SHAP waterfall in points: base score, the largest drivers, the rest, the final score."""
    head, rest = table.head(top), table.iloc[top:]
    labels = [f"{r.label} = {r.value_text}" for r in head.itertuples()]
    values = head["points"].tolist()
    if len(rest):
        labels.append(t("scoring.fig.others", n=len(rest)))
        values.append(float(rest["points"].sum()))
    fig = go.Figure(go.Waterfall(
        orientation="h",
        measure=["absolute"] + ["relative"] * len(values) + ["total"],
        y=[t("scoring.fig.base")] + labels + [t("scoring.score")],
        x=[base] + values + [score],
        text=[f"{base:.0f}"] + [f"{v:+.1f}" for v in values] + [f"{score:.0f}"],
        increasing={"marker": {"color": _UP}}, decreasing={"marker": {"color": _DOWN}},
        totals={"marker": {"color": _GREY}}))
    path = np.cumsum([base] + values)
    lo, hi = float(min(path.min(), score)), float(max(path.max(), score))
    pad = 0.15 * (hi - lo) + 5
    fig.update_layout(yaxis={"autorange": "reversed"}, height=120 + 32 * (len(values) + 2),
                      xaxis_range=[lo - pad, hi + pad],
                      margin={"l": 10, "r": 10, "t": 30, "b": 10}, showlegend=False,
                      xaxis_title=t("scoring.fig.points"))
    return fig


def importance(table: pd.DataFrame, t: Label) -> go.Figure:
    """Mean |SHAP| in points per driver, coloured by KTRS-like block."""
    df = table.iloc[::-1]
    fig = go.Figure()
    for block, part in df.groupby("block", sort=False):
        fig.add_bar(y=part["label"], x=part["points"], orientation="h", name=block)
    fig.update_layout(barmode="stack", height=120 + 22 * len(df), margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      xaxis_title=t("scoring.fig.mean_shap"))
    return fig


def _color_rank(v: pd.Series) -> np.ndarray:
    """Feature values as 0..1 ranks (low blue, high red), for beeswarm colours."""
    x = pd.to_numeric(v, errors="coerce")
    return x.rank(pct=True).fillna(0.5).to_numpy()


def beeswarm(sample: pd.DataFrame, points: np.ndarray, names: list[str], labels: list[str], t: Label,
             *, top: int = 12, seed: int = 0) -> go.Figure:
    """SHAP beeswarm: one dot per sampled applicant per driver, x = points, colour = feature value."""
    order = np.argsort(-np.abs(points).mean(axis=0))[:top][::-1]
    rng = np.random.default_rng(seed)
    fig = go.Figure()
    for row, j in enumerate(order):
        # WebGL, as the dependence plot: thousands of dots per driver as SVG took the browser the
        # better part of a minute on a busy machine
        fig.add_trace(go.Scattergl(
            x=points[:, j], y=row + rng.uniform(-0.3, 0.3, len(points)), mode="markers", name=labels[j],
            marker={"size": 4, "color": _color_rank(sample[names[j]]), "colorscale": "RdBu_r", "cmin": 0, "cmax": 1,
                    "opacity": 0.6, "showscale": row == len(order) - 1,
                    "colorbar": {"title": t("scoring.fig.value_rank")}},
            hovertemplate="%{x:.1f}<extra>" + labels[j] + "</extra>", showlegend=False))
    fig.update_layout(yaxis={"tickvals": list(range(len(order))), "ticktext": [labels[j] for j in order]},
                      height=120 + 34 * len(order), margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      xaxis_title=t("scoring.fig.shap_points"))
    return fig


def dependence(x: pd.Series, pts: np.ndarray, *, xlabel: str, t: Label) -> go.Figure:
    """SHAP dependence: the driver's value against its contribution in points."""
    fig = go.Figure(go.Scattergl(x=x, y=pts, mode="markers", marker={"size": 4, "opacity": 0.5}))
    fig.update_layout(xaxis_title=xlabel, yaxis_title=t("scoring.fig.shap_points"),
                      height=380, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def calibration(curve: list[dict], t: Label, truth: list[dict] | None = None) -> go.Figure:
    """Predicted against observed rates in bins of the prediction, with the diagonal and, when given,
    the truth's own probabilities binned the same way on the same rows."""
    df = pd.DataFrame(curve)
    top = float(max(df["predicted"].max(), df["observed"].max()))
    fig = go.Figure([go.Scatter(x=[0, top], y=[0, top], mode="lines", line={"dash": "dot", "color": _GREY},
                                name=t("scoring.fig.perfect")),
                     go.Scatter(x=df["predicted"], y=df["observed"], mode="lines+markers",
                                name=t("scoring.fig.model"))])
    if truth:
        tr = pd.DataFrame(truth)
        fig.add_scatter(x=tr["predicted"], y=tr["observed"], mode="lines+markers", line={"dash": "dash"},
                        name=t("scoring.fig.truth"))
    fig.update_layout(xaxis_title=t("scoring.fig.predicted"), yaxis_title=t("scoring.fig.observed"), height=360,
                      margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def grade_rates(rows: list[dict], t: Label) -> go.Figure:
    """Observed failure rate per grade (bars, 95% bootstrap interval over firms) with predicted,
    true and KTRS published rates."""
    df = pd.DataFrame(rows)
    df = df[df["n"] > 0]
    err = None
    if "observed_lo" in df and df["observed_lo"].notna().any():
        err = {"type": "data", "symmetric": False, "array": (df["observed_hi"] - df["observed"]).clip(lower=0),
               "arrayminus": (df["observed"] - df["observed_lo"]).clip(lower=0), "color": _GREY}
    fig = go.Figure(go.Bar(x=df["grade"], y=df["observed"], name=t("scoring.fig.observed_rate"), error_y=err,
                           text=[f"n={n:,}" for n in df["n"]]))
    fig.add_scatter(x=df["grade"], y=df["predicted"], mode="markers+lines", name=t("scoring.fig.predicted"))
    fig.add_scatter(x=df["grade"], y=df["truth"], mode="markers", name=t("scoring.fig.truth"))
    ktrs = df.dropna(subset=["ktrs"]) if "ktrs" in df else df.iloc[:0]
    if len(ktrs):
        fig.add_scatter(x=ktrs["grade"], y=ktrs["ktrs"], mode="markers", marker={"symbol": "diamond", "size": 10},
                        name=t("scoring.fig.ktrs"))
    fig.update_layout(yaxis_tickformat=".1%", height=360, margin=_MARGIN,
                      xaxis={"categoryorder": "array", "categoryarray": list(df["grade"])})
    return fig


def grade_confusion(matrix: list[list[int]], labels: list[str], t: Label) -> go.Figure:
    """Model grade (rows) against the grade of the true probability (columns)."""
    fig = go.Figure(go.Heatmap(z=matrix, x=labels, y=labels, colorscale="Blues", text=matrix, texttemplate="%{text}"))
    fig.update_layout(xaxis_title=t("scoring.fig.true_grade"), yaxis_title=t("scoring.fig.model_grade"),
                      yaxis_autorange="reversed", height=420, margin=_MARGIN)
    return fig


def fairness(rows: list[dict], names: dict[str, str], t: Label) -> go.Figure:
    """Per group: score distribution (p10..p90 whiskers, quartile box), and equal opportunity: the pass
    rate among applicants with the good outcome under the model and under the truth's own grades."""
    df = pd.DataFrame(rows).dropna(subset=["median"]) if rows else pd.DataFrame()
    fig = go.Figure()
    if df.empty:
        return fig
    y = [names.get(g, g) for g in df["group"]]
    fig.add_trace(go.Box(y=y, q1=df["p25"], median=df["median"], q3=df["p75"], lowerfence=df["p10"],
                         upperfence=df["p90"], orientation="h", name=t("scoring.score"), xaxis="x"))
    if "tpr" in df:
        fig.add_trace(go.Scatter(x=df["tpr"], y=y, mode="markers", xaxis="x2", marker={"symbol": "x", "size": 9},
                                 name=t("scoring.fig.tpr_model")))
    if "tpr_truth" in df:
        fig.add_trace(go.Scatter(x=df["tpr_truth"], y=y, mode="markers", xaxis="x2",
                                 marker={"symbol": "circle-open", "size": 9}, name=t("scoring.fig.tpr_truth")))
    fig.update_layout(xaxis={"domain": [0, 0.55], "title": t("scoring.score")},
                      xaxis2={"domain": [0.62, 1], "anchor": "y", "tickformat": ".0%", "range": [0, 1],
                              "title": t("scoring.fig.tpr")},
                      height=160 + 26 * len(df), margin=_MARGIN, legend={"orientation": "h", "y": -0.15})
    return fig


def psi_bars(psi_features: dict[str, float], labels: dict[str, str], psi_score: float, t: Label) -> go.Figure:
    """Population stability index of the scores and of each driver against the previous version,
    with the rule-of-thumb lines at 0.1 (watch) and 0.25 (shift)."""
    names = [t("scoring.fig.scores")] + [labels.get(n, n) for n in psi_features]
    vals = [psi_score] + list(psi_features.values())
    fig = go.Figure(go.Bar(x=vals[::-1], y=names[::-1], orientation="h",
                           marker={"color": [_DOWN if v >= 0.25 else "#ff7f0e" if v >= 0.1 else _UP for v in vals[::-1]]}))
    for x in (0.1, 0.25):
        fig.add_vline(x=x, line_dash="dot", line_color=_GREY)
    fig.update_layout(xaxis_title="PSI", height=120 + 22 * len(vals), margin=_MARGIN)
    return fig
