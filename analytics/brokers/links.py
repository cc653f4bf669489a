"""Weighted links between applications of different firms, each with the evidence that made it.

Two sources of evidence:

* **shared identifiers** (phone, email, IP, device, bank account, address, document author): a
  DuckDB self-join on (kind, value). A value's document frequency is the number of distinct *firms*
  that used it (a firm's own repeated applications are one firm). Values used by more than
  ``df_cap`` firms (call centres, carrier NAT addresses, ``none@none.com``) never link anyone;
  the rest get a rarity weight as in Splink's term-frequency adjustment: ``log2(m / u)`` with
  ``u = firms / all firms with that kind``. Person names are weak: namesakes abound, so a shared
  name counts only beside other evidence, when rare, or inside a burst of that name (a broker
  writing a dozen plans in an afternoon under a name a thousand firms carry).
* **near-duplicate business plans**: MinHash + LSH (:mod:`analytics.minhash`); plans that copy a
  suppressed public template (:data:`data.synth_plans.PUBLIC_TEMPLATES` seeds the list) are left out.

Kinds are grouped into independent *evidence groups* (phone and email both point at one contact,
so together they are one piece of evidence, not two). A link is **strong** when at least
``min_groups`` groups agree and its weight (the sum of each group's best weight) reaches
``min_weight``. Rarity weighting alone is not enough: two common values would add up.

Identifier pairs and links stay in DuckDB temp tables (``_ids``, ``_links``): at national scale
they are tens of millions of rows with lists of evidence, which as Python objects would not fit
in memory. Python only ever holds the strong links and the links touching clustered applications.
"""
from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from analytics.brokers import minhash

# Independent groups of evidence; kinds in one group tell the same story once.
GROUPS: dict[str, str] = {
    "phone": "contact", "email": "contact", "address": "place", "ip": "network", "device": "network",
    "bank_account": "money", "doc_author": "document", "plan": "plan", "timing": "timing",
}
KINDS = tuple(k for k in GROUPS if k not in ("plan", "timing"))
# Groups whose shared value can attach a member on its own (not names, not timing).
HARD_GROUPS = ("contact", "network", "money", "place", "plan")


@dataclass(frozen=True)
class LinkParams:
    """Everything that decides a link; stored with every run."""

    df_cap: int = 50              # a value shared by more firms never links (call centre, NAT IP) ...
    df_cap_share: float = 0.01    # ... nor one shared by more than this share of all firms with that kind
    df_cap_floor: int = 20        # (but the cap is never lower than this: small data, big rings)
    m_prob: float = 0.9           # P(members of one ring share a value they share): Splink's m
    shingle_k: int = 12           # plans are shingled into the 12 characters from each word start
    bins: int = 128               # MinHash bins (one-permutation): 64 LSH bands of 2
    band_rows: int = 2            # LSH rows per band: with 64 bands a pair at 0.22 is a candidate 95% of the time
    bucket_cap: int = 10          # LSH buckets with more plans are phrases everyone writes (a ring's
                                  # members rarely share one band's minima in numbers) ...
    bucket_share: float = 1e-5    # ... or more than this share of all plans: a bucket of common phrases
                                  # grows with the data, a fixed cap would drop rings' buckets at scale
    plan_threshold: float = 0.15  # estimated Jaccard a plan pair must reach (unrelated plans: <= 0.05)
    template_threshold: float = 0.4  # a plan this close to a suppressed template is a public copy
    plan_levels: tuple[tuple[float, float], ...] = ((0.4, 12.0), (0.25, 9.0), (0.15, 6.0))  # (sim >=, weight)
    burst_hours: float = 12.0     # two linked submissions this close in time add the group 'timing'
    min_groups: int = 2           # independent evidence groups a strong link needs
    min_weight: float = 12.0      # and this much weight
    weak_kinds: tuple[str, ...] = ("doc_author",)  # person names collide: namesakes are not a trace ...
    weak_df_cap: int = 5          # ... so they link only when rare, a trace of a group, beside other
                                  # evidence, or inside a burst of the name:
    burst_alpha: float = 0.01     # so many of its applications within burst_hours arise by chance with
                                  # at most this probability per name (a scan statistic, see burst_threshold);
    burst_max_share: float = 0.005  # a "name" on more than this share of firms (and more than df_cap)
                                  # is a placeholder ('user'), crowded on every deadline day: never a burst
    single_bits: float = 7.0      # one shared value (not a name) of at least this match weight, with the
                                  # m estimated on the data (analytics.brokers.weights), links for
                                  # clustering on its own; whether a cluster is a ring is judged on
                                  # the cluster (clusters.multi_evidence), not on each pair
    trace_alpha: float = 1e-6     # a value on more of a cluster's firms than chance gives at this level
                                  # is the cluster's trace (links.cluster_traces)
    related_max: int = 3          # at most this many firms sharing a home (address and phone) or a
                                  # representative are related firms (특수관계), counted as one
    trace_firms: int = 3          # firms carrying two values of different groups make both traces ...
    trace_share: float = 0.3      # ... when they are this share of the rarer value's firms
    reorder_sentences: int = 4    # two linked plans sharing at least this many sentences ...
    reorder_tau: float = 0.5      # ... in an order this far from the same (Kendall's tau below it) are a
                                  # copy disguised by reordering (links.reordered_copies)
    seed: int = 0

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, stored: dict) -> LinkParams:
        """The parameters a stored run used (its ``params["links"]``); defaults for any it predates."""
        fields = cls.__dataclass_fields__
        values: dict[str, Any] = {k: (tuple(tuple(x) for x in v) if k == "plan_levels" else v)
                                  for k, v in stored.items() if k in fields}
        return cls(**values)


def plan_weight(sim: float | np.ndarray, params: LinkParams) -> np.ndarray:
    """The weight of a plan similarity: the level it reaches (Splink-style comparison levels)."""
    s = np.asarray(sim, dtype=float)
    out = np.zeros_like(s)
    for level, weight in sorted(params.plan_levels):  # ascending: the highest level reached wins
        out = np.where(s >= level, weight, out)
    return out


def identifier_weight(firms: int | np.ndarray, total: int | np.ndarray, params: LinkParams) -> np.ndarray:
    """Splink's term-frequency adjusted match weight of sharing a value used by ``firms`` firms."""
    return np.log2(params.m_prob * np.asarray(total, dtype=float) / np.asarray(firms, dtype=float))


def burst_threshold(n: np.ndarray, chance: float, alpha: float, floor: int) -> np.ndarray:
    """For values carried by ``n`` applications: how many *other* applications of the value within
    ``burst_hours`` of one of them make a burst (at least ``floor``).

    By chance, each of the other n - 1 falls within the window with probability ``chance`` (see
    :func:`chance_within`), so their count is about Poisson with mean (n - 1) * chance; the
    threshold is the smallest k it reaches with probability at most alpha / n (n windows are looked
    at, one per application). A name with 500 namesakes needs a dozen in one window, a rare one two.
    """
    out = np.empty(len(n), dtype=np.int64)
    for i, nv in enumerate(np.asarray(n, dtype=np.int64)):
        mu, target = (nv - 1) * chance, alpha / nv
        if mu > 500:  # exp(-mu) underflows; such a value (a placeholder) is everywhere at once anyway
            out[i] = nv
            continue
        k, pmf, tail = 0, math.exp(-mu), 1.0  # tail = P(X >= k)
        while tail > target and k < nv:
            tail -= pmf
            k += 1
            pmf *= mu / k
        out[i] = max(k, floor)
    return out


def _register_suppressions(con: duckdb.DuckDBPyConnection, suppressions: pd.DataFrame) -> None:
    ids = suppressions.loc[suppressions["kind"] != "plan", ["kind", "value"]] if len(suppressions) else None
    con.register("_supp", ids if ids is not None and len(ids) else pd.DataFrame({"kind": ["-"], "value": ["-"]}))


def _may_repeat(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether two rows of ``_fp`` may be equal: two of their 64-bit hashes are (a duplicate or a
    collision). A DISTINCT over every row is a hash table of strings as big as the table (a
    minute at national scale, spilling; DuckDB's count of distinct hashes costs as much), a sort
    of the hashes seconds; when no two are equal, no two rows are."""
    h = con.execute("SELECT hash(application_id, kind, value) AS h FROM _fp").fetchnumpy()["h"]
    h.sort()
    return bool(np.any(h[1:] == h[:-1]))


def value_frequencies(con: duckdb.DuckDBPyConnection, suppressions: pd.DataFrame) -> None:
    """Temp tables ``_fp`` (application, firm, kind, value; suppressed values removed), ``_df``
    (firms per value), ``_fps`` (the rows of ``_fp`` whose value is on two firms or more, with
    ``firms``), ``_kf`` (kind, firm: the firms with each kind) and ``_tot`` (firms per kind)."""
    _register_suppressions(con, suppressions)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _fp AS
        SELECT f.application_id, a.firm_id, f.kind::VARCHAR AS kind, f.value
        FROM app_fingerprints f JOIN applications a USING (application_id) JOIN firms fi USING (firm_id)
        ANTI JOIN _supp s ON s.kind = f.kind::VARCHAR AND s.value = f.value
        -- a document written by the firm's own representative is not a third party's trace
        WHERE NOT (f.kind = 'doc_author' AND f.value = coalesce(fi.ceo_name, ''))
    """)
    if _may_repeat(con):   # an application's (kind, value) is kept once
        con.execute("CREATE OR REPLACE TEMP TABLE _fp AS SELECT DISTINCT * FROM _fp")
    con.execute("CREATE OR REPLACE TEMP TABLE _df AS SELECT kind, value, count(DISTINCT firm_id) AS firms FROM _fp GROUP BY ALL")
    # A value on one firm links no one, and such values are almost all of them (97.9 k of 17 M
    # values at national scale are on two firms or more): the steps that pair, attach or relate
    # firms read these few million rows instead of scanning every fingerprint again.
    con.execute("""CREATE OR REPLACE TEMP TABLE _fps AS
                   SELECT fp.*, d.firms FROM _fp fp JOIN (SELECT * FROM _df WHERE firms >= 2) d USING (kind, value)""")
    # the firms of each kind once, for the totals and the screening index's kind_firms
    con.execute("CREATE OR REPLACE TEMP TABLE _kf AS SELECT DISTINCT kind, firm_id FROM _fp")
    con.execute("CREATE OR REPLACE TEMP TABLE _tot AS SELECT kind, count(*) AS total FROM _kf GROUP BY ALL")


def weak_bursts(con: duckdb.DuckDBPyConnection, params: LinkParams, chance: float) -> None:
    """Temp table ``_bursts`` (application_id, firm_id, kind, value, t): carriers of a weak-kind
    value with at least :func:`burst_threshold` other carriers within ``burst_hours``, of values on
    two firms or more (a burst of one firm's own applications pairs no one). Needs the
    ``_fps``/``_df``/``_tot`` tables of :func:`value_frequencies`."""
    weak = list(params.weak_kinds)
    h = float(params.burst_hours) * 3600  # a window bound must be a constant
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _wk AS
        SELECT fp.application_id, fp.firm_id, fp.kind, fp.value, epoch(a.submitted_at) AS t,
               floor(epoch(a.submitted_at) / {h})::BIGINT AS b
        FROM _fps fp JOIN applications a USING (application_id) WHERE list_contains($weak, fp.kind)
    """, {"weak": weak})
    counts = con.execute("""SELECT DISTINCT n FROM (SELECT count(*) AS n FROM _wk GROUP BY kind, value)
                            WHERE n >= 2""").fetchnumpy()["n"]
    con.register("_burst_k", pd.DataFrame({"n": counts.astype(np.int64), "k": burst_threshold(
        counts, chance, params.burst_alpha, max(params.trace_firms - 1, 1))}))
    # Bursts by time buckets of burst_hours first (aggregates and equi-joins, which DuckDB spills
    # to disk): an application's neighbours within burst_hours lie in its bucket or the two beside
    # it, so only buckets whose three hold enough can hold a burst. The exact sliding window then
    # runs on the applications around those few buckets; over all names it exhausts memory.
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _bursts AS   -- weak-kind carriers inside a burst of their value
        WITH cnt AS (
            SELECT kind, value, b, count(*) AS c FROM _wk GROUP BY ALL
        ), nv AS (
            SELECT kind, value, k FROM (SELECT kind, value, sum(c)::BIGINT AS n FROM cnt GROUP BY ALL) JOIN _burst_k USING (n)
            JOIN _df d USING (kind, value) JOIN _tot t USING (kind) WHERE d.firms <= greatest($cap, $max_share * t.total)
        ), hot AS (
            SELECT c.kind, c.value, c.b, nv.k FROM cnt c JOIN nv USING (kind, value)
            LEFT JOIN cnt l ON l.kind = c.kind AND l.value = c.value AND l.b = c.b - 1
            LEFT JOIN cnt r ON r.kind = c.kind AND r.value = c.value AND r.b = c.b + 1
            WHERE c.c + coalesce(l.c, 0) + coalesce(r.c, 0) >= nv.k + 1
        ), around AS (
            SELECT DISTINCT kind, value, b + d AS b FROM hot, (VALUES (-1), (0), (1)) AS s(d)
        ), wn AS (
            SELECT w.*, count(*) OVER (PARTITION BY w.kind, w.value ORDER BY w.t
                                       RANGE BETWEEN {h} PRECEDING AND {h} FOLLOWING) - 1 AS near
            FROM _wk w SEMI JOIN around USING (kind, value, b)
        )
        SELECT wn.application_id, wn.firm_id, wn.kind, wn.value, wn.t FROM wn JOIN hot USING (kind, value, b)
        WHERE wn.near >= hot.k
    """, {"max_share": params.burst_max_share, "cap": params.df_cap})


def identifier_pairs(con: duckdb.DuckDBPyConnection, params: LinkParams, plans: pd.DataFrame, *,
                     chance: float) -> duckdb.DuckDBPyRelation:
    """Temp table ``_ids``: one row per (pair of applications of different firms, shared value)
    under the DF cap, or a name inside a burst (app_a, app_b, kind, grp, value, firms, weight, trace).

    ``trace`` marks values that travel with a value of another evidence group: at least
    ``trace_firms`` firms carry both on one application (a broker's phone and the broker's name as
    document author). Sharing such a value is strong evidence on its own, even for a member that
    left one trace. Weak kinds (person names: thousands of namesakes) count only when rare, a
    trace, beside other evidence of the same pair (``plans`` are the plan pairs (app_a, app_b)),
    or when both applications are inside a *burst* of the name: more of its applications within
    ``burst_hours`` than chance gives (:func:`burst_threshold`, ``chance`` from
    :func:`chance_within`). Two namesakes submitting on the same day is no evidence (a firm with
    forty applications meets a namesake that way); a dozen applications written by one name in an
    afternoon is, even for a name over the DF cap.
    """
    groups = pd.DataFrame({"kind": list(GROUPS), "grp": list(GROUPS.values())})
    con.register("_groups", groups)
    con.register("_plan_pairs", plans[["app_a", "app_b"]])
    weak = list(params.weak_kinds)
    weak_bursts(con, params, chance)
    h = float(params.burst_hours) * 3600
    args = {"m": params.m_prob, "cap": params.df_cap, "cap_floor": params.df_cap_floor, "cap_share": params.df_cap_share}
    # Each step is its own temp table: as CTEs referenced several times, the self-join over every
    # fingerprint was planned more than once, and at national scale each run of it is minutes.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _fv AS   -- carriers of values under the DF cap, with the value's weight
        WITH v AS (
            SELECT d.kind, d.value, d.firms, g.grp, log2($m * t.total / d.firms) AS weight
            FROM _df d JOIN _tot t USING (kind) JOIN _groups g USING (kind)
            WHERE d.firms >= 2 AND d.firms <= least($cap, greatest($cap_floor, $cap_share * t.total))
        )
        SELECT fp.application_id, fp.firm_id, v.* FROM _fps fp JOIN v USING (kind, value)
    """, args)
    # Traces: two values of different groups on one application, and on most carriers of the rarer
    # one: not a coincidence. Both must be on at least trace_firms firms, so only those are joined.
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _traces AS
        WITH tv AS (SELECT * FROM _fv WHERE firms >= $trace_firms)
        SELECT DISTINCT kind, value FROM (
            SELECT a.kind, a.value FROM tv a JOIN tv b ON a.application_id = b.application_id AND a.grp <> b.grp
            GROUP BY a.kind, a.value, b.kind, b.value, a.firms, b.firms
            HAVING count(DISTINCT a.firm_id) >= greatest($trace_firms, $trace_share * least(a.firms, b.firms)))
    """, {"trace_firms": params.trace_firms, "trace_share": params.trace_share})
    # A common name (a weak kind over weak_df_cap, not a trace) shared by two applications counts
    # only beside other evidence of the pair: it is looked up on those pairs, never self-joined
    # (names are on every application, and namesakes make most of the pairs a self-join would).
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _fvt AS
        SELECT fv.*, t.kind IS NOT NULL AS is_trace, list_contains($weak, fv.kind) AS weak
        FROM _fv fv LEFT JOIN _traces t USING (kind, value)
    """, {"weak": weak})
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _p AS
        WITH c AS (SELECT * FROM _fvt WHERE NOT weak OR firms <= $weak_cap OR is_trace)
        SELECT x.application_id AS app_a, y.application_id AS app_b, x.kind, x.grp, x.value, x.firms, x.weight,
               x.is_trace AND NOT x.weak AS trace, x.weak
        FROM c x JOIN c y USING (kind, value)
        WHERE x.application_id < y.application_id AND x.firm_id <> y.firm_id
    """, {"weak_cap": params.weak_df_cap})
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE _ids AS
        WITH vals AS (   -- every value with its rarity weight (a name in a burst counts whatever its DF)
            SELECT d.kind, d.value, d.firms, g.grp, log2($m * t.total / d.firms) AS weight
            FROM _df d JOIN _tot t USING (kind) JOIN _groups g USING (kind)
        ), other AS (   -- pairs with evidence that is not a weak kind
            SELECT DISTINCT app_a, app_b FROM _p WHERE NOT weak
            UNION SELECT app_a, app_b FROM _plan_pairs
        ), common AS (
            SELECT * FROM _fvt WHERE weak AND NOT (firms <= $weak_cap OR is_trace)
        ), first_end AS MATERIALIZED (  -- the pairs' first ends' common names: planned freely, the
            -- join started from the namesakes of every common name (tens of millions of pairs)
            SELECT o.app_a, o.app_b, x.kind, x.grp, x.value, x.firms, x.weight, x.firm_id
            FROM other o JOIN common x ON x.application_id = o.app_a
        ), beside AS MATERIALIZED (  -- a common name both ends of such a pair carry
            SELECT x.app_a, x.app_b, x.kind, x.grp, x.value, x.firms, x.weight, false AS trace
            FROM first_end x JOIN common y ON y.application_id = x.app_b AND y.kind = x.kind AND y.value = x.value
            WHERE x.firm_id <> y.firm_id
        ), burst AS (   -- both inside one burst of a weak value, whatever its DF
            SELECT x.application_id AS app_a, y.application_id AS app_b, x.kind, w.grp, x.value, w.firms, w.weight,
                   false AS trace
            FROM _bursts x JOIN _bursts y USING (kind, value) JOIN vals w USING (kind, value)
            WHERE x.application_id < y.application_id AND x.firm_id <> y.firm_id AND abs(x.t - y.t) <= {h}
        )
        -- Each (pair, value) once. _p holds each once (an application carries a value once) and
        -- the common names of beside are the names _p leaves out; only a name in a burst can be
        -- in _p or beside too, with the same row: a name that travels with the broker's phone is
        -- still shared by namesakes, it corroborates other evidence but never makes a strong link
        -- on its own (trace = false for weak kinds). Grouping all the pairs was the slow part.
        SELECT app_a, app_b, kind, grp, value, firms, weight, trace FROM _p
        UNION ALL SELECT * FROM beside
        UNION ALL SELECT b.* FROM burst b ANTI JOIN (SELECT app_a, app_b, kind, value FROM _p WHERE weak
                                                     UNION ALL SELECT app_a, app_b, kind, value FROM beside) s
                                                    USING (app_a, app_b, kind, value)
    """, {"weak_cap": params.weak_df_cap, "m": params.m_prob})
    con.execute("DROP TABLE _p; DROP TABLE _fv; DROP TABLE _fvt")   # the pairs live on in _ids
    return con.table("_ids")


def plan_signatures(con: duckdb.DuckDBPyConnection, params: LinkParams, *, chunk: int = 200_000,
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(application ids, firm ids, MinHash signatures) of every plan, read ``chunk`` plans at a time.

    At most two chunks of texts are in memory (one hashed, the next being read), as Arrow buffers
    that the compiled loop reads (10 M plan texts as Python strings would be ~7 GB, and making them
    cost more than hashing them); a text's signature does not depend on its chunk, so the result is
    the same for any ``chunk``.
    Texts are normalised while hashing, not in SQL (a regexp over a million plans costs more than
    the whole signature step).
    """
    n = con.execute("SELECT count(*) FROM business_plans").fetchall()[0][0]
    apps = np.empty(n, dtype=np.int64)
    firms = np.empty(n, dtype=np.int64)
    sig = np.empty((n, params.bins), dtype=np.uint32)
    reader = con.sql("""
        SELECT p.application_id, a.firm_id, p.plan_text
        FROM business_plans p JOIN applications a USING (application_id)
    """).to_arrow_reader(chunk)
    lo = 0
    # DuckDB reads the next chunk while this one is hashed (both release the GIL): read in turn,
    # a core would idle while reading, and the hashing threads wait for the slower one per chunk
    with ThreadPoolExecutor(max_workers=1) as pool:
        ahead = pool.submit(next, reader, None)
        while (batch := ahead.result()) is not None:
            ahead = pool.submit(next, reader, None)
            hi = lo + batch.num_rows
            apps[lo:hi] = batch.column(0).to_numpy()
            firms[lo:hi] = batch.column(1).to_numpy()
            minhash.arrow_signatures(batch.column(2), bins=params.bins, k=params.shingle_k, seed=params.seed,
                                     out=sig[lo:hi])
            lo = hi
    return apps[:lo], firms[:lo], sig[:lo]


def template_signatures(templates: list[str], params: LinkParams) -> np.ndarray:
    return minhash.signatures(templates, bins=params.bins, k=params.shingle_k, seed=params.seed) if templates else \
        np.empty((0, params.bins), dtype=np.uint32)


def template_copies(sig: np.ndarray, templates: list[str] | np.ndarray, params: LinkParams) -> np.ndarray:
    """Boolean mask of plans whose estimated similarity to any suppressed template (texts, or their
    signatures) reaches the threshold (compiled, :func:`analytics.brokers.lsh.near_any`, on two
    threads over halves of the plans)."""
    from analytics.brokers import lsh

    mask = np.zeros(sig.shape[0], dtype=bool)
    tsig = templates if isinstance(templates, np.ndarray) else template_signatures(templates, params)
    if not len(tsig):
        return mask
    cuts = np.linspace(0, sig.shape[0], 3).astype(int)
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda lh: lsh.near_any(sig[lh[0] : lh[1]], tsig, params.template_threshold, mask[lh[0] : lh[1]]),
                      zip(cuts[:-1], cuts[1:])))
    return mask


def bucket_cap(params: LinkParams, plans: int) -> int:
    """The LSH bucket cap for this many plans (it grows with the data, see LinkParams.bucket_share)."""
    return max(params.bucket_cap, round(params.bucket_share * plans))


def plan_pairs(con: duckdb.DuckDBPyConnection, templates: list[str], params: LinkParams, *,
               chunk: int = 200_000, index: Any = None) -> tuple[pd.DataFrame, dict]:
    """Pairs of applications of different firms with near-duplicate plans: (app_a, app_b, plan_similarity).

    Memory is the signatures (bins x 4 bytes per plan) plus one chunk of texts (see :func:`plan_signatures`).
    With ``index`` (an :class:`analytics.brokers.index.Writer`) the signatures and each LSH band's
    bucket order are kept for screening.
    """
    from analytics.brokers import lsh

    t0 = time.perf_counter()
    apps, firms, sig = plan_signatures(con, params, chunk=chunk)
    t_sig = time.perf_counter() - t0
    tsig = template_signatures(templates, params)
    copies = template_copies(sig, tsig, params)
    # Public-template copies get an all-empty signature: they can never share a bucket.
    sig[copies] = minhash.EMPTY
    cap = bucket_cap(params, len(apps))
    coded = lsh.codes(sig)
    if index is not None:
        index.plans(apps, firms, sig, coded, tsig, rows=params.band_rows, idx_bits=lsh.idx_bits(len(apps)))
    t_lsh = time.perf_counter()
    i, j, sims, skipped = minhash.similar_pairs(
        sig, threshold=params.plan_threshold, rows=params.band_rows, bucket_cap=cap, owner=firms,
        keep_band=index.band if index is not None else None, coded=coded)
    del sig, coded
    a, b = apps[i], apps[j]
    out = pd.DataFrame({"app_a": np.minimum(a, b), "app_b": np.maximum(a, b), "plan_similarity": sims})
    stats = {"plans": len(apps), "template_copies": int(copies.sum()), "bucket_cap": cap, "skipped_buckets": skipped,
             "plan_pairs": len(out), "t_signatures": round(t_sig, 2), "t_lsh": round(time.perf_counter() - t_lsh, 2),
             "t_index_plans": round(t_lsh - t0 - t_sig, 2)}
    return out, stats


def combine(con: duckdb.DuckDBPyConnection, plans: pd.DataFrame, params: LinkParams,
            timing_weight: float) -> duckdb.DuckDBPyRelation:
    """Temp table ``_links`` from ``_ids`` (:func:`identifier_pairs`) and the plan pairs: one row
    per linked pair with weight, groups, plan similarity, time gap, same program,
    both firms, ``strong`` and ``hard``.

    A link is strong (counts for clustering) with enough independent groups and enough weight, or
    a shared trace; hard when it carries a group that can attach a member (:data:`HARD_GROUPS`).
    A pair already linked by an identifier or a plan that was also submitted within
    ``burst_hours`` gets the independent group 'timing' with ``timing_weight`` (see
    :func:`timing_weight`); closeness in time alone never creates a link.

    The evidence list of each link is left to :func:`touching`: aggregating lists of structs over
    every pair is what exhausts DuckDB's memory at national scale, and only the links of
    clustered applications are ever shown or stored.
    """
    pl = plans.assign(plan_weight=plan_weight(plans["plan_similarity"].to_numpy(), params))
    con.register("_plans", pl)
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _links AS
        WITH g AS (   -- best weight per independent group of a pair
            SELECT app_a, app_b, grp, max(weight) AS w, bool_or(trace) AS trace FROM _ids GROUP BY ALL
        ), idp AS (
            SELECT app_a, app_b, sum(w) AS id_weight, list_sort(list(grp)) AS id_groups, bool_or(trace) AS trace
            FROM g GROUP BY ALL
        ), pairs AS (
            SELECT coalesce(i.app_a, p.app_a) AS app_a, coalesce(i.app_b, p.app_b) AS app_b,
                   coalesce(i.id_weight, 0) + coalesce(p.plan_weight, 0) AS weight,
                   list_concat(coalesce(i.id_groups, []), CASE WHEN p.app_a IS NULL THEN [] ELSE ['plan'] END) AS groups,
                   coalesce(i.trace, false) AS trace, p.plan_similarity
            FROM idp i FULL OUTER JOIN _plans p ON i.app_a = p.app_a AND i.app_b = p.app_b
        ), timed AS (
            SELECT pairs.*, abs(epoch(x.submitted_at) - epoch(y.submitted_at)) / 3600.0 AS time_gap_hours,
                   x.program_id = y.program_id AS same_program, x.firm_id AS firm_a, y.firm_id AS firm_b
            FROM pairs JOIN applications x ON x.application_id = pairs.app_a
            JOIN applications y ON y.application_id = pairs.app_b
        ), scored AS (
            SELECT t.app_a, t.app_b,
                   t.weight + CASE WHEN t.time_gap_hours <= $burst THEN $tw ELSE 0 END AS weight,
                   list_concat(t.groups, CASE WHEN t.time_gap_hours <= $burst THEN ['timing'] ELSE [] END) AS groups,
                   len(t.groups) + (t.time_gap_hours <= $burst)::INTEGER AS n_groups,
                   t.trace, t.plan_similarity, t.time_gap_hours, t.same_program, t.firm_a, t.firm_b
            FROM timed t
        )
        SELECT *, (n_groups >= $min_groups AND weight >= $min_weight) OR trace AS strong,
               list_has_any(groups, $hard) AS hard
        FROM scored
    """, {"burst": params.burst_hours, "tw": timing_weight, "min_groups": params.min_groups,
          "min_weight": params.min_weight, "hard": list(HARD_GROUPS)})
    return con.table("_links")


def strengthen(con: duckdb.DuckDBPyConnection, params: LinkParams, m: dict[str, float]) -> None:
    """Mark as strong the links of ``_links`` that share one value (not a weak kind) whose match
    weight with the estimated ``m`` of its group, ``log2(m * firms of the kind / firms with the
    value)``, reaches ``single_bits``, and plan pairs whose level weight does. A bank account used
    by no one else is evidence on its own; an accountant's phone links its clients too, and the
    cluster's evidence (several independent groups on many members) decides the flag."""
    con.register("_em_m", pd.DataFrame({"grp": list(m), "m": list(m.values())}))
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _links AS
        WITH single AS (
            SELECT DISTINCT app_a, app_b FROM _ids JOIN _em_m USING (grp)
            WHERE NOT list_contains($weak, kind) AND weight + log2(m / $m0) >= $bits
        )
        SELECT l.* REPLACE (l.strong OR s.app_a IS NOT NULL OR coalesce(l.plan_similarity, 0) >= $plan AS strong)
        FROM _links l LEFT JOIN single s USING (app_a, app_b)
    """, {"weak": list(params.weak_kinds), "m0": params.m_prob, "bits": params.single_bits,
          "plan": min(level for level, w in params.plan_levels if w >= params.single_bits) if any(
              w >= params.single_bits for _, w in params.plan_levels) else 2.0})


def clustered_values(con: duckdb.DuckDBPyConnection, assignment: dict[int, int]) -> None:
    """Temp table ``_fpc``: the rows of ``_fp`` of the clustered applications, from which
    :func:`cluster_traces` reads the values of this assignment or of any part of it (a run scores
    its clusters up to three times, and each scan of ``_fp`` is seconds at national scale)."""
    con.register("_assign_v", pd.DataFrame({"application_id": pd.Series(list(assignment), dtype="int64")}))
    con.execute("CREATE OR REPLACE TEMP TABLE _fpc AS SELECT fp.* FROM _fp fp SEMI JOIN _assign_v USING (application_id)")


def cluster_traces(con: duckdb.DuckDBPyConnection, assignment: dict[int, int], *, alpha: float,
                   min_firms: int) -> pd.DataFrame:
    """Values carried by more of a cluster's firms than chance allows: k of its n firms carry a
    value that f of all F firms carry, with binomial tail P(X >= k | n, f / F) below ``alpha``
    (and k >= ``min_firms``). A ghost-writer's common name on 18 of 20 members is such a value
    even though a thousand namesakes keep it from linking any one pair. Rows: cluster_id,
    application_id, firm_id, kind, grp, value, k, firms, p. Needs ``_df``/``_tot`` and the ``_fpc``
    of :func:`clustered_values` for applications including these."""
    from scipy.stats import binom

    cols = ["cluster_id", "application_id", "firm_id", "kind", "grp", "value", "k", "firms", "p"]
    if not assignment:
        return pd.DataFrame(columns=cols)
    con.register("_assign_t", pd.DataFrame({"application_id": list(assignment), "cluster_id": list(assignment.values())}))
    con.register("_groups_t", pd.DataFrame({"kind": list(GROUPS), "grp": list(GROUPS.values())}))
    # the clustered applications' values, read once
    con.execute("CREATE OR REPLACE TEMP TABLE _cf AS SELECT fp.*, s.cluster_id FROM _fpc fp JOIN _assign_t s USING (application_id)")
    c = con.execute("""
        WITH n AS (
            SELECT cluster_id, count(DISTINCT firm_id) AS n FROM _cf GROUP BY ALL
        ), k AS (
            SELECT cluster_id, kind, value, count(DISTINCT firm_id) AS k FROM _cf GROUP BY ALL HAVING k >= $min
        )
        SELECT k.cluster_id, k.kind, k.value, k.k, n.n, d.firms, t.total
        FROM k JOIN n USING (cluster_id) JOIN _df d USING (kind, value) JOIN _tot t USING (kind)
    """, {"min": min_firms}).df()
    if c.empty:
        return pd.DataFrame(columns=cols)
    c["p"] = binom.sf(c["k"] - 1, c["n"], c["firms"] / c["total"])
    c = c[c["p"] < alpha]
    con.register("_ct", c[["cluster_id", "kind", "value", "k", "firms", "p"]])
    return con.execute("""
        SELECT ct.cluster_id, cf.application_id, cf.firm_id, ct.kind, g.grp, ct.value, ct.k, ct.firms, ct.p
        FROM _ct ct JOIN _cf cf USING (cluster_id, kind, value) JOIN _groups_t g USING (kind)
    """).df()


def related_firms(con: duckdb.DuckDBPyConnection, params: LinkParams) -> pd.DataFrame:
    """Related firms (특수관계 기업): groups of 2..``related_max`` firms sharing a home (address and
    phone) or a representative (same 대표자 name and one address or phone), most often one family's
    businesses. Rows: firm_id, household (the group's smallest firm id), basis. Needs ``_fps``."""
    pairs = con.execute("""
        WITH fa AS (   -- the carriers of addresses and phones on 2..related_max firms
            SELECT DISTINCT firm_id, kind, value FROM _fps WHERE kind IN ('address', 'phone') AND firms <= $max
        ), shared AS (
            SELECT x.firm_id AS a, y.firm_id AS b, list_sort(list(DISTINCT x.kind)) AS kinds
            FROM fa x JOIN fa y USING (kind, value)
            WHERE x.firm_id < y.firm_id GROUP BY ALL
        )
        SELECT s.a, s.b, CASE WHEN len(s.kinds) = 2 THEN 'home' ELSE 'representative' END AS basis
        FROM shared s JOIN firms fa ON fa.firm_id = s.a JOIN firms fb ON fb.firm_id = s.b
        WHERE len(s.kinds) = 2 OR (fa.ceo_name IS NOT NULL AND fa.ceo_name = fb.ceo_name)
    """, {"max": params.related_max}).df()
    if pairs.empty:
        return pd.DataFrame(columns=["firm_id", "household", "basis"])
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    # groups are the connected components of the pairs (scipy: a graph object per pair in Python
    # was half a minute at national scale)
    firms = np.unique(pairs[["a", "b"]].to_numpy())
    ia, ib = np.searchsorted(firms, pairs["a"].to_numpy()), np.searchsorted(firms, pairs["b"].to_numpy())
    _, label = connected_components(coo_matrix((np.ones(ia.size), (ia, ib)), shape=(firms.size, firms.size)),
                                    directed=False)
    comp = pd.DataFrame({"firm_id": firms, "label": label})
    comp["household"] = comp.groupby("label")["firm_id"].transform("min")
    comp = comp[comp.groupby("label")["firm_id"].transform("size") <= params.related_max]
    bases = pairs.assign(label=label[ia]).groupby("label")["basis"].agg(lambda b: "+".join(sorted(set(b))))
    comp["basis"] = comp["label"].map(bases)
    return comp[["firm_id", "household", "basis"]].sort_values(["household", "firm_id"]).reset_index(drop=True)


def touching(con: duckdb.DuckDBPyConnection, apps: Iterable[int], columns: tuple[str, ...] = ("*",)) -> pd.DataFrame:
    """The links of ``_links`` with at least one end in ``apps`` (clustered applications): their
    ``columns`` (all by default; the lists of groups are the slow part of reading them)."""
    con.register("_touch", pd.DataFrame({"application_id": pd.Series(list(apps), dtype="int64")}))
    return con.execute(f"""
        SELECT {', '.join(columns)} FROM _links WHERE app_a IN (SELECT application_id FROM _touch)
                                OR app_b IN (SELECT application_id FROM _touch)
        ORDER BY app_a, app_b
    """).df()


def evidence(con: duckdb.DuckDBPyConnection, kept: pd.DataFrame, params: LinkParams) -> list[str]:
    """The stored evidence of each link of ``kept`` (app_a, app_b, plan_similarity), as JSON text:
    every shared identifier of ``_ids`` as {kind, value, firms, weight, trace}, rarest (heaviest)
    first, then the plan similarity with its level weight (:func:`plan_weight`).

    Built in DuckDB for the links that are stored only: as Python lists of dicts, serialised one by
    one, the evidence of a national run's links was gigabytes and minutes."""
    con.register("_ev_pairs", kept[["app_a", "app_b", "plan_similarity"]].reset_index(drop=True).assign(
        i=np.arange(len(kept))))
    con.register("_ev_levels", pd.DataFrame(list(params.plan_levels), columns=["level", "weight"]))
    rows = con.execute("""
        WITH ev AS (
            SELECT app_a, app_b,
                   -- each as JSON here: a lambda over the lists afterwards took twice as long
                   list(to_json({'kind': kind, 'value': value, 'firms': firms, 'weight': round(weight, 2), 'trace': trace})
                        ORDER BY weight DESC, kind, value) AS ids
            FROM _ids SEMI JOIN _ev_pairs USING (app_a, app_b) GROUP BY ALL
        ), pw AS (   -- the highest level the similarity reaches gives the weight
            SELECT p.i, arg_max(l.weight, l.level) AS w FROM _ev_pairs p JOIN _ev_levels l ON p.plan_similarity >= l.level
            GROUP BY ALL
        )
        SELECT to_json(list_concat(
                   coalesce(ev.ids, []::JSON[]),
                   CASE WHEN p.plan_similarity IS NULL OR isnan(p.plan_similarity) THEN []::JSON[]
                        ELSE [json_object('kind', 'plan', 'value', NULL, 'firms', NULL,
                                          'similarity', round(p.plan_similarity, 3), 'weight', coalesce(pw.w, 0.0))]
                   END))::VARCHAR
        FROM _ev_pairs p LEFT JOIN ev USING (app_a, app_b) LEFT JOIN pw USING (i) ORDER BY p.i
    """).fetchall()
    return [r[0] for r in rows]


def chance_within(con: duckdb.DuckDBPyConnection, params: LinkParams) -> float:
    """The chance that two random applications were submitted within ``burst_hours`` of each other
    (measured on the data, so it follows how busy the calendar is around deadlines)."""
    t = np.sort(con.execute("SELECT epoch(submitted_at) AS t FROM applications").fetchnumpy()["t"].astype(float))
    if t.size < 2:
        return 1.0
    h = params.burst_hours * 3600
    within = np.searchsorted(t, t + h, side="right") - np.searchsorted(t, t - h, side="left") - 1
    return max(float(within.mean()) / (t.size - 1), 1e-9)


def timing_weight(chance: float, params: LinkParams) -> float:
    """Match weight of two submissions within ``burst_hours``: log2(m / u), u = :func:`chance_within`."""
    return float(np.log2(params.m_prob / chance)) if chance < 1.0 else 0.0


def trace_carriers(con: duckdb.DuckDBPyConnection, *, min_firms: int, weak_kinds: tuple[str, ...] = ()) -> None:
    """Temp table ``_fpt``: the rows of ``_fp`` whose value could be a cluster's trace for
    :func:`attach_by_traces` (on at least ``min_firms`` firms, not a weak kind), with the value's
    ``firms``, from ``_fps``: ``min_firms`` is at least 2 (a value on one firm is no one's trace)."""
    if min_firms < 2:
        raise ValueError(f"a trace is a value on two firms or more, not {min_firms}")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE _fpt AS
        SELECT application_id, firm_id, kind, value, firms FROM _fps WHERE firms >= ? AND NOT list_contains(?, kind)
    """, [min_firms, list(weak_kinds)])


def attach_by_traces(con: duckdb.DuckDBPyConnection, assignment: dict[int, int], *, min_firms: int,
                     min_share: float) -> dict[int, int]:
    """Add unclustered applications that carry a *trace* of a cluster.

    A value is a cluster's trace when at least ``min_firms`` of its firms carry it and they are at
    least ``min_share`` of all firms that carry it (the broker's phone, not a carrier NAT address a
    member happens to use). A member who left only that one trace has no strong link, but belongs.
    Weak kinds (names) never attach: their other carriers are mostly namesakes.
    Needs the ``_fpt`` table of :func:`trace_carriers` (with the same ``min_firms``).
    """
    if not assignment:
        return dict(assignment)
    con.register("_assign", pd.DataFrame({"application_id": list(assignment), "cluster_id": list(assignment.values())}))
    rows = con.execute("""
        WITH traces AS (   -- a value's firms are one number: carried along, not joined from _df's millions
            SELECT fp.kind, fp.value, s.cluster_id, count(DISTINCT fp.firm_id) AS firms_in, min(fp.firms) AS firms
            FROM _fpt fp JOIN _assign s USING (application_id) GROUP BY fp.kind, fp.value, s.cluster_id
        ), t AS (
            SELECT kind, value, cluster_id, firms_in FROM traces WHERE firms_in >= ? AND firms_in >= ? * firms
        )
        SELECT fp.application_id, arg_max(t.cluster_id, t.firms_in) AS cluster_id
        FROM _fpt fp JOIN t USING (kind, value) ANTI JOIN _assign s ON s.application_id = fp.application_id
        GROUP BY ALL
    """, [min_firms, min_share]).fetchall()
    out = dict(assignment)
    out.update({int(a): int(c) for a, c in rows})
    return out


_SENTENCE_END = re.compile(r"(?<=[.!?。])\s+|\n+")


def _sentences(text: str) -> dict[str, int]:
    """A plan's sentences (whitespace normalised) -> position of their first occurrence."""
    out: dict[str, int] = {}
    for part in _SENTENCE_END.split(text or ""):
        s = " ".join(part.split())
        if s:
            out.setdefault(s, len(out))
    return out


def _order_tau(a: dict[str, int], b: dict[str, int], min_shared: int) -> float:
    """Kendall's tau between the orders two plans give their shared sentences (1.0: same order;
    nan: fewer than ``min_shared`` shared)."""
    shared = sorted(a.keys() & b.keys(), key=a.__getitem__)
    if len(shared) < max(min_shared, 2):
        return float("nan")
    pos = [b[s] for s in shared]   # a dozen sentences: plain loops beat numpy's set-up per pair
    n = len(pos)
    discordant = sum(p > q for i, p in enumerate(pos) for q in pos[i + 1:])
    return 1.0 - 4.0 * discordant / (n * (n - 1))


def reordered_copies(con: duckdb.DuckDBPyConnection, pairs: pd.DataFrame, params: LinkParams) -> pd.DataFrame:
    """The plan pairs of ``pairs`` (app_a, app_b) whose shared sentences appear in another order.

    Honest copies keep the order of what they copy: a franchisee fills the head office's plan
    with its store's details, a founder edits a published sample, a consultant's clients keep
    the form's sections. A ghost-writer selling one plan to many clients must keep an evaluator
    from recognising it, and shuffles its sentences (and swaps words) for each client: at least
    ``reorder_sentences`` shared sentences in an order with Kendall's tau below ``reorder_tau``
    are that disguise, an act of its own beside the copy. Rows: app_a, app_b, tau."""
    cols = ["app_a", "app_b", "tau"]
    if pairs.empty:
        return pd.DataFrame(columns=cols)
    apps = pd.unique(pairs[["app_a", "app_b"]].to_numpy().ravel())
    con.register("_ro_apps", pd.DataFrame({"application_id": apps.astype("int64")}))
    texts = dict(con.execute("SELECT application_id, plan_text FROM business_plans SEMI JOIN _ro_apps USING (application_id)"
                             ).fetchall())
    sent = {int(a): _sentences(t) for a, t in texts.items()}
    empty: dict[str, int] = {}
    tau = np.array([_order_tau(sent.get(int(a), empty), sent.get(int(b), empty), params.reorder_sentences)
                    for a, b in zip(pairs["app_a"].tolist(), pairs["app_b"].tolist())])
    out = pairs[["app_a", "app_b"]].assign(tau=tau)
    return out[out["tau"] < params.reorder_tau].reset_index(drop=True)
