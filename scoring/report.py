"""An applicant's explanation as one self-contained HTML file (no scripts, no external files).

The waterfall is drawn with CSS bars, so the file opens offline, prints, and stays small; personal
data appears only as the caller passes it (masked for evaluators).
"""
from __future__ import annotations

from collections.abc import Callable
from html import escape

import pandas as pd

from scoring.features import KTOP_PART_KO

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
           generated_at: str, synthetic: bool, t: Callable[..., str], lang: str = "ko") -> str:
    """The HTML text of one applicant's explanation: every reason sentence in full, principal reasons
    (actionable) apart from context."""
    ko = lang == "ko"
    title = ("평가 설명서" if ko else "Score explanation") + f" · {model.upper()}"
    target = ("부실 확률" if ko else "P(default)") if model == "ktop" else ("성공 확률" if ko else "P(success)")
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
    parts = " · ".join(KTOP_PART_KO.values()) if model == "ktop" else ""
    note = ("합성 데이터로 학습한 시연용 모델입니다. " if synthetic and ko else
            "Demonstration model trained on synthetic data. " if synthetic else "")
    note += (f"점수는 기준 점수 {base:.1f}점에 요인별 기여(SHAP, 점)를 더한 값입니다 (0–1000 범위로 표시)." if ko else
             f"The score is the base score {base:.1f} plus each driver's contribution (SHAP, points), shown within 0–1000.")
    return f"""<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{escape(title)}</title>
<style>{_CSS}</style></head><body>
<h1>{escape(title)}</h1><p class="note">{escape(version)} · {escape(generated_at)} {escape(parts)}</p>
<div><span class="kpi">{'점수' if ko else 'Score'}<b>{score:.0f}</b></span>
<span class="kpi">{'등급' if ko else 'Grade'}<b>{escape(grade)}</b></span>
<span class="kpi">{'백분위' if ko else 'Percentile'}<b>{percentile:.0f}</b></span>
<span class="kpi">{escape(target)}<b>{probability:.2%}</b></span></div>
<table>{ident}</table>
<h2>{escape(t('scoring.reasons'))}</h2>{reason_rows}
<h2>{'요인별 기여' if ko else 'Contributions'}</h2>
<table><tr><th>{'요인' if ko else 'Driver'}</th><th>{'영역' if ko else 'Block'}</th><th>{'값' if ko else 'Value'}</th>
<th class='num'>{'점' if ko else 'Points'}</th><th></th></tr>{rows}</table>
<p class="note">{escape(note)}</p></body></html>"""
