"""Pure plotly figure builders for the AI-adoption view: data in, figure out, no queries.

Texts come from the label catalogue through ``t`` (the page's ``ctx.t``), names of regions and
sizes from the frames' ``label_ko`` / ``label_en``. Suppressed cells ("<5") are not drawn;
estimates resting on fewer than 30 respondents are drawn grey and marked with "†".
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analytics.adoption.estimates import Gap, Targets
from data.privacy import numeric

Label = Callable[..., str]
STATUS_COLORS = {"uses": "#1f5fa8", "plans": "#7fb0e0", "none": "#d0d5dc"}
GREY = "#b8bcc2"
LOW_MARK = " †"


def _pct(x: float) -> str:
    return "–" if pd.isna(x) else f"{x * 100:.1f}%"


def _names(df: pd.DataFrame, lang: str) -> pd.Series:
    low = df["low_n"].fillna(False).astype(bool) if "low_n" in df else pd.Series(False, index=df.index)
    return df[f"label_{lang}"] + np.where(low, LOW_MARK, "")


def _hover(df: pd.DataFrame, t: Label) -> list[str]:
    return [t("adoption.hover_ci", p=_pct(p), lo=_pct(lo), hi=_pct(hi), n=("<5" if pd.isna(n) else int(n)))
            for p, lo, hi, n in zip(df["p"], df["lo"], df["hi"], df["n"])]


def _layout(fig: go.Figure, title: str, **kw: object) -> go.Figure:
    fig.update_layout(title=title, margin=dict(l=10, r=10, t=50, b=10), legend=dict(orientation="h", y=-0.15),
                      font=dict(family="NanumGothic, sans-serif"), **kw)
    return fig


def plot_estimates(df: pd.DataFrame, *, t: Label, lang: str, title: str) -> go.Figure:
    """Horizontal stacked shares (uses / plans / none) per domain; 'uses' carries its 95% interval."""
    df = numeric(df)
    order = df[df["indicator"] == "uses"].sort_values("p")[f"label_{lang}"].tolist()
    fig = go.Figure()
    rows = None
    for status in ("uses", "plans", "none"):
        part = df[df["indicator"] == status].set_index(f"label_{lang}").reindex(order).reset_index()
        rows = _names(part, lang) if rows is None else rows
        # well-measured groups first: the legend takes the first bar's colour, which must not be the
        # grey of a group of under 30 answers (the rows keep their order by the axis's category array)
        part = part.iloc[np.argsort(part["low_n"].fillna(False).astype(bool).to_numpy(), kind="stable")]
        low = part["low_n"].fillna(False).astype(bool)
        error = dict(type="data", symmetric=False, array=part["hi"] - part["p"], arrayminus=part["p"] - part["lo"],
                     color="#333") if status == "uses" else None
        fig.add_bar(y=_names(part, lang), x=part["p"], orientation="h", name=t(f"adoption.status_{status}"),
                    marker_color=[GREY if lw else STATUS_COLORS[status] for lw in low],
                    marker_opacity=[0.55 if lw else 1.0 for lw in low], error_x=error,
                    hovertext=_hover(part, t), hoverinfo="text+name")
    return _layout(fig, title, barmode="stack", xaxis=dict(tickformat=".0%", range=[0, 1]),
                   yaxis=dict(categoryorder="array", categoryarray=list(rows) if rows is not None else []),
                   height=max(260, 28 * len(order) + 120))


def plot_tile_map(df: pd.DataFrame, *, t: Label, names: dict[str, str]) -> go.Figure:
    """The 17 시도 on their tile grid, coloured by adoption, with the interval on hover; ``names``:
    region code -> name in the reader's language."""
    df = numeric(df)
    rows, cols = int(df["tile_row"].max()) + 1, int(df["tile_col"].max()) + 1
    z = np.full((rows, cols), np.nan)
    text = np.full((rows, cols), "", dtype=object)
    hover = np.full((rows, cols), "", dtype=object)
    for r in df.itertuples():
        low = bool(r.low_n) if not pd.isna(r.low_n) else False
        z[r.tile_row, r.tile_col] = r.p
        text[r.tile_row, r.tile_col] = f"{names.get(r.region_code, r.region_code)}{LOW_MARK if low else ''}<br>{_pct(r.p)}"
        hover[r.tile_row, r.tile_col] = f"{names.get(r.region_code, r.region_code)}<br>" + t(
            "adoption.hover_ci", p=_pct(r.p), lo=_pct(r.lo), hi=_pct(r.hi), n=("<5" if pd.isna(r.n) else int(r.n)))
    fig = go.Figure(go.Heatmap(z=z, text=text, texttemplate="%{text}", hovertext=hover, hoverinfo="text",
                               colorscale="Blues", xgap=4, ygap=4, colorbar=dict(tickformat=".0%"),
                               zmin=float(np.nanmin(z)) if np.isfinite(z).any() else 0, zmax=float(np.nanmax(z)) if np.isfinite(z).any() else 1))
    return _layout(fig, t("adoption.map_title"), height=460,
                   xaxis=dict(visible=False), yaxis=dict(visible=False, autorange="reversed", scaleanchor="x"))


def plot_gap(gap: Gap, *, t: Label) -> go.Figure:
    """Waterfall from group b's rate to group a's: composition part, then within-group part."""
    a, b = t(f"adoption.gap_{gap.kind}_a"), t(f"adoption.gap_{gap.kind}_b")
    fig = go.Figure(go.Waterfall(
        x=[b, t("adoption.part_composition"), t("adoption.part_within"), a],
        measure=["absolute", "relative", "relative", "total"],
        y=[gap.p_b, gap.composition, gap.within, gap.p_a],
        text=[_pct(gap.p_b), f"{gap.composition * 100:+.1f}pp", f"{gap.within * 100:+.1f}pp", _pct(gap.p_a)],
        textposition="outside", connector=dict(line=dict(color="#888")),
        increasing=dict(marker_color="#1f5fa8"), decreasing=dict(marker_color="#c0504d"),
        totals=dict(marker_color="#444")))
    title = t("adoption.gap_chart_title", gap=f"{gap.gap * 100:+.1f}", lo=f"{gap.lo * 100:+.1f}", hi=f"{gap.hi * 100:+.1f}")
    return _layout(fig, title, yaxis=dict(tickformat=".0%"), height=360, showlegend=False)


def plot_targets(targets: Targets, *, t: Label, lang: str) -> go.Figure:
    """Left: the straight path from the 2024 baseline to the 2027 target with all SMEs at the survey
    year. Right: each region's and SME size class's adoption (with interval) against the path value
    of that year (dotted) and the target (dashed); red when below the path."""
    st = numeric(targets.standing)
    fig = make_subplots(rows=1, cols=2, column_widths=[0.35, 0.65], horizontal_spacing=0.12)
    fig.add_scatter(x=targets.path["year"], y=targets.path["path"], mode="lines+markers+text",
                    name=t("adoption.target_path"), line=dict(dash="dash", color="#c0504d"),
                    text=[_pct(v) for v in targets.path["path"]], textposition="top center", row=1, col=1)
    overall = st[st["dimension"] == "all"]
    fig.add_scatter(x=overall["year"], y=overall["p"], mode="markers", name=t("adoption.target_all"),
                    marker=dict(symbol="star", size=14, color="#222"),
                    error_y=dict(type="data", symmetric=False, array=overall["hi"] - overall["p"],
                                 arrayminus=overall["p"] - overall["lo"]),
                    hovertext=_hover(overall, t), hoverinfo="text", row=1, col=1)
    parts = st[st["dimension"] != "all"].sort_values(["dimension", "p"], ascending=[False, True])
    path_now = float(st["path"].iloc[0]) if not st.empty else targets.baseline
    low = parts["low_n"].fillna(False).astype(bool)
    colors = [GREY if lw else ("#c0504d" if p < path_now else "#1f5fa8") for lw, p in zip(low, parts["p"])]
    fig.add_scatter(x=parts["p"], y=_names(parts, lang), mode="markers", name=t("adoption.target_parts"),
                    marker=dict(size=9, color=colors, symbol=["diamond" if d == "size_class" else "circle"
                                                              for d in parts["dimension"]]),
                    error_x=dict(type="data", symmetric=False, array=parts["hi"] - parts["p"],
                                 arrayminus=parts["p"] - parts["lo"], thickness=1),
                    hovertext=_hover(parts, t), hoverinfo="text+y", row=1, col=2)
    fig.add_vline(x=path_now, line=dict(dash="dot", color="#c0504d"), row=1, col=2)
    fig.add_vline(x=targets.target, line=dict(dash="dash", color="#c0504d"), row=1, col=2)
    fig.update_yaxes(tickformat=".0%", row=1, col=1)
    fig.update_xaxes(dtick=1, row=1, col=1)
    fig.update_xaxes(tickformat=".0%", row=1, col=2)
    return _layout(fig, t("adoption.targets_title"), height=max(420, 22 * len(parts) + 140))


def plot_barriers(df: pd.DataFrame, *, t: Label, lang: str, indicators: tuple[str, ...]) -> go.Figure:
    """Grouped bars per indicator and domain, with the published Seoul small-merchant figures as
    black reference marks."""
    df = numeric(df[df["indicator"].isin(indicators)])
    fig = go.Figure()
    for label, part in df.groupby(f"label_{lang}", sort=False):
        low = part["low_n"].fillna(False).astype(bool)
        fig.add_bar(x=[t(f"adoption.ind_{i}") for i in part["indicator"]], y=part["p"],
                    name=label + (LOW_MARK if low.all() else ""), marker_opacity=[0.45 if lw else 1.0 for lw in low],
                    error_y=dict(type="data", symmetric=False, array=part["hi"] - part["p"],
                                 arrayminus=part["p"] - part["lo"], thickness=1),
                    hovertext=_hover(part, t), hoverinfo="text+name")
    ref = df.drop_duplicates("indicator").dropna(subset=["reference"])
    if not ref.empty:
        fig.add_scatter(x=[t(f"adoption.ind_{i}") for i in ref["indicator"]], y=ref["reference"], mode="markers",
                        name=t("adoption.reference_mark"), marker=dict(symbol="line-ew-open", size=40, color="#000",
                                                                        line=dict(width=3)))
    return _layout(fig, "", barmode="group", yaxis=dict(tickformat=".0%"), height=420)


def plot_reach(df: pd.DataFrame, *, t: Label, lang: str) -> go.Figure:
    """Adoption against AI-program applications per 1,000 firms; medians split the quadrants and
    laggards (low on both) are red."""
    df = numeric(df)
    fig = go.Figure(go.Scatter(
        x=df["applications_per_1000"], y=df["p"], mode="markers+text", text=df[f"label_{lang}"],
        textposition="top center",
        marker=dict(size=11, color=["#c0504d" if lag else "#1f5fa8" for lag in df["laggard"]]),
        error_y=dict(type="data", symmetric=False, array=df["hi"] - df["p"], arrayminus=df["p"] - df["lo"], thickness=1),
        hovertext=[f"{h}<br>{t('adoption.reach_apps')}: {a:.1f}" for h, a in zip(_hover(df, t), df["applications_per_1000"])],
        hoverinfo="text"))
    for value, axis in ((df["applications_per_1000"].median(), "x"), (df["p"].median(), "y")):
        if pd.notna(value):
            (fig.add_vline if axis == "x" else fig.add_hline)(value, line=dict(dash="dot", color="#888"))
    return _layout(fig, t("adoption.reach_title"), xaxis=dict(title=t("adoption.reach_apps")),
                   yaxis=dict(title=t("adoption.status_uses"), tickformat=".0%"), height=460, showlegend=False)
