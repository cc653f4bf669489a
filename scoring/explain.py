"""Explanations in units an evaluator understands: score points, reason codes and what-if.

All functions are pure: they take what :mod:`scoring.store` read (stored exact SHAP values) and turn
it into tables. Points come from the linear score scale (:mod:`scoring.grades`), so
``base_points + sum(driver points) == score`` holds exactly (before the 0..1000 display clip).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from scoring import grades
from scoring.features import DRIVER_BY_NAME, Driver
from scoring.models import ScoringModel

MAX_REASONS = 4
MIN_PEERS = 30          # peers = sampled applicants of the same industry, or all sampled when fewer
MIN_POINTS = 0.05       # contributions smaller than this are not worth a reason code
# Display of model-unit values in natural units: shares as %, logs back to counts and won.
_PCT = {"tech_staff_share", "sales_growth", "rnd_intensity", "market_growth", "export_share", "operating_margin"}
# Drivers an evaluator may change in what-if (natural units; log and categorical inputs are left out).
WHAT_IF = ("patents", "patent_grade", "rnd_intensity", "tech_staff_share", "cert_venture", "cert_innobiz",
           "cert_mainbiz", "ceo_experience_years", "debt_ratio", "operating_margin", "sales_growth",
           "export_share", "request_to_revenue")


def label(d: Driver, lang: str) -> str:
    return d.ko if lang == "ko" else d.en


def value_text(name: str, value: object, lang: str = "ko") -> str:
    """A driver's value as an evaluator reads it (23.5%, 12건, 있음, 4.3억원 ...)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "없음" if lang == "ko" else "missing"
    d = DRIVER_BY_NAME[name]
    if d.categorical:
        return str(value)
    v = float(value)
    if name.startswith("cert_"):
        return ("있음" if v >= 0.5 else "없음") if lang == "ko" else ("yes" if v >= 0.5 else "no")
    if name in _PCT:
        return f"{v * 100:.1f}%"
    if name == "log_employees":
        return f"{math.expm1(v):,.0f}" + ("명" if lang == "ko" else "")
    if name in ("log_revenue", "log_avg_wage"):
        won = math.expm1(v) if name == "log_revenue" else math.exp(v)
        return f"{won / 1e8:,.1f}억원" if lang == "ko" else f"KRW {won / 1e6:,.0f}M"
    if name == "patent_grade" and v == 0:
        return "특허 없음" if lang == "ko" else "no patents"
    unit = d.unit if lang == "ko" else ""
    return f"{v:,.2f}".rstrip("0").rstrip(".") + unit


def driver_table(model: str, names: list[str], contrib: np.ndarray, frame_row: pd.Series,
                 lang: str = "ko") -> pd.DataFrame:
    """One row per driver: label, block, value, contribution in points (sorted by |points|)."""
    ppl = grades.points_per_log_odds(model)
    rows = []
    for name, c in zip(names, contrib):
        d = DRIVER_BY_NAME[name]
        rows.append({"driver": name, "label": label(d, lang), "block": d.block, "value": frame_row[name],
                     "value_text": value_text(name, frame_row[name], lang), "points": float(c) * ppl})
    df = pd.DataFrame(rows)
    return df.reindex(df["points"].abs().sort_values(ascending=False, kind="stable").index).reset_index(drop=True)


def base_points(model: str, base_log_odds: float) -> float:
    """The score of an applicant whose every contribution is zero (the model's expected value)."""
    return float(grades.points(model, base_log_odds))


def peer_percentiles(sample: pd.DataFrame, frame_row: pd.Series, names: list[str]) -> dict[str, float | None]:
    """Percentile (0..100, share of peers with a lower value) of the applicant's value per driver."""
    same = sample[sample["ksic_section"] == frame_row["ksic_section"]]
    peers = same if len(same) >= MIN_PEERS else sample
    out: dict[str, float | None] = {}
    for name in names:
        v = frame_row[name]
        if DRIVER_BY_NAME[name].categorical or v is None or pd.isna(v) or peers.empty:
            out[name] = None
            continue
        col = pd.to_numeric(peers[name], errors="coerce").dropna().to_numpy()
        out[name] = float(100.0 * (col < float(v)).mean() + 50.0 * (col == float(v)).mean()) if len(col) else None
    return out


def _josa(word: str, pair: tuple[str, str]) -> str:
    """이/가-style particle after a Korean word (by its last syllable's final consonant)."""
    ch = word.rstrip(")")[-1:] or " "
    code = ord(ch) - 0xAC00
    has_final = 0 <= code <= 11171 and code % 28 != 0
    return pair[0] if has_final else pair[1]


def sentence(row: dict, lang: str = "ko") -> str:
    """A plain sentence an evaluator can quote to the applicant."""
    pts = abs(row["points"])
    peer = row.get("percentile")
    if lang == "ko":
        subject = f"{row['label']}({row['value_text']})"
        peer_txt = f" 동종업계 신청기업의 {peer:.0f}%보다 높은 값으로" if peer is not None else ""
        verb = "높였습니다" if row["points"] > 0 else "낮췄습니다"
        sep = "," if peer_txt else ""
        return f"{subject}{_josa(row['label'], ('이', '가'))}{peer_txt}{sep} 점수를 {pts:.0f}점 {verb}."
    peer_txt = f" (higher than {peer:.0f}% of peers in the industry)" if peer is not None else ""
    verb = "raised" if row["points"] > 0 else "lowered"
    return f"{row['label']} of {row['value_text']}{peer_txt} {verb} the score by {pts:.0f} points."


def reason_codes(model: str, table: pd.DataFrame, percentiles: dict[str, float | None], used: set[str],
                 lang: str = "ko", k: int = MAX_REASONS) -> pd.DataFrame:
    """At most k drivers lowering and k raising the score, with code, value, peer percentile, sentence.

    Only drivers the model uses (``used``: non-zero global importance) and that move this score.
    Codes are stable per model and driver: ``KTOP-07-`` = K-TOP driver 7 lowered the score.
    """
    order = {n: i + 1 for i, n in enumerate(DRIVER_BY_NAME)}
    rows = []
    for direction, mask in (("-", table["points"] < -MIN_POINTS), ("+", table["points"] > MIN_POINTS)):
        part = table[mask & table["driver"].isin(used)].head(k)
        for r in part.to_dict("records"):
            r["percentile"] = percentiles.get(r["driver"])
            r["code"] = f"{model.upper()}-{order[r['driver']]:02d}{direction}"
            r["direction"] = direction
            r["sentence"] = sentence(r, lang)
            rows.append(r)
    cols = ["code", "direction", "driver", "label", "value_text", "percentile", "points", "sentence"]
    return pd.DataFrame(rows, columns=cols)


def what_if(sm: ScoringModel, frame_row: pd.DataFrame, changes: dict[str, float]) -> dict[str, float | str]:
    """Score and grade after changing some drivers (each clipped to its valid range)."""
    row = frame_row.copy()
    for name, v in changes.items():
        d = DRIVER_BY_NAME[name]
        row[name] = float(np.clip(v, d.lo, d.hi))
    lo = float(sm.log_odds(row)[0])
    p = 1.0 / (1.0 + math.exp(-lo))
    raw = float(grades.points(sm.model, lo))
    return {"log_odds": lo, "probability": p, "points": raw, "score": float(grades.display_score(raw)),
            "grade": str(grades.grade(sm.model, np.array([p]))[0])}


def what_if_start(frame_row: pd.Series, name: str) -> float:
    """The what-if input's starting value: the applicant's own, inside the valid range (missing: the low end)."""
    d = DRIVER_BY_NAME[name]
    v = frame_row[name]
    return float(d.lo) if v is None or pd.isna(v) else float(np.clip(float(v), d.lo, d.hi))


def importance_table(metrics: dict, lang: str = "ko") -> pd.DataFrame:
    """Global importance (mean |SHAP| in points over all applications), largest first."""
    imp = metrics["importance"]["drivers"]
    df = pd.DataFrame({"driver": list(imp), "points": list(imp.values())})
    df["label"] = [label(DRIVER_BY_NAME[n], lang) for n in df["driver"]]
    df["block"] = [DRIVER_BY_NAME[n].block for n in df["driver"]]
    return df.sort_values("points", ascending=False, kind="stable").reset_index(drop=True)


def used_drivers(metrics: dict) -> set[str]:
    """Drivers with any contribution anywhere (a driver no tree splits on has exactly zero SHAP)."""
    return {n for n, v in metrics["importance"]["drivers"].items() if v > 0}


def compare_table(similar: pd.DataFrame, model: str, names: list[str], lang: str = "ko", k: int = 2) -> pd.DataFrame:
    """Similar applicants with their score and the k drivers that moved each score most."""
    ppl = grades.points_per_log_odds(model)
    tops = []
    for contrib in similar["contrib"]:
        pts = np.asarray(contrib, dtype=float) * ppl
        idx = np.argsort(-np.abs(pts), kind="stable")[:k]
        tops.append(", ".join(f"{label(DRIVER_BY_NAME[names[i]], lang)} {pts[i]:+.0f}" for i in idx))
    out = similar.drop(columns=["contrib"]).copy()
    out["top_factors"] = tops
    return out


def sample_points(sample: pd.DataFrame, model: str) -> np.ndarray:
    """The stored SHAP arrays of a sample as a rows x drivers matrix in points."""
    if sample.empty:
        return np.empty((0, 0))
    return np.vstack([np.asarray(c, dtype=float) for c in sample["contrib"]]) * grades.points_per_log_odds(model)


def fairness_table(fair: dict[str, list[dict]], names: dict[str, dict[str, str]], lang: str = "ko") -> pd.DataFrame:
    """Both fairness breakdowns in one table with display names (groups too small have no rates)."""
    dims = {"region": ("시도", "Region"), "size": ("기업 규모", "Size class")}
    parts = []
    for dim, rows in fair.items():
        df = pd.DataFrame(rows)
        df.insert(0, "dimension", dims.get(dim, (dim, dim))[0 if lang == "ko" else 1])
        df["group"] = df["group"].map(lambda g, d=names.get(dim, {}): d.get(g, g))
        parts.append(df)
    out = pd.concat(parts, ignore_index=True)
    keep = ["dimension", "group", "n", "median", "selection_rate", "predicted_good", "observed_good", "auc"]
    return out[[c for c in keep if c in out.columns]]


INFO_FIELDS = ("application_id", "program_title", "submitted_at", "status", "firm_name", "biz_no", "ceo_name",
               "region", "size_class", "industry", "phone", "email")


def info_fields(info: dict, lang: str = "ko") -> dict[str, str]:
    """The applicant's (already masked) identity fields in display order, in the page's language."""
    out = {}
    for key in INFO_FIELDS:
        value = info.get(key, info.get(f"{key}_{lang}"))
        out[key] = "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)
    return out


def group_points(table: pd.DataFrame, features: tuple[dict, ...], key: str) -> pd.DataFrame:
    """Contributions in points summed by KTRS-like block (``key="block"``) or K-TOP sub-model (``"part"``).

    SHAP values add up, so the groups' points sum to the same total as the drivers'.
    """
    owner = {f["name"]: f[key] for f in features}
    df = table.assign(group=table["driver"].map(owner)).groupby("group", sort=False)["points"].sum()
    return df.reset_index().sort_values("points", key=np.abs, ascending=False, kind="stable").reset_index(drop=True)
