"""The broker audit's figures: a link's weights as Splink-style waterfalls, a cluster's timeline.

Each builder takes ``t`` (the label catalogue in the user's language) and ``term`` (an evidence
kind, group or status by name), as the page passes them.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analytics.brokers.evidence import WhyLinked
from analytics.brokers.graph_draw import Label, Term
from analytics.brokers.views import STATUS_COLOURS


def plot_waterfall(why: WhyLinked, t: Label, term: Term) -> go.Figure:
    """Splink-style waterfall of the weights that add up to the link's total."""
    ev = why.evidence
    used = ev[ev["counted"].astype(bool)] if len(ev) else ev
    labels = [f"{term(k)}{' ' if k in ('plan', 'timing') else ': '}{v}"
              for k, v in zip(used.get("kind", []), used.get("value", []))]
    fig = go.Figure(go.Waterfall(
        x=labels + [term("total")], y=list(used.get("weight", [])) + [why.total_weight],
        measure=["relative"] * len(labels) + ["total"], connector={"line": {"color": "#999"}},
        text=[f"{w:+.1f}" for w in used.get("weight", [])] + [f"{why.total_weight:.1f}"], textposition="outside"))
    fig.update_layout(height=360, margin={"l": 10, "r": 10, "t": 30, "b": 10}, showlegend=False,
                      yaxis_title=t("brokers.fig.weight"))
    return fig


def plot_bits(bits: pd.DataFrame, t: Label, term: Term) -> go.Figure:
    """Waterfall of a pair's match weight with the run's learned weights
    (:func:`analytics.brokers.weights.waterfall`): prior, each group agreeing or not, total."""
    labels = [term(w) if not g else f"{term(g)} · {term(w)}" for w, g in zip(bits["term"], bits["group"])]
    fig = go.Figure(go.Waterfall(
        x=labels, y=bits["bits"].tolist(), measure=["total" if w == "total" else "relative" for w in bits["term"]],
        connector={"line": {"color": "#999"}}, textposition="outside",
        text=[f"{b:+.1f}" if w != "total" else f"{b:.1f} ({v})" for w, b, v in zip(bits["term"], bits["bits"], bits["value"])]))
    fig.update_layout(height=360, margin={"l": 10, "r": 10, "t": 30, "b": 10}, showlegend=False,
                      yaxis_title=t("brokers.fig.match_weight"))
    return fig


def plot_timeline(df: pd.DataFrame, t: Label, term: Term) -> go.Figure:
    """Each submission as a point in time, one row per program, coloured by status."""
    fig = go.Figure()
    for status, part in df.groupby("status", sort=True):
        fig.add_trace(go.Scatter(
            x=part["submitted_at"], y=part["program"], mode="markers", name=term(status),
            marker={"size": 10, "color": STATUS_COLOURS.get(status, "#333")},
            hovertext=[f"{r.application_id} · {r.firm_name}<br>{r.submitted_at:%Y-%m-%d %H:%M}" for r in part.itertuples()],
            hoverinfo="text"))
    fig.update_layout(height=max(260, 28 * df["program"].nunique() + 120), margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      xaxis_title=t("brokers.fig.submitted_at"))
    return fig
