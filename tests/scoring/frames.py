"""A synthetic feature frame built in code (no database), for the model-layer tests."""
from __future__ import annotations

import numpy as np
import pandas as pd

from scoring.features import KSIC_SECTIONS, SIZE_CLASSES


def synthetic_frame(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """A feature frame like scoring.features.load_frame with known logistic outcomes.

    Returns (frame, defaulted, succeeded). Debt raises default, patents and R&D lower it.
    """
    rng = np.random.default_rng(seed)
    f = pd.DataFrame({
        "application_id": np.arange(1, n + 1), "firm_id": rng.integers(1, n // 2, n),
        "program_id": rng.choice(["P1", "P2", "P3"], n),
        "submitted_at": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 700, n), "D"),
        "region_code": rng.choice(["11", "26", "41"], n), "size_class": rng.choice(SIZE_CLASSES, n),
        "ksic_section": rng.choice(KSIC_SECTIONS[:6], n),
        "ceo_experience_years": rng.integers(0, 40, n).astype(float), "firm_age_years": rng.uniform(0, 30, n),
        "tech_staff_share": rng.uniform(0, 0.5, n), "cert_venture": (rng.random(n) < 0.2).astype(float),
        "cert_innobiz": (rng.random(n) < 0.1).astype(float), "cert_mainbiz": (rng.random(n) < 0.1).astype(float),
        "sales_growth": rng.normal(0.05, 0.15, n), "log_employees": rng.uniform(0, 6, n),
        "patents": rng.poisson(1.5, n).astype(float), "rnd_intensity": np.clip(rng.normal(0.03, 0.03, n), 0, 0.6),
        "market_growth": rng.normal(0.02, 0.02, n), "export_share": np.clip(rng.normal(0.05, 0.1, n), 0, 1),
        "operating_margin": rng.normal(0.04, 0.06, n), "debt_ratio": rng.lognormal(0.2, 0.6, n),
        "log_revenue": rng.normal(20, 1.5, n), "request_to_revenue": rng.uniform(0, 2, n),
        "log_avg_wage": rng.normal(17.3, 0.2, n),
    })
    f["patent_grade"] = np.where(f["patents"] > 0, rng.uniform(1, 9, n), 0.0)
    f.loc[rng.random(n) < 0.05, "rnd_intensity"] = np.nan   # missing values must work too
    eta = (-3.2 + 0.8 * np.log(f["debt_ratio"]) - 0.4 * np.log1p(f["patents"]) - 8 * f["rnd_intensity"].fillna(0)
           - 5 * f["operating_margin"] - 0.4 * f["cert_innobiz"] + 0.5 * (f["size_class"] == "micro"))
    defaulted = rng.random(n) < 1 / (1 + np.exp(-eta))
    eta_s = -0.8 + 0.5 * np.log1p(f["patents"]) + 3 * f["sales_growth"] - 0.3 * np.log(f["debt_ratio"])
    succeeded = rng.random(n) < 1 / (1 + np.exp(-eta_s))
    return f, defaulted.to_numpy(), succeeded.to_numpy()
