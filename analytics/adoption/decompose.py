"""Split a gap in AI adoption between two groups into composition and within-group parts.

Shift-share with symmetric (Das Gupta / Shapley) weights. With s the share of a group's firms in a
cell (industry, or industry x size) and p the adoption rate in that cell:

    gap         = sum_c s_a,c * p_a,c - sum_c s_b,c * p_b,c
    composition = sum_c (s_a,c - s_b,c) * (p_a,c + p_b,c) / 2   # the groups differ in their mix
    within      = sum_c (p_a,c - p_b,c) * (s_a,c + s_b,c) / 2   # firms of the same kind differ

The two parts add up to the gap exactly (expand the products). A cell observed in only one group
has no rate to compare in the other; it borrows the observed group's rate there, so it counts
entirely as composition. If both groups had the same rate in every cell, ``within`` is zero and the
whole gap comes from the mix.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Decomposition:
    gap: float
    composition: float
    within: float
    cells: pd.DataFrame  # cell, share_a, share_b, p_a, p_b, composition, within (one row per cell)


def decompose(cells: pd.DataFrame) -> Decomposition:
    """``cells``: one row per (group, cell) with columns group ('a' or 'b'), cell, weight (estimated
    firms) and p (the rate in that cell). Returns the gap a - b and its two parts."""
    wide = cells.pivot_table(index="cell", columns="group", values=["weight", "p"], aggfunc="first")
    weight = wide["weight"].reindex(columns=["a", "b"]).fillna(0.0)
    share = weight / weight.sum()
    p = wide["p"].reindex(columns=["a", "b"])
    p_a = p["a"].fillna(p["b"])
    p_b = p["b"].fillna(p["a"])
    out = pd.DataFrame({
        "cell": share.index, "share_a": share["a"].to_numpy(), "share_b": share["b"].to_numpy(),
        "p_a": p["a"].to_numpy(), "p_b": p["b"].to_numpy(),
    })
    out["composition"] = ((share["a"] - share["b"]) * (p_a + p_b) / 2).to_numpy()
    out["within"] = ((p_a - p_b) * (share["a"] + share["b"]) / 2).to_numpy()
    gap = float(np.nansum(share["a"] * p_a) - np.nansum(share["b"] * p_b))
    return Decomposition(gap=gap, composition=float(out["composition"].sum()),
                         within=float(out["within"].sum()), cells=out.reset_index(drop=True))
