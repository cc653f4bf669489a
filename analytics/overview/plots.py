"""The overview's figure: applications and selections per period."""
from __future__ import annotations

import plotly.graph_objects as go

from analytics.overview.summary import Activity
from data.privacy import numeric


def plot_activity(act: Activity, *, x_title: str, y_title: str, names: tuple[str, str], partial_note: str) -> go.Figure:
    """Applications and selections per period as two lines; suppressed periods are gaps. An
    incomplete last period is shaded, drawn dotted and named by ``partial_note``."""
    data = numeric(act.frame)
    whole = data.iloc[:-1] if act.partial_until is not None else data
    fig = go.Figure()
    colours = ("#1f77b4", "#d62728")
    for column, name, colour in zip(("applications", "selected"), names, colours):
        fig.add_scatter(x=whole["label"], y=whole[column], name=name, mode="lines+markers", legendgroup=column,
                        line={"color": colour})
        if act.partial_until is not None:
            tail = data.iloc[-2:]
            fig.add_scatter(x=tail["label"], y=tail[column], name=name, mode="lines+markers", legendgroup=column,
                            showlegend=False, line={"color": colour, "dash": "dot"},
                            marker={"symbol": ["circle", "circle-open"][-len(tail):], "size": [6, 10][-len(tail):]},
                            hoverinfo=["none", "all"][-len(tail):])  # the point before is in the hover already
    if act.partial_until is not None:
        last = data["label"].iloc[-1]
        fig.add_vrect(x0=len(data) - 1.5, x1=len(data) - 0.5, fillcolor="#bbbbbb", opacity=0.25, line_width=0)
        fig.add_annotation(x=last, y=1, yref="paper", text=partial_note, showarrow=False, xanchor="right",
                           yanchor="bottom", font={"size": 11, "color": "#555"})
    # labels read flat: at most about a dozen of them (plotly skips the rest of a category axis)
    fig.update_xaxes(type="category", nticks=12, tickangle=0)
    fig.update_layout(xaxis_title=x_title, yaxis_title=y_title, height=340, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=1.15), hovermode="x unified")
    return fig
