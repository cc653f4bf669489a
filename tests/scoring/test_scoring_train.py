"""The batch job on the tiny synthetic database: every application scored and explained, exactly."""
from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import numpy as np
import pytest

from scoring import grades, train
from scoring.store import current_version


@pytest.fixture(scope="module")
def con(trained_tiny: tuple[Path, dict]):
    c = duckdb.connect(str(trained_tiny[0]), read_only=True)
    yield c
    c.close()


@pytest.mark.parametrize("model", ["ktop", "kvalue"])
def test_every_application_has_a_score_and_shap_row(con, model: str) -> None:
    n_apps = con.execute("SELECT count(*) FROM applications").fetchone()[0]
    assert con.execute("SELECT count(*), count(DISTINCT application_id) FROM scores WHERE model = ?", [model]).fetchone() == (n_apps, n_apps)
    assert con.execute("SELECT count(*) FROM shap_values WHERE model = ?", [model]).fetchone()[0] == n_apps


@pytest.mark.parametrize("model", ["ktop", "kvalue"])
def test_stored_shap_adds_up_to_the_stored_log_odds_and_score(con, model: str) -> None:
    v = current_version(con, model)
    df = con.execute("SELECT s.log_odds, s.probability, s.score, s.grade, v.contrib FROM scores s "
                     "JOIN shap_values v USING (application_id, model, model_version) WHERE s.model = ? "
                     "ORDER BY hash(s.application_id) LIMIT 500", [model]).df()
    contrib = np.vstack(df["contrib"].to_numpy())
    assert contrib.shape[1] == len(v.driver_names)
    np.testing.assert_allclose(v.base + contrib.sum(axis=1), df["log_odds"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(1 / (1 + np.exp(-df["log_odds"])), df["probability"], rtol=1e-12)
    np.testing.assert_allclose(np.clip(grades.points(model, df["log_odds"]), 0, 1000), df["score"], rtol=1e-12)
    assert (grades.grade(model, df["probability"].to_numpy()) == df["grade"].to_numpy()).all()
    assert v.metrics["additivity_max_error"] < 1e-9


def test_version_row_has_artifact_features_params_and_metrics(con) -> None:
    row = con.execute("SELECT model_version, data_hash, octet_length(artifact), json_array_length(features), "
                      "json_extract(metrics, '$.auc')::DOUBLE FROM model_versions WHERE model = 'ktop'").fetchone()
    assert row[0].startswith("ktop-") and len(row[1]) == 64 and row[2] > 1000 and row[3] >= 15 and 0.5 < row[4] <= 1


def test_higher_score_means_better_percentile(con) -> None:
    df = con.execute("SELECT score, percentile FROM scores WHERE model = 'kvalue' ORDER BY score").df()
    assert df["percentile"].is_monotonic_increasing
    assert df["percentile"].min() == 0


def test_split_keeps_each_firm_on_one_side(trained_tiny: tuple[Path, dict]) -> None:
    con = duckdb.connect(str(trained_tiny[0]), read_only=True)
    data = train.load_training_data(con)
    con.close()
    a, b = train.split_bounds(data["firm_id"].to_numpy())
    sides = [set(data["firm_id"].iloc[s]) for s in (slice(0, a), slice(a, b), slice(b, None))]
    assert not (sides[0] & sides[1]) and not (sides[0] & sides[2]) and not (sides[1] & sides[2])
    assert 0.65 < a / len(data) < 0.75 and 0.75 < b / len(data) < 0.85


def test_rerun_with_same_data_and_seed_gives_the_same_model(trained_tiny: tuple[Path, dict], tmp_path: Path) -> None:
    path = tmp_path / "again.duckdb"
    shutil.copyfile(trained_tiny[0], path)
    again = train.run(path, seed=7, threads=1, models=("ktop",), progress=lambda s: None)["ktop"]
    first = trained_tiny[1]["ktop"]
    assert again.version == first.version
    assert again.model.to_bytes() == first.model.to_bytes()
    np.testing.assert_array_equal(again.log_odds, first.log_odds)
    with duckdb.connect(str(path), read_only=True) as c:  # replaced, not duplicated
        assert c.execute("SELECT count(*) FROM model_versions WHERE model_version = ?", [first.version]).fetchone()[0] == 1


def test_cli_help_and_missing_database(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as e:
        train.main(["--help"])
    assert e.value.code == 0 and "--db" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:
        train.main(["--db", str(tmp_path / "none.duckdb")])
    assert e.value.code == 2 and "no database" in capsys.readouterr().err
