"""The broker audit's figures: a link's weights as Splink-style waterfalls, a cluster's timeline."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analytics.brokers import views as broker_views
from analytics.brokers.evidence import WhyLinked


def plot_waterfall(why: WhyLinked, *, lang: str = "ko") -> go.Figure:
    """Splink-style waterfall of the weights that add up to the link's total."""
    ev = why.evidence
    used = ev[ev["counted"].astype(bool)] if len(ev) else ev
    labels = [f"{broker_views.term(k, lang)}{' ' if k in ('plan', 'timing') else ': '}{v}"
              for k, v in zip(used.get("kind", []), used.get("value", []))]
    total_label = "합계" if lang == "ko" else "total"
    fig = go.Figure(go.Waterfall(
        x=labels + [total_label], y=list(used.get("weight", [])) + [why.total_weight],
        measure=["relative"] * len(labels) + ["total"], connector={"line": {"color": "#999"}},
        text=[f"{w:+.1f}" for w in used.get("weight", [])] + [f"{why.total_weight:.1f}"], textposition="outside"))
    fig.update_layout(height=360, margin={"l": 10, "r": 10, "t": 30, "b": 10}, showlegend=False,
                      yaxis_title="가중치 (bits)" if lang == "ko" else "weight (bits)")
    return fig


def plot_bits(terms: pd.DataFrame, *, lang: str = "ko") -> go.Figure:
    """Waterfall of a pair's match weight with the run's learned weights
    (:func:`analytics.brokers.weights.waterfall`): prior, each group agreeing or not, total."""
    labels = [broker_views.term(t, lang) if not g else f"{broker_views.term(g, lang)} · {broker_views.term(t, lang)}"
              for t, g in zip(terms["term"], terms["group"])]
    fig = go.Figure(go.Waterfall(
        x=labels, y=terms["bits"].tolist(), measure=["total" if t == "total" else "relative" for t in terms["term"]],
        connector={"line": {"color": "#999"}}, textposition="outside",
        text=[f"{b:+.1f}" if t != "total" else f"{b:.1f} ({v})" for t, b, v in zip(terms["term"], terms["bits"], terms["value"])]))
    fig.update_layout(height=360, margin={"l": 10, "r": 10, "t": 30, "b": 10}, showlegend=False,
                      yaxis_title="일치 가중치 (bits)" if lang == "ko" else "match weight (bits)")
    return fig


def plot_timeline(df: pd.DataFrame, *, lang: str = "ko") -> go.Figure:
    """Each submission as a point in time, one row per program, coloured by status."""
    fig = go.Figure()
    for status, part in df.groupby("status", sort=True):
        fig.add_trace(go.Scatter(
            x=part["submitted_at"], y=part["program"], mode="markers", name=broker_views.term(status, lang),
            marker={"size": 10, "color": broker_views.STATUS_COLOURS.get(status, "#333")},
            hovertext=[f"{r.application_id} · {r.firm_name}<br>{r.submitted_at:%Y-%m-%d %H:%M}" for r in part.itertuples()],
            hoverinfo="text"))
    fig.update_layout(height=max(260, 28 * df["program"].nunique() + 120), margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      xaxis_title="제출 시각" if lang == "ko" else "submitted at")
    return fig
