"""AI-adoption gap (AI 활용 격차): survey-weighted adoption with intervals, gaps and their split.

Modules: :mod:`.design` (the survey design: strata, weights, variance), :mod:`.estimates` (shares,
gaps, targets, barriers, published comparison, map), :mod:`.decompose` (gap decomposition),
:mod:`.reach` (support reach), :mod:`.plots` (figures).
"""
from analytics.adoption.decompose import decompose
from analytics.adoption.estimates import barriers, gap, published_comparison, targets, tile_map
from analytics.adoption.reach import support_reach

__all__ = ["barriers", "decompose", "gap", "published_comparison", "support_reach", "targets",
           "tile_map"]
