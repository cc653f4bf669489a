"""The overview's figure: applications and selections per month."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from data.privacy import numeric


def plot_monthly(df: pd.DataFrame, *, x_title: str, y_title: str, names: tuple[str, str]) -> go.Figure:
    """Applications and selections per month as two lines (suppressed months are gaps)."""
    data = numeric(df)
    fig = go.Figure()
    for column, name in zip(("applications", "selected"), names):
        fig.add_scatter(x=data["month"], y=data[column], name=name, mode="lines+markers")
    fig.update_xaxes(tickformat="%Y-%m")
    fig.update_layout(xaxis_title=x_title, yaxis_title=y_title, height=320, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", y=1.1), hovermode="x unified")
    return fig
