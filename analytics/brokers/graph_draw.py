"""Drawings of a cluster's network (:class:`analytics.brokers.graph.Graph`): Cytoscape.js elements
and style for the interactive page, a legend, and a static plotly figure for the evidence report.

Applications are circles coloured by status (dashed when from outside the cluster); identifiers are
diamonds coloured by evidence group (a group of similar plans too); an edge has its evidence
group's colour, plan edges dashed. Labels
shrink away when zoomed out (Cytoscape's ``min-zoomed-font-size``), so 200 nodes stay readable and
zooming in shows every name.

Words come from the page: ``t`` (the label catalogue in the user's language) and ``term`` (an
evidence kind, group or status by name, ui.names).
"""
from __future__ import annotations

import html
from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go

from analytics.brokers.graph import APPLICATION, Graph
from analytics.brokers.links import GROUPS
from analytics.brokers.views import GROUP_COLOURS, STATUS_COLOURS

Label = Callable[..., str]   # t(key, **kw): a label of the catalogue in the user's language
Term = Callable[[str], str]  # term(word): an evidence kind, group or status in the user's language
_SPREAD = 55.0   # pixels per node (square root): the seeded layout's [-1, 1] box scaled to the graph's size


def _short(text: str, width: int = 10) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def app_label(r: pd.Series | object) -> str:
    """What an application node says: its firm, then its number."""
    return f"{_short(str(getattr(r, 'firm_name')))}\n#{int(getattr(r, 'application_id'))}"


def ident_label(r: pd.Series | object, t: Label, term: Term) -> str:
    """What an identifier node says: its kind, then its value (masked for roles that must not see
    it); a group of similar plans says how many applications it holds."""
    kind = str(getattr(r, "kind"))
    if kind == "plan":
        return t("brokers.graph.plans", n=int(getattr(r, "firms")))
    return f"{term(kind)}\n{_short(str(getattr(r, 'value')), 18)}"


def elements(graph: Graph, t: Label, term: Term, *, focus: int | None = None) -> list[dict]:
    """Cytoscape.js elements: nodes with their seeded positions (the browser's layout refines them)
    and edges, with classes the :func:`stylesheet` colours. With ``focus``, nodes beyond the hops
    asked for are faded, so an expansion is visible even when it adds nothing from outside."""
    n = graph.nodes
    scale = _SPREAD * max(len(n), 1) ** 0.5
    fade = focus is not None and bool((n["hop"] > 0).any())  # an expansion by hops, not the cluster alone
    degree = pd.concat([graph.edges["source"], graph.edges["target"]]).value_counts().to_dict()
    out: list[dict] = []
    for r in n.itertuples():
        data: dict[str, object] = {"id": r.node_id}
        if r.node_type == APPLICATION:
            label = app_label(r)
            classes = ["application", f"status-{r.status}"] + ([] if r.in_cluster else ["outside"])
            if focus is not None and r.application_id == focus:
                classes.append("focus")
        else:
            label = ident_label(r, t, term)
            classes = ["identifier", f"group-{GROUPS.get(r.kind, r.kind)}"]
            data["size"] = round(18 + 5 * degree.get(r.node_id, 0) ** 0.5, 1)  # a hub reads as a hub
        if fade and pd.isna(r.hop):
            classes.append("faded")
        out.append({"data": data | {"label": label}, "classes": " ".join(classes),
                    "position": {"x": round(r.x * scale, 1), "y": round(r.y * scale, 1)}})
    for i, e in enumerate(graph.edges.itertuples()):
        classes = [f"group-{e.group}"] + (["plan"] if e.kind == "plan" else [])
        out.append({"data": {"id": f"e{i}", "source": e.source, "target": e.target,
                             "width": round(1 + min(float(e.weight), 12.0) / 4, 2)},
                    "classes": " ".join(classes)})
    return out


def detail_rows(graph: Graph, node_id: str, t: Label, term: Term) -> pd.DataFrame:
    """The table under a clicked node: for an application, what it shares (kind, value, firms,
    edge_weight), heaviest first; for a shared item, its applications (app, firm_name, biz_no,
    status, program, in_cluster). Kinds and statuses as ``term`` names them."""
    around = graph.neighbours(node_id)
    if node_id.startswith("a"):
        return around.assign(kind=around["kind"].map(term),
                             value=[ident_label(r, t, term).split("\n")[1] for r in around.itertuples()])
    return around.assign(status=around["status"].map(term),
                         app=around["application_id"].map(lambda a: f"#{a}"))


def stylesheet() -> list[dict]:
    """The Cytoscape.js style of :func:`elements`."""
    style: list[dict] = [
        {"selector": "node", "style": {
            "label": "data(label)", "font-size": 9, "text-wrap": "wrap", "text-max-width": 110,
            "text-valign": "bottom", "text-margin-y": 3, "min-zoomed-font-size": 7, "color": "#222",
            "text-background-color": "#ffffff", "text-background-opacity": 0.7, "text-background-padding": 1}},
        {"selector": "node.application", "style": {"shape": "ellipse", "width": 24, "height": 24,
                                                   "border-width": 1.5, "border-color": "#333"}},
        {"selector": "node.outside", "style": {"border-style": "dashed", "border-width": 2.5, "background-opacity": 0.55}},
        {"selector": "node.identifier", "style": {"shape": "diamond", "width": "data(size)", "height": "data(size)",
                                                  "border-width": 1, "border-color": "#555", "font-size": 10,
                                                  "font-weight": "bold", "text-background-opacity": 0.9, "z-index": 10}},
        {"selector": "edge", "style": {"width": "data(width)", "curve-style": "straight", "opacity": 0.75}},
        {"selector": "edge.plan", "style": {"line-style": "dashed"}},
    ]
    style += [{"selector": f"node.status-{s}", "style": {"background-color": c}} for s, c in STATUS_COLOURS.items()]
    style += [{"selector": f"node.group-{g}", "style": {"background-color": c}} for g, c in GROUP_COLOURS.items()]
    style += [{"selector": f"edge.group-{g}", "style": {"line-color": c}} for g, c in GROUP_COLOURS.items()]
    style += [
        {"selector": "node.focus", "style": {"border-width": 5, "border-color": "#111", "width": 32, "height": 32}},
        {"selector": ".faded", "style": {"opacity": 0.2}},
        {"selector": "node:selected", "style": {"border-width": 5, "border-color": "#f5b700", "border-style": "solid"}},
    ]
    return style


def layout() -> dict:
    """fcose from the seeded positions (randomize off), so the picture is the same on every rerun and
    labels are kept clear of other nodes."""
    return {"name": "fcose", "randomize": False, "animate": False, "quality": "proof",
            "nodeDimensionsIncludeLabels": True, "idealEdgeLength": 70, "nodeRepulsion": 9000,
            "packComponents": True, "fit": True, "padding": 20}


def legend_html(graph: Graph, term: Term) -> str:
    """A one-line legend of what the drawing uses: application statuses, then evidence kinds."""
    items = []
    for s in sorted(set(graph.applications()["status"])):
        items.append(_swatch(STATUS_COLOURS.get(s, "#333"), "50%", term(s)))
    for k in graph.kinds():
        g = GROUPS.get(k, k)
        items.append(_swatch(GROUP_COLOURS.get(g, "#999"), "2px", term(k), diamond=True))
    return " ".join(items)


def _swatch(colour: str, radius: str, text: str, *, diamond: bool = False) -> str:
    turn = "transform:rotate(45deg);" if diamond else ""
    return (f'<span style="white-space:nowrap;margin-right:12px"><span style="display:inline-block;width:10px;'
            f'height:10px;background:{colour};border-radius:{radius};{turn}margin-right:4px"></span>'
            f"{html.escape(text)}</span>")


def plot_network(graph: Graph, t: Label, term: Term) -> go.Figure:
    """The same network as a static plotly figure at the seeded layout (for the evidence report)."""
    n, e = graph.nodes, graph.edges
    pos = dict(zip(n["node_id"], zip(n["x"], n["y"])))
    fig = go.Figure()
    for (group, kind), part in e.groupby(["group", "kind"], sort=True):
        xs: list[float | None] = []
        ys: list[float | None] = []
        for r in part.itertuples():
            (x0, y0), (x1, y1) = pos[r.source], pos[r.target]
            xs += [x0, x1, None]
            ys += [y0, y1, None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name=term(kind), hoverinfo="skip",
                                 line={"color": GROUP_COLOURS.get(group, "#999"), "width": 1.5,
                                       "dash": "dash" if kind == "plan" else "solid"}))
    ids = n[n["node_type"] != APPLICATION]
    if len(ids):
        fig.add_trace(go.Scatter(
            x=ids["x"], y=ids["y"], mode="markers", showlegend=False, hoverinfo="text",
            hovertext=[ident_label(r, t, term).replace("\n", " ") for r in ids.itertuples()],
            marker={"symbol": "diamond", "size": 11, "line": {"width": 1, "color": "#555"},
                    "color": [GROUP_COLOURS.get(GROUPS.get(k, k), "#999") for k in ids["kind"]]}))
    apps = graph.applications()
    for status, part in apps.groupby("status", sort=True):
        fig.add_trace(go.Scatter(
            x=part["x"], y=part["y"], mode="markers", name=term(status), hoverinfo="text",
            hovertext=[f"#{r.application_id} · {r.firm_name} ({r.biz_no})<br>{r.program}<br>{r.region} · "
                       f"{r.submitted_at:%Y-%m-%d %H:%M}" for r in part.itertuples()],
            marker={"size": 12, "color": STATUS_COLOURS.get(status, "#333"), "line": {"width": 1, "color": "#222"},
                    "symbol": ["circle" if c else "circle-open" for c in part["in_cluster"]]}))
    fig.update_layout(showlegend=True, height=560, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                      xaxis={"visible": False}, yaxis={"visible": False}, hovermode="closest",
                      legend={"title": {"text": t("brokers.graph.legend")}})
    return fig
