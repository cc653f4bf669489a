"""Program matching: the baselines a learned ranker has to beat, as scores over the feature frame
of :func:`analytics.matching.rank.features` (so that every method ranks exactly the same candidates).

* ``popular``: applications per open day before the cut (log of a 30-day rate); a program that was
  not open before the cut takes its agency x category's rate, so that a new program is not ranked
  as if nobody wanted it.
* ``segment``: the same, times the program's affinity to the firm's size x industry x region
  segment: the product of its smoothed lifts among firms of the same size, of the same industry and
  of the same region (how much more than everyone such firms applied to it; ``lift_*`` of
  :func:`analytics.matching.rank.stats`), i.e. the naive-Bayes estimate for the cell. The joint cell
  itself (5 x 21 x 17 cells) is too sparse: with any smoothing tried (5 to 500 pseudo-applications)
  it ranked worse than the product at scale 0.3 (NDCG@10 0.155-0.167 against 0.184).
* ``newest``: latest opening date first (상시 programs last): what a portal's default list shows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

BASELINES: tuple[str, ...] = ("popular", "segment", "newest")


def popular(feats: pd.DataFrame) -> np.ndarray:
    """log(1 + applications per 30 open days), the agency x category's rate for a new program."""
    return feats["pop_rate"].fillna(feats["pop_backoff"]).to_numpy(float)


def segment(feats: pd.DataFrame) -> np.ndarray:
    """:func:`popular` plus the log-lifts of the firm's size, industry and region (rate x lifts)."""
    return popular(feats) + feats[["lift_size", "lift_ind", "lift_region"]].sum(axis=1).to_numpy(float)


def newest(feats: pd.DataFrame) -> np.ndarray:
    """Opening date (days since the epoch); NaN, ranked last, for 상시 programs."""
    opened = (pd.to_datetime(feats["opens_on"]) - pd.Timestamp(0)).dt.days.to_numpy(float)
    return np.where(feats["always_open"].astype(bool), np.nan, opened)


SCORERS = {"popular": popular, "segment": segment, "newest": newest}
