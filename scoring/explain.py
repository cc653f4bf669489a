"""Explanations in units an evaluator understands: score points, reason codes and what-if.

All functions are pure: they take what :mod:`scoring.store` read (stored exact SHAP values) and turn
it into tables. Points come from the linear score scale (:mod:`scoring.grades`), so
``base_points + sum(driver points) == score`` holds exactly (before the 0..1000 display clip).
Words (driver names, units, sentences) come from ``t``, the label catalogue in the page's language
(``scoring.*`` in ui/labels/scoring.toml), which the page passes in.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from scoring import grades
from scoring.features import BLOCK_KEYS, DRIVER_BY_NAME, Driver
from scoring.models import ScoringModel

MAX_REASONS = 4
MIN_PEERS = 30          # peers = sampled applicants of the same industry, or all sampled when fewer
MIN_POINTS = 0.5        # contributions under half a point (shown as "0점") are not worth a reason code
# Display of model-unit values in natural units: shares as %, logs back to counts and won.
_PCT = {"tech_staff_share", "sales_growth", "rnd_intensity", "market_growth", "export_share", "operating_margin"}

Label = Callable[..., str]


def what_if_drivers(names: list[str]) -> list[str]:
    """Drivers offered in what-if and counterfactual advice: actionable, numeric, with a monotone
    direction (so moving one never moves the score the wrong way), in the model's order."""
    return [n for n in names if DRIVER_BY_NAME[n].actionable and DRIVER_BY_NAME[n].good != 0
            and not DRIVER_BY_NAME[n].categorical]


def label(d: Driver, t: Label) -> str:
    """The driver's name (label ``scoring.driver.<name>``)."""
    return t(f"scoring.driver.{d.name}")


def block_name(block: str, t: Label) -> str:
    """A KTRS-like block's name (label ``scoring.block.<key>``); an unknown block shows as it is."""
    return t(f"scoring.block.{BLOCK_KEYS[block]}") if block in BLOCK_KEYS else block


class Won(float):
    """An amount in won that a label formats in its language's unit: ``{won:eok}`` in 억 (one
    decimal), ``{won:m}`` in millions (none), so one placeholder serves both languages."""

    def __format__(self, spec: str) -> str:
        if spec == "eok":
            return f"{self / 1e8:,.1f}"
        if spec == "m":
            return f"{self / 1e6:,.0f}"
        return super().__format__(spec)


def value_text(name: str, value: Any, t: Label) -> str:
    """A driver's value as an evaluator reads it (23.5%, 12건, 있음, 4.3억원 ...)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return t("scoring.value.missing")
    d = DRIVER_BY_NAME[name]
    if d.categorical:
        return str(value)
    v = float(value)
    if name.startswith("cert_"):
        return t("scoring.value.yes" if v >= 0.5 else "scoring.value.no")
    if name in _PCT:
        return f"{v * 100:.1f}%"
    if name == "log_employees":
        return t("scoring.value.employees", v=f"{math.expm1(v):,.0f}")
    if name in ("log_revenue", "log_avg_wage"):
        return t("scoring.value.won", won=Won(math.expm1(v) if name == "log_revenue" else math.exp(v)))
    if name == "patent_grade" and v == 0:
        return t("scoring.value.no_patents")
    text = f"{v:,.2f}".rstrip("0").rstrip(".")
    return t(f"scoring.unit.{d.unit}", v=text) if d.unit else text


def driver_table(model: str, names: list[str], contrib: np.ndarray, frame_row: pd.Series, t: Label) -> pd.DataFrame:
    """One row per driver: label, block, value, contribution in points (sorted by |points|)."""
    ppl = grades.points_per_log_odds(model)
    rows = []
    for name, c in zip(names, contrib):
        d = DRIVER_BY_NAME[name]
        rows.append({"driver": name, "label": label(d, t), "block": block_name(d.block, t), "value": frame_row[name],
                     "value_text": value_text(name, frame_row[name], t), "points": float(c) * ppl})
    df = pd.DataFrame(rows)
    return df.reindex(df["points"].abs().sort_values(ascending=False, kind="stable").index).reset_index(drop=True)


def base_points(model: str, base_log_odds: float) -> float:
    """The score of an applicant whose every contribution is zero (the model's expected value)."""
    return float(grades.points(model, base_log_odds))


def peers_of(sample: pd.DataFrame, frame_row: pd.Series) -> pd.DataFrame:
    """The applicant's peers: sampled applicants of the same industry, or all sampled when too few."""
    same = sample[sample["ksic_section"] == frame_row["ksic_section"]]
    return same if len(same) >= MIN_PEERS else sample


def peer_percentiles(sample: pd.DataFrame, frame_row: pd.Series, names: list[str]) -> dict[str, float | None]:
    """Percentile (0..100, share of peers with a lower value) of the applicant's value per driver."""
    peers = peers_of(sample, frame_row)
    out: dict[str, float | None] = {}
    for name in names:
        v = frame_row[name]
        if DRIVER_BY_NAME[name].categorical or v is None or pd.isna(v) or peers.empty:
            out[name] = None
            continue
        col = pd.to_numeric(peers[name], errors="coerce").dropna().to_numpy()
        out[name] = float(100.0 * (col < float(v)).mean() + 50.0 * (col == float(v)).mean()) if len(col) else None
    return out


def peer_medians(sample: pd.DataFrame, frame_row: pd.Series, names: list[str]) -> dict[str, float | None]:
    """The peers' median per numeric driver (for certifications: the share of peers holding it)."""
    peers = peers_of(sample, frame_row)
    out: dict[str, float | None] = {}
    for name in names:
        col = pd.to_numeric(peers[name], errors="coerce").dropna() if not DRIVER_BY_NAME[name].categorical else None
        out[name] = None if col is None or col.empty else float(col.mean() if name.startswith("cert_") else col.median())
    return out


def _josa(word: str, pair: tuple[str, str]) -> str:
    """이/가-style particle after a Korean word (by its last syllable's final consonant)."""
    ch = word.rstrip(")")[-1:] or " "
    code = ord(ch) - 0xAC00
    has_final = 0 <= code <= 11171 and code % 28 != 0
    return pair[0] if has_final else pair[1]


def sentence(row: dict, t: Label) -> str:
    """A plain sentence an evaluator can quote to the applicant: the driver, the firm's value, how it
    compares with the peers' median, and the points it moved, in the direction it moved them."""
    effect = t("scoring.reason.effect." + ("raised" if row["points"] > 0 else "lowered"), points=f"{abs(row['points']):.0f}")
    median, value = row.get("median"), row.get("value")
    if median is None or value is None or pd.isna(value):
        peer = ""
    elif row["driver"].startswith("cert_"):
        peer = t("scoring.reason.peer.share", share=f"{100 * median:.0f}")
    else:
        v, m = float(value), float(median)
        side = "equal" if math.isclose(v, m, rel_tol=1e-9, abs_tol=1e-12) else "below" if v < m else "above"
        peer = t(f"scoring.reason.peer.{side}", median=row["median_text"])
    return t("scoring.reason.sentence", label=row["label"], value=row["value_text"], peer=peer, effect=effect)


def reason_codes(model: str, table: pd.DataFrame, sample: pd.DataFrame, frame_row: pd.Series, used: set[str],
                 t: Label, k: int = MAX_REASONS) -> pd.DataFrame:
    """Reason codes as adverse-action practice reads them.

    ``role`` is ``principal`` for the (at most k) largest actionable drivers that lowered the score:
    the reasons the applicant can act on; ``context`` for the largest context drivers that lowered it
    (who the firm is: size, age, industry; shown apart, never as a principal reason); ``strength``
    for the largest drivers that raised it. Only drivers the model uses (``used``: non-zero global
    importance) and that move this score. Codes are stable per model and driver (``KTOP-12``); the
    direction is its own column, never part of the code.
    """
    order = {n: i + 1 for i, n in enumerate(DRIVER_BY_NAME)}
    names = table["driver"].tolist()
    pct = peer_percentiles(sample, frame_row, names) if not sample.empty else {}
    med = peer_medians(sample, frame_row, names) if not sample.empty else {}
    live = table[table["driver"].isin(used)]
    actionable = live["driver"].map(lambda n: DRIVER_BY_NAME[n].actionable)
    groups = (("principal", live[(live["points"] < -MIN_POINTS) & actionable]),
              ("context", live[(live["points"] < -MIN_POINTS) & ~actionable]),
              ("strength", live[live["points"] > MIN_POINTS]))
    rows = []
    for role, part in groups:
        for r in part.head(k).to_dict("records"):
            n = r["driver"]
            m = med.get(n)
            r.update({"role": role, "kind": "actionable" if DRIVER_BY_NAME[n].actionable else "context",
                      "direction": "raised" if r["points"] > 0 else "lowered",
                      "code": f"{model.upper()}-{order[n]:02d}", "percentile": pct.get(n), "median": med.get(n),
                      "median_text": "" if m is None else f"{100 * m:.0f}%" if n.startswith("cert_")
                      else value_text(n, m, t)})
            r["sentence"] = sentence(r, t)
            rows.append(r)
    cols = ["code", "role", "kind", "direction", "driver", "label", "value_text", "median_text", "percentile",
            "points", "sentence"]
    return pd.DataFrame(rows, columns=cols)


def apply_changes(frame_row: pd.DataFrame, changes: dict[str, float]) -> pd.DataFrame:
    """The feature row with some drivers changed, each clipped to its valid range."""
    row = frame_row.copy()
    for name, v in changes.items():
        d = DRIVER_BY_NAME[name]
        row[name] = float(np.clip(v, d.lo, d.hi))
    return row


def what_if(sm: ScoringModel, frame_row: pd.DataFrame, changes: dict[str, float],
            ladder: grades.Ladder | None = None) -> dict[str, float | str]:
    """Score and grade after changing one or several drivers at once (each clipped to its range)."""
    row = apply_changes(frame_row, changes)
    lo = float(sm.log_odds(row)[0])
    p = 1.0 / (1.0 + math.exp(-lo))
    raw = float(grades.points(sm.model, lo))
    return {"log_odds": lo, "probability": p, "points": raw, "score": float(grades.display_score(raw)),
            "grade": str(grades.grade(sm.model, np.array([p]), ladder)[0])}


def what_if_table(sm: ScoringModel, frame_row: pd.DataFrame, changes: dict[str, float],
                  t: Label) -> tuple[pd.DataFrame, float]:
    """The driver table (exact SHAP in points) after the changes, for redrawing the waterfall, and
    the unclipped points it adds up to."""
    row = apply_changes(frame_row, changes)
    contrib, base = sm.contributions(row)
    table = driver_table(sm.model, sm.driver_names, contrib[0], row.iloc[0], t)
    return table, float(grades.points(sm.model, base + contrib[0].sum()))


def what_if_start(frame_row: pd.Series, name: str) -> float:
    """The what-if input's starting value: the applicant's own, inside the valid range (missing: the low end)."""
    d = DRIVER_BY_NAME[name]
    v = frame_row[name]
    return float(d.lo) if v is None or pd.isna(v) else float(np.clip(float(v), d.lo, d.hi))


def importance_table(metrics: dict, t: Label) -> pd.DataFrame:
    """Global importance (mean |SHAP| in points over all applications), largest first."""
    imp = metrics["importance"]["drivers"]
    df = pd.DataFrame({"driver": list(imp), "points": list(imp.values())})
    df["label"] = [label(DRIVER_BY_NAME[n], t) for n in df["driver"]]
    df["block"] = [block_name(DRIVER_BY_NAME[n].block, t) for n in df["driver"]]
    return df.sort_values("points", ascending=False, kind="stable").reset_index(drop=True)


def used_drivers(metrics: dict) -> set[str]:
    """Drivers with any contribution anywhere (a driver no tree splits on has exactly zero SHAP)."""
    return {n for n, v in metrics["importance"]["drivers"].items() if v > 0}


def compare_table(similar: pd.DataFrame, model: str, names: list[str], t: Label, k: int = 2) -> pd.DataFrame:
    """Similar applicants with their score and the k drivers that moved each score most."""
    ppl = grades.points_per_log_odds(model)
    tops = []
    for contrib in similar["contrib"]:
        pts = np.asarray(contrib, dtype=float) * ppl
        idx = np.argsort(-np.abs(pts), kind="stable")[:k]
        tops.append(", ".join(f"{label(DRIVER_BY_NAME[names[i]], t)} {pts[i]:+.0f}" for i in idx))
    out = similar.drop(columns=["contrib"]).copy()
    out["top_factors"] = tops
    return out


def sample_points(sample: pd.DataFrame, model: str) -> np.ndarray:
    """The stored SHAP arrays of a sample as a rows x drivers matrix in points."""
    if sample.empty:
        return np.empty((0, 0))
    return np.vstack([np.asarray(c, dtype=float) for c in sample["contrib"]]) * grades.points_per_log_odds(model)


def fairness_table(fair: dict[str, list[dict]], names: dict[str, dict[str, str]], t: Label) -> pd.DataFrame:
    """Both fairness breakdowns (``region``, ``size``: labels ``scoring.dim.*``) in one table with
    display names (groups too small have no rates)."""
    parts = []
    for dim, rows in fair.items():
        df = pd.DataFrame(rows)
        df.insert(0, "dimension", t(f"scoring.dim.{dim}"))
        lookup = names.get(dim, {})
        df["group"] = [lookup.get(g, g) for g in df["group"]]
        parts.append(df)
    out = pd.concat(parts, ignore_index=True)
    keep = ["dimension", "group", "n", "median", "selection_rate", "tpr", "tpr_truth", "fnr", "fnr_truth",
            "predicted_good", "observed_good", "auc"]
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
