"""Plotly figures for the evaluator page and the model card: pure functions of prepared tables."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from scoring import grades

_UP, _DOWN, _GREY = "#1f77b4", "#d62728", "#7f7f7f"


def waterfall(table: pd.DataFrame, base: float, score: float, *, top: int = 10, lang: str = "ko") -> go.Figure:
    """SHAP waterfall in points: base score, the largest drivers, the rest, the final score."""
    head, rest = table.head(top), table.iloc[top:]
    labels = [f"{r.label} = {r.value_text}" for r in head.itertuples()]
    values = head["points"].tolist()
    if len(rest):
        labels.append(f"기타 {len(rest)}개 요인" if lang == "ko" else f"{len(rest)} other drivers")
        values.append(float(rest["points"].sum()))
    fig = go.Figure(go.Waterfall(
        orientation="h",
        measure=["absolute"] + ["relative"] * len(values) + ["total"],
        y=["기준 점수" if lang == "ko" else "Base score"] + labels + ["점수" if lang == "ko" else "Score"],
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
                      xaxis_title="점수 (points)" if lang == "ko" else "points")
    return fig


def importance(table: pd.DataFrame, *, lang: str = "ko") -> go.Figure:
    """Mean |SHAP| in points per driver, coloured by KTRS-like block."""
    df = table.iloc[::-1]
    fig = go.Figure()
    for block, part in df.groupby("block", sort=False):
        fig.add_bar(y=part["label"], x=part["points"], orientation="h", name=block)
    fig.update_layout(barmode="stack", height=120 + 22 * len(df), margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      xaxis_title="평균 |SHAP| (점)" if lang == "ko" else "mean |SHAP| (points)")
    return fig


def _color_rank(v: pd.Series) -> np.ndarray:
    """Feature values as 0..1 ranks (low blue, high red), for beeswarm colours."""
    x = pd.to_numeric(v, errors="coerce")
    return x.rank(pct=True).fillna(0.5).to_numpy()


def beeswarm(sample: pd.DataFrame, points: np.ndarray, names: list[str], labels: list[str], *,
             top: int = 12, seed: int = 0, lang: str = "ko") -> go.Figure:
    """SHAP beeswarm: one dot per sampled applicant per driver, x = points, colour = feature value."""
    order = np.argsort(-np.abs(points).mean(axis=0))[:top][::-1]
    rng = np.random.default_rng(seed)
    fig = go.Figure()
    for row, j in enumerate(order):
        fig.add_scatter(
            x=points[:, j], y=row + rng.uniform(-0.3, 0.3, len(points)), mode="markers", name=labels[j],
            marker={"size": 4, "color": _color_rank(sample[names[j]]), "colorscale": "RdBu_r", "cmin": 0, "cmax": 1,
                    "opacity": 0.6, "showscale": row == len(order) - 1,
                    "colorbar": {"title": "값 순위" if lang == "ko" else "value rank"}},
            hovertemplate="%{x:.1f}<extra>" + labels[j] + "</extra>", showlegend=False)
    fig.update_layout(yaxis={"tickvals": list(range(len(order))), "ticktext": [labels[j] for j in order]},
                      height=120 + 34 * len(order), margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      xaxis_title="SHAP (점)" if lang == "ko" else "SHAP (points)")
    return fig


def dependence(x: pd.Series, pts: np.ndarray, *, xlabel: str, lang: str = "ko") -> go.Figure:
    """SHAP dependence: the driver's value against its contribution in points."""
    fig = go.Figure(go.Scattergl(x=x, y=pts, mode="markers", marker={"size": 4, "opacity": 0.5}))
    fig.update_layout(xaxis_title=xlabel, yaxis_title="SHAP (점)" if lang == "ko" else "SHAP (points)",
                      height=380, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def calibration(curve: list[dict], *, lang: str = "ko") -> go.Figure:
    """Predicted against observed rates in bins of the prediction, with the diagonal."""
    df = pd.DataFrame(curve)
    top = float(max(df["predicted"].max(), df["observed"].max()))
    fig = go.Figure([go.Scatter(x=[0, top], y=[0, top], mode="lines", line={"dash": "dot", "color": _GREY},
                                name="완전 보정" if lang == "ko" else "perfect"),
                     go.Scatter(x=df["predicted"], y=df["observed"], mode="lines+markers",
                                name="모델" if lang == "ko" else "model")])
    fig.update_layout(xaxis_title="예측 확률" if lang == "ko" else "predicted",
                      yaxis_title="관측 비율" if lang == "ko" else "observed", height=360,
                      margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def grade_rates(rows: list[dict], *, lang: str = "ko") -> go.Figure:
    """Observed failure rate per grade (bars) with predicted, true and KTRS published rates."""
    df = pd.DataFrame(rows)
    df = df[df["n"] > 0]
    fig = go.Figure(go.Bar(x=df["grade"], y=df["observed"], name="관측 부실률" if lang == "ko" else "observed",
                           text=[f"n={n:,}" for n in df["n"]]))
    fig.add_scatter(x=df["grade"], y=df["predicted"], mode="markers+lines", name="예측" if lang == "ko" else "predicted")
    fig.add_scatter(x=df["grade"], y=df["truth"], mode="markers", name="참값(합성)" if lang == "ko" else "truth (synthetic)")
    ktrs = df.dropna(subset=["ktrs"]) if "ktrs" in df else df.iloc[:0]
    if len(ktrs):
        fig.add_scatter(x=ktrs["grade"], y=ktrs["ktrs"], mode="markers", marker={"symbol": "diamond", "size": 10},
                        name="KTRS 공표 부실률" if lang == "ko" else "KTRS published")
    fig.update_layout(yaxis_tickformat=".1%", height=360, margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      xaxis={"categoryorder": "array", "categoryarray": list(grades.GRADES)})
    return fig


def grade_confusion(matrix: list[list[int]], *, lang: str = "ko") -> go.Figure:
    """Model grade (rows) against the grade of the true probability (columns)."""
    fig = go.Figure(go.Heatmap(z=matrix, x=list(grades.GRADES), y=list(grades.GRADES), colorscale="Blues",
                               text=matrix, texttemplate="%{text}"))
    fig.update_layout(xaxis_title="참값 등급" if lang == "ko" else "true grade",
                      yaxis_title="모델 등급" if lang == "ko" else "model grade", yaxis_autorange="reversed",
                      height=420, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig


def fairness(rows: list[dict], names: dict[str, str], *, lang: str = "ko") -> go.Figure:
    """Score distribution (p10..p90 whiskers, quartile box) and selection rate per group."""
    df = pd.DataFrame(rows).dropna(subset=["median"]) if rows else pd.DataFrame()
    fig = go.Figure()
    if df.empty:
        return fig
    y = [names.get(g, g) for g in df["group"]]
    fig.add_trace(go.Box(y=y, q1=df["p25"], median=df["median"], q3=df["p75"], lowerfence=df["p10"],
                         upperfence=df["p90"], orientation="h", name="점수" if lang == "ko" else "score",
                         xaxis="x"))
    fig.add_trace(go.Scatter(x=df["selection_rate"], y=y, mode="markers", xaxis="x2", marker={"symbol": "x", "size": 9},
                             name="컷오프 통과율" if lang == "ko" else "selection rate"))
    fig.update_layout(xaxis={"domain": [0, 0.62], "title": "점수" if lang == "ko" else "score"},
                      xaxis2={"domain": [0.68, 1], "anchor": "y", "tickformat": ".0%",
                              "title": "통과율" if lang == "ko" else "selected"},
                      height=140 + 26 * len(df), margin={"l": 10, "r": 10, "t": 30, "b": 10})
    return fig
