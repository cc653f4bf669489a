"""An applicant's explanation as one self-contained HTML file (no scripts, no external files).

The waterfall is drawn with CSS bars, so the file opens offline, prints, and stays small; personal
data appears only as the caller passes it (masked for evaluators). Every word comes from ``t``, the
label catalogue in the reader's language.
"""
from __future__ import annotations

from collections.abc import Callable
from html import escape

import pandas as pd

from scoring.features import KTOP_PARTS

_CSS = """
body{font-family:'Nanum Gothic','Malgun Gothic',sans-serif;margin:2em;color:#222;max-width:960px}
h1{font-size:1.4em}table{border-collapse:collapse;width:100%;margin:1em 0}
td,th{border-bottom:1px solid #ddd;padding:4px 8px;text-align:left;font-size:.92em}
.num{text-align:right;font-variant-numeric:tabular-nums}.bar{height:12px;display:inline-block}
.pos{background:#1f77b4}.neg{background:#d62728}.cell{width:260px;position:relative}
.kpi{display:inline-block;margin-right:2em}.kpi b{font-size:1.6em;display:block}.note{color:#666;font-size:.85em}
"""


def _bar(points: float, scale: float) -> str:
    width = 0 if scale <= 0 else min(120.0, 120.0 * abs(points) / scale)
    side = "margin-left:130px" if points >= 0 else f"margin-left:{130 - width:.0f}px"
    cls = "pos" if points >= 0 else "neg"
    return f'<span class="bar {cls}" style="width:{width:.0f}px;{side}"></span>'


def render(*, model: str, version: str, info: dict, score: float, grade: str, percentile: float,
           probability: float, base: float, table: pd.DataFrame, reasons: pd.DataFrame,
           generated_at: str, synthetic: bool, t: Callable[..., str]) -> str:
    """The HTML text of one applicant's explanation: every reason sentence in full, principal reasons
    (actionable) apart from context."""
    title = t("scoring.report.title") + f" · {model.upper()}"
    target = t(f"scoring.report.p.{model}")
    scale = float(table["points"].abs().max()) if len(table) else 1.0
    rows = "".join(
        f"<tr><td>{escape(str(r.label))}</td><td>{escape(str(r.block))}</td><td>{escape(str(r.value_text))}</td>"
        f"<td class='num'>{r.points:+.1f}</td><td class='cell'>{_bar(r.points, scale)}</td></tr>"
        for r in table.itertuples())
    sections = []
    for role in ("principal", "context", "strength"):
        part = reasons[reasons["role"] == role]
        if not len(part) and role != "principal":
            continue
        items = "".join(f"<tr><td>{escape(r.code)}</td><td>{escape(r.sentence)}</td><td class='num'>{r.points:+.1f}</td></tr>"
                        for r in part.itertuples()) or f"<tr><td>{escape(t('scoring.reasons.none'))}</td></tr>"
        sections.append(f"<h3>{escape(t(f'scoring.reasons.{role}'))}</h3><table>{items}</table>")
    reason_rows = "".join(sections)
    ident = "".join(f"<tr><th>{escape(str(k))}</th><td>{escape(str(v))}</td></tr>" for k, v in info.items())
    parts = " · ".join(t(f"scoring.part.{p}") for p in KTOP_PARTS) if model == "ktop" else ""
    note = (t("scoring.report.synthetic") + " " if synthetic else "") + t("scoring.report.base", base=base)
    return f"""<!DOCTYPE html><html lang="{t('scoring.report.html_lang')}"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>{_CSS}</style></head><body>
<h1>{escape(title)}</h1><p class="note">{escape(version)} · {escape(generated_at)} {escape(parts)}</p>
<div><span class="kpi">{escape(t('scoring.score'))}<b>{score:.0f}</b></span>
<span class="kpi">{escape(t('scoring.grade'))}<b>{escape(grade)}</b></span>
<span class="kpi">{escape(t('scoring.percentile'))}<b>{percentile:.0f}</b></span>
<span class="kpi">{escape(target)}<b>{probability:.2%}</b></span></div>
<table>{ident}</table>
<h2>{escape(t('scoring.reasons'))}</h2>{reason_rows}
<h2>{escape(t('scoring.report.contributions'))}</h2>
<table><tr><th>{escape(t('scoring.report.driver'))}</th><th>{escape(t('scoring.report.block'))}</th>
<th>{escape(t('scoring.report.value'))}</th><th class='num'>{escape(t('scoring.report.points'))}</th><th></th></tr>{rows}</table>
<p class="note">{escape(note)}</p></body></html>"""
