"""Planted broker rings, decoys, noise, fingerprints and plans (data.synth_fingerprints.plant)."""
from __future__ import annotations

import hashlib
import itertools
import random

import duckdb
import numpy as np
import pytest

from data.db import create_schema
from data.synth.fingerprints import CALL_CENTRES, DECOY_KINDS, NAT_IPS, RING_KINDS, plant
from data.synth.plans import PUBLIC_TEMPLATES

SEED = 11


def _small_db(seed: int) -> duckdb.DuckDBPyConnection:
    """3,000 firms and 10,000 applications in the schema, as data.build would leave them before plant()."""
    con = duckdb.connect()
    create_schema(con)
    rng = np.random.default_rng(0)
    regions = [r for (r,) in con.execute("SELECT region_code FROM regions ORDER BY 1").fetchall()]
    con.execute("INSERT INTO meta VALUES ('as_of', '2025-12-31')")
    con.execute("""INSERT INTO programs (program_id, title, ministry, agency, category, max_award_krw)
                   SELECT 'P' || range, '사업 ' || range, '중소벤처기업부', '중소벤처기업진흥공단', '기술', 100000000 FROM range(40)""")
    n_f, n_a = 3000, 10000
    con.execute("""INSERT INTO firms (firm_id, biz_no, name, ceo_name, region_code, ksic_section, size_class, founded_on,
                                      employees, revenue_krw)
                   SELECT range + 1, lpad((range + 1)::VARCHAR, 10, '0'), '(주)테스트' || range, '대표' || range,
                          $r[(range % 17)::INTEGER + 1], $s[(range % 5)::INTEGER + 1], 'micro', DATE '2015-01-01', 3, 100000000
                   FROM range($n)""", {"r": regions, "s": ["C", "G", "I", "J", "M"], "n": n_f})
    firm = np.sort(rng.integers(1, n_f + 1, n_a))
    con.execute("""INSERT INTO applications (application_id, firm_id, program_id, submitted_at, status,
                                             amount_requested_krw, amount_awarded_krw, decided_at)
                   SELECT i + 1, f, 'P' || (i % 40), TIMESTAMP '2023-01-01' + to_minutes(((i * 7919) % 1000000)::BIGINT),
                          CASE WHEN i % 4 = 0 THEN 'selected' WHEN i % 10 = 1 THEN 'submitted' ELSE 'rejected' END::app_status_t,
                          50000000, CASE WHEN i % 4 = 0 THEN 40000000 ELSE 0 END,
                          CASE WHEN i % 10 = 1 THEN NULL ELSE TIMESTAMP '2023-01-01' + to_minutes(((i * 7919) % 1000000)::BIGINT) + INTERVAL 40 DAY END
                   FROM (SELECT unnest(range($n)) AS i, unnest($f) AS f)""", {"n": n_a, "f": firm.tolist()})
    plant(con, seed=seed, scale=0.01)
    return con


@pytest.fixture(scope="module", params=["own", "tiny"])
def db(request: pytest.FixtureRequest) -> duckdb.DuckDBPyConnection:
    """Each check runs on a hand-made small database and on the build's tiny fixture (data.build)."""
    if request.param == "own":
        return _small_db(SEED)
    return duckdb.connect(str(request.getfixturevalue("tiny_db")), read_only=True)


def _grams(text: str) -> set[str]:
    return {text[i:i + 3] for i in range(len(text) - 2)}


def _jaccard(a: str, b: str) -> float:
    x, y = _grams(a), _grams(b)
    return len(x & y) / len(x | y)


def test_deterministic() -> None:
    def digest(con: duckdb.DuckDBPyConnection) -> str:
        h = hashlib.sha256()
        for q in ("SELECT * FROM app_fingerprints ORDER BY ALL", "SELECT * FROM business_plans ORDER BY ALL",
                  "SELECT * FROM truth_broker_rings ORDER BY ALL",
                  "SELECT application_id, submitted_at, status, amount_awarded_krw FROM applications ORDER BY 1"):
            h.update(repr(con.execute(q).fetchall()).encode())
        return h.hexdigest()
    assert digest(_small_db(SEED)) == digest(_small_db(SEED))
    assert digest(_small_db(SEED)) != digest(_small_db(SEED + 1))


def test_every_kind_present(db: duckdb.DuckDBPyConnection) -> None:
    got = dict(db.execute("SELECT ring_kind::VARCHAR, count(DISTINCT ring_id) FROM truth_broker_rings GROUP BY 1").fetchall())
    for kind in RING_KINDS:
        assert got.get(kind, 0) >= 4, kind
    for kind in DECOY_KINDS:
        assert got.get(kind, 0) >= 5, kind
    assert sum(got[k] for k in RING_KINDS) >= 20
    decoy = db.execute("SELECT bool_and(decoy = starts_with(ring_kind::VARCHAR, 'decoy')) FROM truth_broker_rings").fetchone()[0]
    assert decoy


@pytest.mark.parametrize("ring_kind,kinds", [("shared_contact", ("phone", "email")), ("shared_device", ("device", "ip")),
                                             ("shared_author", ("doc_author",)), ("decoy_accountant", ("doc_author",)),
                                             ("decoy_public_pc", ("device",))])
def test_members_share_identifiers(db: duckdb.DuckDBPyConnection, ring_kind: str, kinds: tuple[str, ...]) -> None:
    # Most member firms carry a value of these kinds that another firm of the same group also carries,
    # and the value is the group's own (not a noise value shared by thousands). Counted by firm, as
    # sharing is: a firm with 3 of a ring's 7 applications would otherwise weigh 3 times.
    rows = db.execute("""
        WITH m AS (SELECT t.ring_id, t.application_id, a.firm_id, f.kind, f.value FROM truth_broker_rings t
                   JOIN applications a USING (application_id) JOIN app_fingerprints f USING (application_id)
                   WHERE t.ring_kind = ? AND f.kind::VARCHAR IN ?),
             shared AS (SELECT ring_id, kind, value FROM m GROUP BY ALL HAVING count(DISTINCT firm_id) >= 2),
             df AS (SELECT kind, value, count(*) AS n FROM app_fingerprints GROUP BY ALL)
        SELECT m.ring_id, count(DISTINCT m.firm_id) FILTER (WHERE s.value IS NOT NULL),
               count(DISTINCT m.firm_id), max(df.n) FILTER (WHERE s.value IS NOT NULL)
        FROM m LEFT JOIN shared s USING (ring_id, kind, value) LEFT JOIN df USING (kind, value) GROUP BY 1
    """, [ring_kind, list(kinds)]).fetchall()
    assert len(rows) >= 4
    for _, carrying, size, df in rows:
        assert carrying >= 0.6 * size
        assert df <= 45


def test_burst_members_within_hours(db: duckdb.DuckDBPyConnection) -> None:
    spans = db.execute("""
        SELECT ring_id, count(*), quantile_cont(epoch(submitted_at), 0.75) - quantile_cont(epoch(submitted_at), 0.25)
        FROM truth_broker_rings JOIN applications USING (application_id) WHERE ring_kind = 'burst' GROUP BY 1""").fetchall()
    assert spans and all(iqr <= 6 * 3600 for _, _, iqr in spans)


def test_template_band_and_honest_low(db: duckdb.DuckDBPyConnection) -> None:
    plans = dict(db.execute("SELECT application_id, plan_text FROM business_plans").fetchall())
    firm = dict(db.execute("SELECT application_id, firm_id FROM applications").fetchall())
    rings = db.execute("""SELECT ring_id, list(application_id ORDER BY application_id) FROM truth_broker_rings t
                          WHERE ring_kind IN ('template_plan', 'decoy_franchise') GROUP BY 1""").fetchall()
    # members that carry the template: the pair's similarity is in the band for most pairs
    js = [_jaccard(plans[a], plans[b]) for _, apps in rings for a, b in itertools.combinations(apps, 2) if firm[a] != firm[b]]
    assert np.median(js) > 0.4
    band = [j for j in js if j >= 0.4]
    assert 0.45 <= np.median(band) <= 0.68
    honest = [a for (a,) in db.execute("""SELECT application_id FROM applications a JOIN firms f USING (firm_id)
        WHERE f.ksic_section = 'C' AND application_id NOT IN (SELECT application_id FROM truth_broker_rings)""").fetchall()]
    r = random.Random(1)
    pairs = [(r.choice(honest), r.choice(honest)) for _ in range(2000)]
    hj = sorted(_jaccard(plans[a], plans[b]) for a, b in pairs if firm[a] != firm[b] and plans[a] not in PUBLIC_TEMPLATES)
    assert np.mean(hj) < 0.2 and hj[int(0.99 * len(hj))] < 0.35


def test_noise_present(db: duckdb.DuckDBPyConnection) -> None:
    top_phone = db.execute("SELECT count(*) FROM app_fingerprints WHERE kind = 'phone' AND value IN ? GROUP BY value ORDER BY 1 DESC LIMIT 1",
                           [list(CALL_CENTRES)]).fetchone()[0]
    assert top_phone >= 20
    assert db.execute("SELECT count(*) FROM app_fingerprints WHERE kind = 'email' AND value = 'none@none.com'").fetchone()[0] >= 20
    nat_firms = db.execute("""SELECT max(n) FROM (SELECT count(DISTINCT a.firm_id) AS n FROM app_fingerprints f JOIN applications a USING (application_id)
                              WHERE kind = 'ip' AND value IN ? GROUP BY value)""", [list(NAT_IPS)]).fetchone()[0]
    assert nat_firms >= 10
    copies = db.execute("SELECT count(*) FROM business_plans WHERE plan_text IN ?", [list(PUBLIC_TEMPLATES)]).fetchone()[0]
    assert copies >= 10


def test_every_application_has_plan_and_fingerprints(db: duckdb.DuckDBPyConnection) -> None:
    assert db.execute("SELECT count(*) FROM applications WHERE application_id NOT IN (SELECT application_id FROM business_plans)").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM app_fingerprints WHERE application_id NOT IN (SELECT application_id FROM applications)").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM business_plans").fetchone()[0] == db.execute("SELECT count(*) FROM applications").fetchone()[0]
    assert db.execute("SELECT count(DISTINCT kind) FROM app_fingerprints").fetchone()[0] == 7


def test_application_constraints_kept(db: duckdb.DuckDBPyConnection) -> None:
    bad = db.execute("""SELECT count(*) FROM applications WHERE decided_at < submitted_at OR agreed_at < decided_at
                        OR paid_at < decided_at OR (status <> 'selected' AND amount_awarded_krw > 0)""").fetchone()[0]
    assert bad == 0
    sel = dict(db.execute("""SELECT t.application_id IS NOT NULL AND NOT t.decoy, avg((status = 'selected')::INT) FROM applications a
                             LEFT JOIN truth_broker_rings t USING (application_id) WHERE status IN ('selected', 'rejected') GROUP BY 1""").fetchall())
    assert sel[True] > sel[False] + 0.1
