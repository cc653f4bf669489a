"""Figures of the program uptake view: pure plotly builders over the frames of analytics.uptake*.

Each takes the (possibly suppressed) result and ``t``, the label function of the page's language;
suppressed cells ("<5") are drawn as gaps, never as numbers.
"""
from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go

from analytics.uptake.reach import Concentration
from data.privacy import numeric

Label = Callable[[str], str]
_STAGES = ("applications", "selected", "agreed", "paid")
_LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), height=360)


def plot_funnel(row: pd.DataFrame, t: Label) -> go.Figure:
    """Applications -> selection -> agreement -> payment (one-row frame of ``uptake.funnel``), each
    stage with its share of the previous one. Announcements count programs, not applications, and
    e-contracts are a kind of agreement: the page states both next to the chart."""
    r = numeric(row).iloc[0]
    stages = [s for s in _STAGES if pd.notna(r.get(s))]
    fig = go.Figure(go.Funnel(y=[t(f"uptake.stage.{s}") for s in stages], x=[float(r[s]) for s in stages],
                              texttemplate="%{value:,.0f}<br>%{percentPrevious:.1%}"))
    return fig.update_layout(title=t("uptake.funnel"), **_LAYOUT)


def plot_funnel_by(df: pd.DataFrame, t: Label, names: dict[str, str]) -> go.Figure:
    """Stage-to-stage rates per group (selection, agreement, e-contract, payment)."""
    d = numeric(df)
    x = [names.get(g, g) for g in d["grp"]]
    fig = go.Figure([go.Bar(name=t(f"uptake.col.{c}"), x=x, y=d[c]) for c in
                     ("selection_rate", "agreement_rate", "e_contract_share", "payment_rate")])
    return fig.update_layout(barmode="group", yaxis_tickformat=".0%", **_LAYOUT)


def plot_breakdown(df: pd.DataFrame, t: Label, names: dict[str, str], top: int = 20) -> go.Figure:
    """Applications and selections per group, largest first (at most ``top`` groups)."""
    d = numeric(df).head(top).iloc[::-1]
    y = [names.get(g, n) for g, n in zip(d["grp"], d["name"])]
    fig = go.Figure([go.Bar(name=t("uptake.col.applications"), y=y, x=d["applications"], orientation="h"),
                     go.Bar(name=t("uptake.col.selected"), y=y, x=d["selected"], orientation="h")])
    return fig.update_layout(barmode="overlay", **{**_LAYOUT, "height": max(300, 24 * len(d) + 80)})


def plot_tiles(df: pd.DataFrame, t: Label, names: dict[str, str]) -> go.Figure:
    """The 17 시도 as a tile grid (regions.tile_row / tile_col), coloured by selection rate;
    ``names``: region code -> name in the reader's language."""
    d = numeric(df)
    name = [names.get(str(g), n) for g, n in zip(d["grp"], d["name"])]
    text = [f"{n}<br>{r:.0%}" if pd.notna(r) else f"{n}<br><5" for n, r in zip(name, d["selection_rate"])]
    fig = go.Figure(go.Scatter(
        x=d["tile_col"], y=-d["tile_row"], mode="markers+text", text=text, textfont=dict(size=12),
        marker=dict(symbol="square", size=62, color=d["selection_rate"], colorscale="Blues",
                    showscale=True, colorbar=dict(title=t("uptake.col.selection_rate"), tickformat=".0%")),
        hovertext=name, hoverinfo="text"))
    fig.update_xaxes(visible=False, range=[-0.6, 3.6])
    fig.update_yaxes(visible=False, range=[-4.6, 0.6], scaleanchor="x")
    return fig.update_layout(title=t("uptake.tile_title"), **{**_LAYOUT, "height": 460})


def plot_penetration(df: pd.DataFrame, t: Label, region_names: dict[str, str], size_names: dict[str, str]) -> go.Figure:
    """Penetration per 시도 x size class as a heatmap (suppressed cells blank)."""
    d = numeric(df)
    grid = d.pivot(index="region_code", columns="size_class", values="penetration")
    grid = grid[[s for s in size_names if s in grid.columns]]
    fig = go.Figure(go.Heatmap(z=grid.values, x=[size_names[s] for s in grid.columns],
                               y=[region_names.get(r, r) for r in grid.index], colorscale="Greens",
                               colorbar=dict(tickformat=".0%"), hoverongaps=False))
    return fig.update_layout(title=t("uptake.reach"), **{**_LAYOUT, "height": 520})


def plot_lorenz(conc: Concentration, t: Label) -> go.Figure:
    """Lorenz curve of the amount awarded over firms supported, with the line of equality."""
    fig = go.Figure([
        go.Scatter(x=conc.lorenz["firm_share"], y=conc.lorenz["amount_share"], mode="lines", name=t("uptake.lorenz")),
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", line=dict(dash="dot", color="grey"), name=t("uptake.equality")),
    ])
    fig.update_xaxes(title=t("uptake.lorenz_x"), tickformat=".0%")
    fig.update_yaxes(title=t("uptake.lorenz_y"), tickformat=".0%")
    return fig.update_layout(title=t("uptake.lorenz"), **_LAYOUT)


def plot_documents(df: pd.DataFrame, refs: pd.DataFrame, t: Label, top: int = 25) -> tuple[go.Figure, go.Figure]:
    """Documents per application (uploaded by the firm + fetched automatically = required) and the
    linkage rate per group, with the published now -> target figures as reference lines.

    Horizontal bars, largest group on top: names of agencies and programs are long, and on a
    horizontal axis they would be rotated and overlap. Long names are shortened on the axis and
    shown in full on hover."""
    d = numeric(df).head(top).iloc[::-1]
    ref = refs.set_index("key")
    names = [str(n) for n in d["name"]]
    y = _short_unique(names)
    hover = "%{customdata}<br>%{fullData.name}: %{x:.1f}<extra></extra>"
    docs = go.Figure([go.Bar(name=t(f"uptake.col.{c}"), y=y, x=d[c], orientation="h", customdata=names,
                             hovertemplate=hover) for c in ("docs_by_firm", "docs_auto_linked")])
    docs.add_trace(go.Scatter(y=y, x=d["docs_required"], mode="text", text=[_one(v) for v in d["docs_required"]],
                              textposition="middle right", name=t("uptake.col.docs_required"), customdata=names,
                              hovertemplate=hover, showlegend=False))
    link = go.Figure(go.Bar(name=t("uptake.col.linkage_rate"), y=y, x=d["linkage_rate"], orientation="h",
                            customdata=names, hovertemplate="%{customdata}<br>%{fullData.name}: %{x:.0%}<extra></extra>"))
    lines = ((docs, "documents_per_application_now", "uptake.ref_docs_now", "firebrick"),
             (docs, "documents_per_application_target", "uptake.ref_docs_target", "seagreen"),
             (link, "admin_data_linkage_rate_now", "uptake.ref_link_now", "firebrick"),
             (link, "admin_data_linkage_rate_target", "uptake.ref_link_target", "seagreen"))
    for fig, key, label, color in lines:
        # the line spans the plot; its note goes to the legend, where it cannot cover a bar or another note
        r = ref.loc[key]
        fig.add_vline(x=r["value"], line_dash="dash", line_color=color)
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", line=dict(dash="dash", color=color),
                                 name=t(label).format(v=r["value"], year=r["year"], source=r["source"])))
    layout = {**_LAYOUT, "height": max(300, 26 * len(d) + 160), "margin": dict(l=10, r=10, t=90, b=10),
              "legend": dict(orientation="h", x=0, y=1.02, yanchor="bottom", traceorder="normal")}
    x_max = float(max(d["docs_required"].max(skipna=True), ref.loc["documents_per_application_now", "value"])) * 1.15
    docs.update_layout(barmode="stack", xaxis_title=t("uptake.docs_axis"), xaxis_range=[0, x_max], **layout)
    link.update_layout(xaxis_title=t("uptake.link_axis"), xaxis_tickformat=".0%", xaxis_range=[0, 1.05],
                       showlegend=True, **layout)
    return docs, link


def _one(v: float) -> str:
    return "" if pd.isna(v) else f"{v:.1f}"


def _short_unique(names: list[str], width: int = 22) -> list[str]:
    """Names cut to ``width`` characters with an ellipsis; two groups whose cut names agree stay
    apart (a bar axis would merge equal names into one row)."""
    out: list[str] = []
    for name in names:
        short = name if len(name) <= width else name[:width - 1] + "…"
        while short in out:
            short += "\u200b"  # an invisible character: same text, a separate row
        out.append(short)
    return out


def plot_channels(monthly: pd.DataFrame, t: Label) -> go.Figure:
    """Online share of applications and e-contract share of agreements, per month."""
    d = numeric(monthly)
    fig = go.Figure([
        go.Scatter(x=d["month"], y=d["online_share"], mode="lines+markers", name=t("uptake.col.online_share")),
        go.Scatter(x=d["month"], y=d["e_contract_share"], mode="lines+markers", name=t("uptake.col.e_contract_share")),
    ])
    return fig.update_layout(title=t("uptake.channels"), yaxis_tickformat=".0%", yaxis_title=t("uptake.share_axis"),
                             xaxis_tickformat=t("common.axis_month"), **_LAYOUT)


def plot_monthly(monthly: pd.DataFrame, t: Label) -> go.Figure:
    """Applications and selections per month of submission."""
    d = numeric(monthly)
    fig = go.Figure([go.Bar(x=d["month"], y=d["applications"], name=t("uptake.col.applications")),
                     go.Scatter(x=d["month"], y=d["selected"], name=t("uptake.col.selected"), mode="lines+markers")])
    return fig.update_layout(title=t("uptake.monthly"), yaxis_title=t("uptake.count_axis"),
                             xaxis_tickformat=t("common.axis_month"), **_LAYOUT)


def plot_seasonality(df: pd.DataFrame, t: Label) -> go.Figure:
    """The seasonal index of applications per calendar month."""
    d = numeric(df)
    fig = go.Figure(go.Bar(x=d["month_of_year"], y=d["index"], name=t("uptake.seasonality")))
    fig.add_hline(y=1, line_dash="dot", line_color="grey")
    fig.update_xaxes(title=t("uptake.month_of_year"), tickmode="linear", dtick=1)
    return fig.update_layout(title=t("uptake.seasonality"), **_LAYOUT)


def plot_composition(comp: pd.DataFrame, dim: str, t: Label, names: dict[str, str]) -> go.Figure:
    """Applicants, selected firms and the eligible population side by side, as shares of each."""
    d = numeric(comp[comp["dim"] == dim])
    x = [names.get(g, g) for g in d["grp"]]
    fig = go.Figure([go.Bar(name=t(f"uptake.group_{g}"), x=x, y=d[f"{g}_share"])
                     for g in ("applicants", "selected", "eligible")])
    return fig.update_layout(barmode="group", yaxis_tickformat=".0%", title=t("uptake.who"), **_LAYOUT)
