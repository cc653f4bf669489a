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
    assert (grades.grade(model, df["probability"].to_numpy(), v.ladder) == df["grade"].to_numpy()).all()
    assert v.metrics["additivity_max_error"] < 1e-9


def test_version_row_has_artifact_features_params_and_metrics(con) -> None:
    row = con.execute("SELECT model_version, data_hash, octet_length(artifact), json_array_length(features), "
                      "json_extract(metrics, '$.auc')::DOUBLE FROM model_versions WHERE model = 'ktop'").fetchone()
    assert row[0].startswith("ktop-") and len(row[1]) == 64 and row[2] > 1000 and row[3] >= 15 and 0.5 < row[4] <= 1


def test_higher_score_means_better_percentile(con) -> None:
    df = con.execute("SELECT score, percentile FROM scores WHERE model = 'kvalue' ORDER BY score").df()
    assert df["percentile"].is_monotonic_increasing
    assert df["percentile"].min() == 0


def test_out_of_time_rows_never_reach_training_or_calibration(trained_tiny: tuple[Path, dict],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    con = duckdb.connect(str(trained_tiny[0]), read_only=True)
    # independently: the latest 20% of applications by submission time, and their firms
    apps = con.execute("SELECT application_id, firm_id, submitted_at FROM applications "
                       "ORDER BY submitted_at, application_id").df()
    data = train.load_training_data(con)
    con.close()
    cut = apps["submitted_at"].iloc[int(0.8 * len(apps))]
    latest = set(apps.loc[apps["submitted_at"] >= cut, "application_id"])
    latest_firms = set(apps.loc[apps["submitted_at"] >= cut, "firm_id"])
    seen: list[set] = []

    def spy(model, train_rows, y_train, cal_rows, y_cal, **kw):   # type: ignore[no-untyped-def]
        seen.append(set(train_rows["application_id"]) | set(cal_rows["application_id"]))
        return real_fit(model, train_rows, y_train, cal_rows, y_cal, **kw)

    real_fit = train.fit
    monkeypatch.setattr(train, "fit", spy)
    t = train.train_one("kvalue", data, seed=7, threads=1, progress=lambda s: None)
    fitted = seen[0]
    assert fitted and not fitted & latest                                  # no out-of-time row
    fitted_firms = set(apps.set_index("application_id").loc[sorted(fitted), "firm_id"])
    assert not fitted_firms & latest_firms                                 # nor a test firm's earlier rows
    assert t.metrics["n_test"] == len(latest) and abs(len(latest) / len(apps) - 0.2) < 0.01
    assert t.metrics["n_train"] + t.metrics["n_calibration"] == len(fitted)
    assert t.metrics["n_held_back"] == len(apps) - len(latest) - len(fitted)


def test_retraining_keeps_the_previous_version_and_prints_its_psi(trained_tiny: tuple[Path, dict], tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from scoring import store

    path = tmp_path / "again.duckdb"
    shutil.copyfile(trained_tiny[0], path)
    first = trained_tiny[1]["ktop"].version
    assert train.main(["--db", str(path), "--threads", "1", "--seed", "8", "--models", "ktop"]) == 0
    printed = capsys.readouterr().out
    with duckdb.connect(str(path), read_only=True) as c:
        v = store.current_version(c, "ktop")
        assert v is not None and v.version != first
        assert f"PSI against {first}" in printed and v.metrics["drift"]["previous"] == first
        hist = store.versions(c, "ktop")
        assert set(hist["model_version"]) == {first, v.version} and hist["scores_kept"].all()
        n_apps = c.execute("SELECT count(*) FROM applications").fetchone()[0]
        assert c.execute("SELECT count(*) FROM scores WHERE model = 'ktop' AND model_version = ?", [first]).fetchone()[0] == n_apps
        assert c.execute("SELECT count(DISTINCT model_version) FROM shap_values WHERE model = 'ktop'").fetchone()[0] == 1
        cmp = store.compare_versions(c, "ktop", first, v.version)
        assert int(cmp["migration"].to_numpy().sum()) == n_apps and cmp["psi_score"] >= 0
        assert set(cmp["psi_features"]) == set(v.driver_names)
        # K-value was not retrained: its version and scores are untouched
        assert store.current_version(c, "kvalue").version == trained_tiny[1]["kvalue"].version
    # a third training drops the oldest version's scores but keeps its history row
    assert train.main(["--db", str(path), "--threads", "1", "--seed", "9", "--models", "ktop"]) == 0
    with duckdb.connect(str(path), read_only=True) as c:
        hist = store.versions(c, "ktop")
        assert len(hist) == 3 and not hist.set_index("model_version")["scores_kept"].to_dict()[first]


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
