"""Reading scoring results back for the evaluator: versions, applicants, SHAP samples, peers.

Every function that returns application-level rows checks the caller's role first
(``data.privacy.require``) and masks personal data (사업자등록번호, 대표자, contact details) for
roles that may not see it. All SQL uses bound parameters.
"""
from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from data import access, privacy
from scoring import drift, grades
from scoring.features import load_frame
from scoring.models import ScoringModel


@dataclass(frozen=True)
class Version:
    """The current version of one model (artifact not included)."""
    model: str
    version: str
    created_at: str
    features: tuple[dict, ...]
    metrics: dict
    params: dict
    data_hash: str

    @property
    def driver_names(self) -> list[str]:
        return [f["name"] for f in self.features]

    @property
    def base(self) -> float:
        return float(self.metrics["base_log_odds"])

    @property
    def ladder(self) -> grades.Ladder:
        doc = self.metrics.get("ladder")
        return grades.Ladder.from_dict(doc) if doc else grades.full_ladder(self.model)


def current_version(con: duckdb.DuckDBPyConnection, model: str) -> Version | None:
    """The version of ``model`` that has SHAP values (only the latest keeps them), or None before
    the first training run. The previous version may still have scores, for comparison."""
    row = con.execute(
        "SELECT model::VARCHAR, model_version, created_at::VARCHAR, features, metrics, params, data_hash "
        "FROM model_versions WHERE model = ? AND model_version IN (SELECT DISTINCT model_version FROM shap_values WHERE model = ?) "
        "ORDER BY created_at DESC LIMIT 1", [model, model]).fetchone()
    if row is None:
        return None
    return Version(row[0], row[1], row[2], tuple(json.loads(row[3])), json.loads(row[4]), json.loads(row[5]), row[6])


# Parsed models by artifact hash: the page asks on every rerun, LightGBM parses the text only once.
_MODELS: dict[str, ScoringModel] = {}
_MODELS_LOCK = threading.Lock()


def load_model(con: duckdb.DuckDBPyConnection, model: str, version: str) -> ScoringModel:
    """The trained model of a version, parsed once per process (what-if needs it in memory)."""
    row = con.execute("SELECT artifact FROM model_versions WHERE model = ? AND model_version = ?",
                      [model, version]).fetchone()
    if row is None:
        raise LookupError(f"no model version {model}/{version}")
    blob = bytes(row[0])
    key = hashlib.sha256(blob).hexdigest()
    with _MODELS_LOCK:
        if key not in _MODELS:
            _MODELS[key] = ScoringModel.from_bytes(blob)
        return _MODELS[key]


def find_applicants(con: duckdb.DuckDBPyConnection, text: str, *, role: str, limit: int = 20) -> pd.DataFrame:
    """Applications matching an application id, a 사업자등록번호 or its visible (masked) prefix.

    ``123-45-*****`` (as shown to evaluators) matches every firm whose number starts with 12345.
    """
    access.require(role, "scoring")
    raw = text.strip()
    digits = re.sub(r"\D", "", raw.split("*")[0])
    if not digits:
        return pd.DataFrame(columns=["application_id", "biz_no", "firm_name", "program_title", "submitted_at"])
    arg: str | int
    if "*" in raw or "-" in raw or len(digits) == 10:
        cond, arg = "starts_with(f.biz_no, ?)", digits
    else:
        cond, arg = "a.application_id = ?", int(digits)
    df = con.execute(
        f"SELECT a.application_id, f.biz_no, f.name AS firm_name, p.title AS program_title, a.submitted_at "
        f"FROM applications a JOIN firms f USING (firm_id) JOIN programs p USING (program_id) "
        f"WHERE {cond} ORDER BY a.application_id LIMIT ?", [arg, limit]).df()
    return _masked(df, role)


def _masked(df: pd.DataFrame, role: str) -> pd.DataFrame:
    kinds = {c: k for c, k in (("biz_no", "biz_no"), ("ceo_name", "name"), ("phone", "phone"), ("email", "email"))
             if c in df.columns}
    return df if privacy.sees_personal(role) else privacy.mask_frame(df, kinds)


@dataclass(frozen=True)
class Applicant:
    """One application as the evaluator sees it under one model version."""
    info: dict            # masked identity, program, region, size, industry, contact
    frame: pd.DataFrame   # its feature row (scoring.features.load_frame)
    probability: float
    log_odds: float
    score: float
    grade: str
    percentile: float
    contrib: np.ndarray   # per driver, calibrated log-odds, in version.features order


def applicant(con: duckdb.DuckDBPyConnection, application_id: int, model: str, version: str, *,
              role: str) -> Applicant | None:
    access.require(role, "scoring")
    sc = con.execute(
        "SELECT s.probability, s.log_odds, s.score, s.grade, s.percentile, v.contrib FROM scores s "
        "JOIN shap_values v USING (application_id, model, model_version) "
        "WHERE s.application_id = ? AND s.model = ? AND s.model_version = ?", [application_id, model, version]).fetchone()
    if sc is None:
        return None
    info = con.execute(
        "SELECT a.application_id, a.program_id, p.title AS program_title, a.submitted_at::VARCHAR AS submitted_at, "
        "a.status::VARCHAR AS status, f.name AS firm_name, f.biz_no, f.ceo_name, r.name_ko AS region_ko, "
        "r.name_en AS region_en, z.name_ko AS size_class_ko, z.name_en AS size_class_en, i.name_ko AS industry_ko, "
        "i.name_en AS industry_en, "
        "(SELECT min(value) FROM app_fingerprints WHERE application_id = a.application_id AND kind = 'phone') AS phone, "
        "(SELECT min(value) FROM app_fingerprints WHERE application_id = a.application_id AND kind = 'email') AS email "
        "FROM applications a JOIN firms f USING (firm_id) JOIN programs p USING (program_id) "
        "JOIN regions r USING (region_code) JOIN industries i USING (ksic_section) JOIN size_classes z USING (size_class) "
        "WHERE a.application_id = ?",
        [application_id]).df()
    return Applicant(_masked(info, role).iloc[0].to_dict(), load_frame(con, [application_id]),
                     float(sc[0]), float(sc[1]), float(sc[2]), str(sc[3]), float(sc[4]), np.asarray(sc[5], dtype=float))


def shap_sample(con: duckdb.DuckDBPyConnection, model: str, version: str, n: int = 2000,
                *, role: str) -> pd.DataFrame:
    """A fixed pseudo-random sample of stored SHAP rows with their feature values (not recomputed).

    Columns: application_id, ksic_section, score, ``contrib`` (array per row) and every feature.
    The sample is the n applications with the smallest hash of their id: the same on every run.
    """
    access.require(role, "scoring")
    df = con.execute(
        "SELECT v.application_id, s.score, v.contrib FROM shap_values v JOIN scores s USING (application_id, model, model_version) "
        "WHERE v.model = ? AND v.model_version = ? ORDER BY hash(v.application_id), v.application_id LIMIT ?",
        [model, version, n]).df()
    if df.empty:
        return df
    feats = load_frame(con, df["application_id"].tolist())
    return df.merge(feats, on="application_id", how="left")


def similar(con: duckdb.DuckDBPyConnection, application_id: int, model: str, version: str, k: int = 5,
            *, role: str) -> pd.DataFrame:
    """The k applications to the same program with the closest scores, with their SHAP rows."""
    access.require(role, "scoring")
    df = con.execute(
        "WITH me AS (SELECT a.program_id, s.score FROM applications a JOIN scores s USING (application_id) "
        "            WHERE a.application_id = ? AND s.model = ? AND s.model_version = ?) "
        "SELECT a.application_id, f.name AS firm_name, f.biz_no, s.score, s.grade, s.percentile, v.contrib "
        "FROM applications a JOIN me USING (program_id) JOIN firms f USING (firm_id) "
        "JOIN scores s ON s.application_id = a.application_id AND s.model = ? AND s.model_version = ? "
        "JOIN shap_values v ON v.application_id = a.application_id AND v.model = s.model AND v.model_version = s.model_version "
        "WHERE a.application_id <> ? ORDER BY abs(s.score - me.score), a.application_id LIMIT ?",
        [application_id, model, version, model, version, application_id, k]).df()
    return _masked(df, role)


# the data's name column per language: a fixed map, so no other text reaches the SQL
_NAME_COLUMN = {"ko": "name_ko", "en": "name_en"}


def group_names(con: duckdb.DuckDBPyConnection, lang: str) -> dict[str, dict[str, str]]:
    """Display names of the fairness groups: region codes and size classes."""
    col = _NAME_COLUMN[lang]
    return {"region": dict(con.execute(f"SELECT region_code, {col} FROM regions").fetchall()),
            "size": dict(con.execute(f"SELECT size_class::VARCHAR, {col} FROM size_classes").fetchall())}


def versions(con: duckdb.DuckDBPyConnection, model: str) -> pd.DataFrame:
    """The version history of a model, newest first, with its headline out-of-time figures and
    whether its scores are still kept."""
    return con.execute(
        "SELECT model_version, created_at, "
        "json_extract(metrics, '$.auc')::DOUBLE AS auc, json_extract(metrics, '$.oracle_auc')::DOUBLE AS oracle_auc, "
        "json_extract(metrics, '$.brier')::DOUBLE AS brier, json_extract(metrics, '$.n_test')::BIGINT AS n_test, "
        "model_version IN (SELECT DISTINCT model_version FROM scores WHERE model = ?) AS scores_kept "
        "FROM model_versions WHERE model = ? ORDER BY created_at DESC, model_version", [model, model]).df()


_COMPARED = ("auc", "oracle_auc", "auc_gap", "auc_unseen", "brier", "oracle_brier", "ece", "n_test", "n_train",
             "split")


def compare_versions(con: duckdb.DuckDBPyConnection, model: str, a: str, b: str) -> dict[str, object]:
    """Two versions side by side: headline metrics, grade ladders, PSI of their score distributions
    (both stored on the same fixed bins) and, when both still have scores, the grade migration of
    the same applications (rows: ``a``'s grade, columns: ``b``'s)."""
    docs = dict(con.execute("SELECT model_version, metrics FROM model_versions WHERE model = ? AND model_version IN (?, ?)",
                            [model, a, b]).fetchall())
    if a not in docs or b not in docs:
        raise LookupError(f"unknown version of {model}: {a if a not in docs else b}")
    ma, mb = json.loads(docs[a]), json.loads(docs[b])

    def shown(m: dict) -> list[str]:   # one text column per version: the rows mix figures, counts and words
        vals = [m.get(k) for k in _COMPARED] + ["/".join(m.get("ladder", {}).get("labels", grades.GRADES))]
        return [f"{v:.4f}" if isinstance(v, float) else "" if v is None else str(v) for v in vals]
    table = pd.DataFrame({"metric": list(_COMPARED) + ["grades"], a: shown(ma), b: shown(mb)})
    pa_, pb_ = ma.get("profile"), mb.get("profile")
    psi_score = drift.psi(pa_["score_shares"], pb_["score_shares"]) if pa_ and pb_ else None
    psi_features = None
    for newer, older in ((mb, a), (ma, b)):
        d = newer.get("drift")
        if d and d.get("previous") == older:
            psi_features = d["psi_features"]
    mig = con.execute(
        "SELECT x.grade AS grade_a, y.grade AS grade_b, count(*) AS n FROM scores x JOIN scores y USING (application_id, model) "
        "WHERE x.model = ? AND x.model_version = ? AND y.model_version = ? GROUP BY ALL", [model, a, b]).df()
    matrix = None
    if len(mig):
        matrix = mig.pivot(index="grade_a", columns="grade_b", values="n").fillna(0).astype(int)
        matrix = matrix.reindex(index=sorted(matrix.index, key=grades.rank), columns=sorted(matrix.columns, key=grades.rank))
    return {"table": table, "psi_score": psi_score, "psi_features": psi_features, "migration": matrix}
