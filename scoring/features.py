"""Model inputs: which firm and application attributes the scoring models see, and how they are encoded.

One :class:`Driver` per thing an evaluator can talk about ("특허 수", "업종"). Numeric drivers are one
column each; categorical drivers are one-hot encoded here (not by LightGBM's native categorical
splits, whose SHAP values cannot be mapped back to a category) and their columns' contributions are
summed back into the driver. Each driver carries the direction that is known to be good, which
becomes a monotone constraint, its KTRS-like block, its valid range for what-if, and, for K-TOP,
the sub-model it belongs to. The region (시도) is deliberately not an input: the model card reports
fairness by region instead.

Each driver is also marked **actionable** or **context**, as adverse-action practice asks: an
actionable driver is one the applicant can change (patents, certifications, debt, the amount asked
for); a context driver describes who the firm is (size, age, industry, revenue, past growth). Only
actionable drivers with a monotone direction are principal reasons for a low score, offered in
what-if, and used by counterfactual advice; context drivers are shown apart, as context.

**As of the application date.** Firm age is computed at submission, and so are the firm's history
columns (applications and awards before that date). Every other firm attribute is one snapshot per
firm (the ``firms`` table holds a single row per firm): ``Driver.as_of`` says which. On the
synthetic data the truth uses the same snapshot, so this is no look-ahead; on imported real data a
snapshot taken after an application is, and the schema says so.
"""
from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

# KTRS-like evaluation blocks (SHAP values add up within a block). The Korean names are the codes
# trained versions store; each is shown by its label scoring.block.<key>.
BLOCKS = ("경영주 역량", "기술성", "시장성", "사업성")
BLOCK_KEYS = dict(zip(BLOCKS, ("management", "technology", "market", "business")))
# K-TOP's three sub-models (innovation-growth capacity, technology commercial viability, originality).
KTOP_PARTS = ("innovation", "viability", "originality")

SIZE_CLASSES = ("micro", "small", "medium", "midsize", "large")
KSIC_SECTIONS = tuple("ABCDEFGHIJKLMNOPQRSTU")


@dataclass(frozen=True)
class Driver:
    name: str                 # column in the feature frame; its name is the label scoring.driver.<name>
    block: str                # one of BLOCKS
    good: int                 # +1: higher is better, -1: higher is worse, 0: no known direction
    lo: float                 # valid range for what-if
    hi: float
    unit: str = ""            # the unit shown with the value: label scoring.unit.<unit> ("" for none)
    ktop_part: str | None = None   # K-TOP sub-model, None: not a K-TOP input
    kvalue: bool = True       # a K-value input
    categories: tuple[str, ...] = ()   # non-empty: categorical, one-hot encoded
    actionable: bool = False  # the applicant can change it (otherwise: context)
    as_of: str = "snapshot"   # "application": computed at the submission date; "snapshot": one row per firm

    @property
    def categorical(self) -> bool:
        return bool(self.categories)


DRIVERS: tuple[Driver, ...] = (
    Driver("ceo_experience_years", "경영주 역량", +1, 0, 50, "years", "innovation"),
    Driver("firm_age_years", "경영주 역량", 0, 0, 60, "years", "innovation", as_of="application"),
    Driver("tech_staff_share", "기술성", +1, 0, 1, "", "innovation", actionable=True),
    Driver("cert_venture", "기술성", +1, 0, 1, "", "innovation", actionable=True),
    Driver("cert_innobiz", "기술성", +1, 0, 1, "", "innovation", actionable=True),
    Driver("cert_mainbiz", "사업성", +1, 0, 1, "", "innovation", actionable=True),
    # past growth: the truth rewards it in both targets, so it is monotone, but it cannot be changed now
    Driver("sales_growth", "시장성", +1, -1, 3, "", "innovation"),
    Driver("log_employees", "사업성", 0, 0, 10, "", "innovation"),
    Driver("size_class", "사업성", 0, 0, 0, "", "innovation", categories=SIZE_CLASSES),
    Driver("patents", "기술성", +1, 0, 500, "count", "originality", actionable=True),
    Driver("patent_grade", "기술성", +1, 0, 9, "", "originality", actionable=True),
    Driver("rnd_intensity", "기술성", +1, 0, 0.6, "", "originality", actionable=True),
    Driver("market_growth", "시장성", 0, -0.2, 0.3, "", "viability"),
    Driver("export_share", "시장성", +1, 0, 1, "", "viability", actionable=True),
    Driver("ksic_section", "시장성", 0, 0, 0, "", "viability", categories=KSIC_SECTIONS),
    Driver("operating_margin", "사업성", +1, -1, 1, "", "viability", actionable=True),
    Driver("debt_ratio", "사업성", -1, 0, 20, "times", "viability", actionable=True),
    Driver("log_revenue", "사업성", 0, 0, 30, "", "viability"),
    # the amount asked for is the applicant's choice; a larger burden never lowers the risk
    Driver("request_to_revenue", "사업성", -1, 0, 10, "", "viability", actionable=True, as_of="application"),
    Driver("log_avg_wage", "사업성", +1, 14, 20, "", "viability"),
)
DRIVER_BY_NAME = {d.name: d for d in DRIVERS}

# One row per application: the firm's attributes as of the application. patent_grade turns the KPAS
# grade (1 best .. 9 worst, NULL without patents) into "higher is better" with 0 for no patents, so
# that one monotone constraint covers both "more patents" and "better patents". The history columns
# (prior_applications, prior_awards) count only what happened before the submission: they are shown
# to the evaluator as context, not model inputs (the synthetic truth does not depend on them).
_FRAME_SQL = """
WITH target AS (SELECT * FROM applications {where}),
history AS (
    SELECT t.application_id,
           count(h.application_id) FILTER (WHERE h.submitted_at < t.submitted_at) AS prior_applications,
           count(h.application_id) FILTER (WHERE h.status = 'selected' AND h.decided_at < t.submitted_at) AS prior_awards
    FROM target t LEFT JOIN applications h ON h.firm_id = t.firm_id AND h.application_id <> t.application_id
    GROUP BY t.application_id)
SELECT a.application_id, a.firm_id, a.program_id, a.submitted_at,
       f.region_code, f.size_class::VARCHAR AS size_class, f.ksic_section,
       f.ceo_experience_years::DOUBLE AS ceo_experience_years,
       greatest(date_diff('day', f.founded_on, a.submitted_at::DATE), 0) / 365.25 AS firm_age_years,
       CASE WHEN f.tech_staff IS NULL THEN NULL
            ELSE least(f.tech_staff / greatest(f.employees, 1), 1.0) END AS tech_staff_share,
       f.cert_venture::DOUBLE AS cert_venture, f.cert_innobiz::DOUBLE AS cert_innobiz,
       f.cert_mainbiz::DOUBLE AS cert_mainbiz,
       f.sales_growth, ln(1 + f.employees) AS log_employees,
       f.patents::DOUBLE AS patents,
       CASE WHEN f.patents = 0 OR f.patent_quality IS NULL THEN 0.0 ELSE 10 - f.patent_quality END AS patent_grade,
       f.rnd_intensity, f.market_growth,
       CASE WHEN f.revenue_krw > 0 THEN least(f.exports_krw / f.revenue_krw, 1.0) ELSE 0.0 END AS export_share,
       f.operating_margin, f.debt_ratio, ln(1 + f.revenue_krw) AS log_revenue,
       CASE WHEN a.amount_requested_krw IS NULL THEN NULL
            ELSE least(a.amount_requested_krw / greatest(f.revenue_krw, 1), 10.0) END AS request_to_revenue,
       ln(f.avg_wage_krw) AS log_avg_wage,
       h.prior_applications, h.prior_awards
FROM target a JOIN firms f USING (firm_id) JOIN history h USING (application_id)
ORDER BY a.application_id
"""
HISTORY = ("prior_applications", "prior_awards")   # as-of context columns of the frame (not model inputs)


def load_frame(con: duckdb.DuckDBPyConnection, application_ids: list[int] | None = None) -> pd.DataFrame:
    """The feature frame for all applications, or for the given ones (bound parameter)."""
    if application_ids is None:
        return con.execute(_FRAME_SQL.format(where="")).df()
    return con.execute(_FRAME_SQL.format(where="WHERE application_id IN (SELECT unnest(?))"),
                       [list(map(int, application_ids))]).df()


def drivers_for(model: str, part: str | None = None) -> list[Driver]:
    """The drivers one model (or one K-TOP sub-model) uses, in the fixed order above."""
    if model == "ktop":
        return [d for d in DRIVERS if d.ktop_part is not None and (part is None or d.ktop_part == part)]
    return [d for d in DRIVERS if d.kvalue]


def columns_of(drivers: list[Driver]) -> tuple[list[str], np.ndarray]:
    """Encoded column names and, per column, the index of its driver."""
    cols: list[str] = []
    owner: list[int] = []
    for i, d in enumerate(drivers):
        names = [f"{d.name}={c}" for c in d.categories] if d.categorical else [d.name]
        cols += names
        owner += [i] * len(names)
    return cols, np.asarray(owner, dtype=np.int64)


def encode(frame: pd.DataFrame, drivers: list[Driver]) -> np.ndarray:
    """The float64 design matrix (NaN = missing, handled by LightGBM) in :func:`columns_of` order."""
    blocks = []
    for d in drivers:
        if d.categorical:
            values = frame[d.name].astype(str).to_numpy()
            blocks.append((values[:, None] == np.asarray(d.categories)[None, :]).astype(np.float64))
        else:
            blocks.append(pd.to_numeric(frame[d.name]).to_numpy(dtype=np.float64, na_value=np.nan)[:, None])
    return np.hstack(blocks) if blocks else np.empty((len(frame), 0))


def monotone(drivers: list[Driver], target_good: bool) -> list[int]:
    """LightGBM monotone constraints per encoded column for a model whose target is good or bad.

    A driver that is good when high raises P(success) and lowers P(default), so the sign flips with
    the target; one-hot and undirected columns are unconstrained.
    """
    sign = 1 if target_good else -1
    out: list[int] = []
    for d in drivers:
        out += [0] * len(d.categories) if d.categorical else [sign * d.good]
    return out


def group(contrib: np.ndarray, owner: np.ndarray, n_drivers: int) -> np.ndarray:
    """Sum per-column contributions (rows x columns) into per-driver contributions (rows x drivers)."""
    onehot = np.zeros((len(owner), n_drivers))
    onehot[np.arange(len(owner)), owner] = 1.0
    return contrib @ onehot  # one BLAS call; adding exact zeros keeps the sums exact
