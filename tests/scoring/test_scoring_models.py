"""The model layer: exact additive SHAP, grouping, monotone constraints, determinism."""
from __future__ import annotations

import numpy as np
import pytest
import shap

from scoring import models
from scoring.features import DRIVER_BY_NAME, columns_of, drivers_for, encode, group
from tests.scoring.frames import synthetic_frame


@pytest.fixture(scope="module")
def fitted() -> dict:
    frame, defaulted, succeeded = synthetic_frame(6000, seed=3)
    a, b = 4200, 4800
    out = {"frame": frame}
    for model, y in (("ktop", defaulted), ("kvalue", succeeded)):
        out[model] = models.fit(model, frame.iloc[:a], y[:a], frame.iloc[a:b], y[a:b], seed=11, rounds=30)
    return out


@pytest.mark.parametrize("model", ["ktop", "kvalue"])
def test_shap_plus_base_equals_calibrated_log_odds(fitted: dict, model: str) -> None:
    sm, frame = fitted[model], fitted["frame"]
    rows = frame.sample(300, random_state=1)
    contrib, base = sm.contributions(rows)
    assert contrib.shape == (300, len(sm.driver_names))
    np.testing.assert_allclose(base + contrib.sum(axis=1), sm.log_odds(rows), rtol=0, atol=1e-9)


@pytest.mark.filterwarnings("ignore:LightGBM binary classifier")
def test_lightgbm_treeshap_matches_shap_library(fitted: dict) -> None:
    """Independent check: shap's own TreeExplainer (path-dependent) gives the same per-column values."""
    part = fitted["ktop"].parts[1]
    X = encode(fitted["frame"].iloc[:200], part.drivers)
    ours = part.booster.predict(X, pred_contrib=True)[:, :-1]
    theirs = shap.TreeExplainer(part.booster, feature_perturbation="tree_path_dependent").shap_values(X)
    theirs = np.asarray(theirs)
    assert theirs.shape == ours.shape
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_one_hot_contributions_are_summed_into_their_driver() -> None:
    drivers = [DRIVER_BY_NAME["size_class"], DRIVER_BY_NAME["debt_ratio"]]
    cols, owner = columns_of(drivers)
    assert cols[:5] == [f"size_class={s}" for s in ("micro", "small", "medium", "midsize", "large")]
    contrib = np.arange(12, dtype=float).reshape(2, 6)
    np.testing.assert_array_equal(group(contrib, owner, 2), [[0 + 1 + 2 + 3 + 4, 5], [6 + 7 + 8 + 9 + 10, 11]])


def _grid_check(sm: models.ScoringModel, frame, name: str, direction: int) -> None:
    d = DRIVER_BY_NAME[name]
    rows = frame.sample(40, random_state=2)
    grid = np.linspace(d.lo, min(d.hi, 50.0), 25)
    curves = []
    for v in grid:
        r = rows.copy()
        r[name] = v
        curves.append(sm.log_odds(r))
    diffs = np.diff(np.vstack(curves), axis=0) * direction
    assert (diffs >= -1e-12).all(), name


@pytest.mark.parametrize("model", ["ktop", "kvalue"])
def test_monotone_constraints_hold_on_a_grid(fitted: dict, model: str) -> None:
    sm = fitted[model]
    # K-TOP models default: a driver that is good when high may never raise it
    sign = -1 if model == "ktop" else 1
    for d in drivers_for(model):
        if d.good and not d.categorical:
            _grid_check(sm, fitted["frame"], d.name, sign * d.good)


def test_calibration_slopes_are_non_negative(fitted: dict) -> None:
    for model in ("ktop", "kvalue"):
        assert all(b >= 0 for b in fitted[model].betas)


def test_same_seed_gives_the_same_model_and_bytes_round_trip(fitted: dict) -> None:
    frame, defaulted, _ = synthetic_frame(6000, seed=3)
    again = models.fit("ktop", frame.iloc[:4200], defaulted[:4200], frame.iloc[4200:4800], defaulted[4200:4800],
                       seed=11, rounds=30)
    first = fitted["ktop"]
    assert again.to_bytes() == first.to_bytes()
    loaded = models.ScoringModel.from_bytes(first.to_bytes())
    np.testing.assert_array_equal(loaded.log_odds(frame), first.log_odds(frame))
    other = models.fit("ktop", frame.iloc[:4200], defaulted[:4200], frame.iloc[4200:4800], defaulted[4200:4800],
                       seed=12, rounds=30)
    assert other.params["seed"] != first.params["seed"]


def test_firm_weights_count_each_firm_once() -> None:
    w = models.firm_weights(np.array([5, 5, 7, 5, 9]))
    np.testing.assert_allclose(w, [1 / 3, 1 / 3, 1, 1 / 3, 1])
