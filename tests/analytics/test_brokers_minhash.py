"""MinHash signatures and LSH against exact computations on seeded random texts."""
from __future__ import annotations

import itertools

import numpy as np
import pyarrow as pa
import pytest

from analytics.brokers import minhash

WORDS = ["사업", "개요", "기술", "제품", "시장", "분석", "추진", "계획", "기대", "효과", "매출", "고용", "지역", "혁신",
         "플랫폼", "데이터", "고객", "판로", "인증", "시제품", "확보", "개발", "성장", "투자"]


def _texts(n: int, seed: int) -> list[str]:
    """Random word texts plus edited copies, so similarities cover 0..1."""
    rng = np.random.default_rng(seed)
    base = [" ".join(rng.choice(WORDS, 60)) for _ in range(n)]
    out = []
    for t in base:
        words = t.split()
        keep = rng.random(len(words)) < rng.uniform(0.3, 1.0)
        out.append(" ".join(w if k else str(rng.choice(WORDS)) for w, k in zip(words, keep)))
    return base + out


def test_shingles_are_word_anchored() -> None:
    assert minhash.shingles("ab  cd ef", 4) == {"ab c", "cd e"}
    assert minhash.shingles("abc", 4) == set()
    assert minhash.exact_jaccard("가나다라 마바사", "가나다라 마바사", 3) == 1.0


def test_hashes_one_per_shingle_occurrence() -> None:
    texts = ["가나다라 마바사 아자차", "", "ab", " ".join(["같은말"] * 5)]
    h, doc = minhash._chunk_hashes([minhash.normalise(t) for t in texts], 3, 0)
    for i, t in enumerate(texts):
        t = minhash.normalise(t)
        starts = [j for j in range(len(t) - 2) if j == 0 or t[j - 1] == " "]
        assert (doc == i).sum() == len(starts)
        assert len(set(h[doc == i].tolist())) == len(minhash.shingles(t, 3))


@pytest.mark.parametrize("seed", [1, 2])
def test_estimates_track_exact_jaccard(seed: int) -> None:
    texts = _texts(150, seed)
    sig = minhash.signatures(texts, bins=128, k=6, seed=seed)
    n = len(texts) // 2
    est = minhash.estimate_jaccard(sig[:n], sig[n:])
    exact = np.array([minhash.exact_jaccard(texts[i], texts[n + i], 6) for i in range(n)])
    assert abs(float((est - exact).mean())) < 0.03          # unbiased
    assert float(np.abs(est - exact).mean()) < 0.06         # ~ sqrt(J(1-J)/128)
    assert np.corrcoef(est, exact)[0, 1] > 0.9


def test_densified_signature_handles_short_and_empty_texts() -> None:
    sig = minhash.signatures(["가나다라마바 사아자차카", "", "가나다라마바 사아자차카"], bins=64, k=4)
    assert (sig[1] == minhash.EMPTY).all()
    assert not (sig[0] == minhash.EMPTY).any()            # 2 shingles fill all 64 bins after densifying
    assert minhash.estimate_jaccard(sig[0], sig[2])[0] == 1.0
    assert minhash.estimate_jaccard(sig[0], sig[1])[0] == 0.0


def test_pairs_in_runs_matches_itertools() -> None:
    order = np.array([5, 3, 9, 1, 7, 2, 8])
    starts, lengths = np.array([0, 3]), np.array([3, 4])
    a, b = minhash._pairs_in_runs(order, starts, lengths)
    got = set(zip(a.tolist(), b.tolist()))
    want = {tuple(sorted(p)) for s, n in zip(starts, lengths) for p in itertools.combinations(order[s : s + n].tolist(), 2)}
    assert got == want


def test_lsh_finds_near_duplicates_and_respects_bucket_cap() -> None:
    texts = _texts(200, 3)
    sig = minhash.signatures(texts, bins=64, k=6)
    i, j, sims, _ = minhash.similar_pairs(sig, threshold=0.5, rows=3, bucket_cap=40)
    assert (i < j).all() and len(set(zip(i.tolist(), j.tolist()))) == i.size
    found = set(zip(i.tolist(), j.tolist()))
    n = len(texts) // 2
    high = [(k, n + k) for k in range(n) if minhash.exact_jaccard(texts[k], texts[n + k], 6) >= 0.8]
    assert high and sum(p in found for p in high) / len(high) >= 0.9
    # identical texts beyond the cap share every bucket: all buckets are skipped, no pairs
    same = minhash.signatures(["가나다라마바 사아자차카"] * 50, bins=64, k=4)
    ci, cj, skipped = minhash.lsh_candidates(same, rows=4, bucket_cap=40)
    assert ci.size == 0 and skipped == 16


def test_owner_filter_per_band_matches_filtering_afterwards() -> None:
    """Oracle: dropping one owner's pairs band by band gives what dropping them from all candidates does."""
    texts = _texts(200, 5)
    sig = minhash.signatures(texts, bins=64, k=6)
    owner = np.random.default_rng(1).integers(0, 40, len(texts))
    i, j, _ = minhash.lsh_candidates(sig, rows=3, bucket_cap=40)
    oi, oj, _ = minhash.lsh_candidates(sig, rows=3, bucket_cap=40, owner=owner)
    other = owner[i] != owner[j]
    assert other.sum() < i.size
    assert set(zip(oi.tolist(), oj.tolist())) == set(zip(i[other].tolist(), j[other].tolist()))


def test_vectorised_normalisation_matches_reference() -> None:
    texts = ["  가나  다라\t마바\n", "", "   ", "a", " b  c ", "x\u3000\u3000y", "끝 "]
    codes, lengths = minhash._normalised_codes(texts)
    flat = codes.astype("<u4").tobytes().decode("utf-32-le")
    got, pos = [], 0
    for n in lengths:
        got.append(flat[pos : pos + n])
        pos += n
    assert got == [minhash.normalise(t) for t in texts]


@pytest.mark.parametrize(("verify_bins", "alike_codes"), [(16, False), (16, True), (12, False)])
def test_verifying_band_by_band_equals_verifying_all_candidates(verify_bins: int, alike_codes: bool) -> None:
    """Oracle: similar_pairs (verifies each band's candidates) = all candidates verified at once,
    with the same two-stage screen (``verify_bins`` at 0.6 x threshold, then all 64). With
    ``alike_codes`` every bin has the same low byte, so every pair passes the first comparison on
    codes (lsh.codes): what is kept must still be decided on the signatures; 12 bins end inside
    a code word."""
    texts = _texts(300, 7)
    sig = minhash.signatures(texts, bins=64, k=6)
    if alike_codes:
        sig = np.where(sig == minhash.EMPTY, sig, (sig & np.uint32(0xFFFFFF00)) | np.uint32(7))
    owner = np.random.default_rng(2).integers(0, 60, len(texts))
    ci, cj, skipped = minhash.lsh_candidates(sig, rows=2, bucket_cap=10, owner=owner)
    rough = minhash.estimate_jaccard(sig[ci, :verify_bins], sig[cj, :verify_bins])
    sims = minhash.estimate_jaccard(sig[ci], sig[cj])
    want = {(a, b): s for a, b, r, s in zip(ci.tolist(), cj.tolist(), rough.tolist(), sims.tolist())
            if r >= 0.18 and s >= 0.3}
    i, j, got_sims, got_skipped = minhash.similar_pairs(sig, threshold=0.3, rows=2, bucket_cap=10, owner=owner,
                                                        verify_bins=verify_bins)
    assert len(want) > 20 and got_skipped == skipped and len(ci) > 2 * len(want)
    assert dict(zip(zip(i.tolist(), j.tolist()), got_sims.tolist())) == want


def test_codes_count_equal_low_bytes() -> None:
    """Oracle: numpy's count of equal low bytes, 8 bins a word (a 13-bin row ends in padding)."""
    from analytics.brokers import lsh

    rng = np.random.default_rng(3)
    sig = rng.integers(0, 2**32, (50, 13), dtype=np.uint32)
    sig[rng.random(sig.shape) < 0.5] = np.uint32(0x1234_5607)
    coded = lsh.codes(sig)
    low = (sig & 0xFF).astype(np.uint8)
    other = coded[::-1].copy()   # rows of a second array (a day's plans against the stored ones)
    for a, b in itertools.combinations(range(50), 2):
        assert lsh._equal_codes(coded, a, coded, b, 0, 1) == int((low[a, :8] == low[b, :8]).sum())
        assert lsh._equal_codes(coded, a, coded, b, 0, 2) == int((low[a] == low[b]).sum()) + 3
        assert lsh._equal_codes(coded, a, other, 49 - b, 0, 2) == int((low[a] == low[b]).sum()) + 3
    assert [lsh.least_count(0.3, 10), lsh.least_count(0.15, 128), lsh.least_count(2.0, 4)] == [3, 20, 5]


@pytest.mark.parametrize(("bins", "k"), [(128, 12), (64, 6), (16, 3)])
def test_compiled_signatures_equal_the_numpy_reference(bins: int, k: int) -> None:
    texts = _texts(300, 11) + ["", " ", "짧다", "가 나 다 라 마 바 사 아 자 차 카 타 파 하", "  a  b\tc  ", "x" * 5,
             "😀😀 이모지\u3000\u3000 끝 𝄞𝄞𝄞𝄞", "a\xa0\xa0bb\r\ncc\fdd\u3000"]
    want = minhash._chunk_signatures_numpy(texts, bins, k, 3)
    assert np.array_equal(minhash.signatures(texts, bins=bins, k=k, seed=3), want)
    # read from an Arrow column as the job reads plans: a sliced chunk (offset into shared buffers),
    # 32-bit offsets, nulls as empty texts, several threads
    col = pa.array(["앞"] * 7 + texts + [None], type=pa.string()).slice(7)
    copies = minhash.arrow_signatures(pa.concat_arrays([col] * 10), bins=bins, k=k, seed=3, workers=3)
    for got in np.split(copies, 10):   # 3 threads over 6,000 texts: row ranges cut inside copies
        assert np.array_equal(got[:-1], want) and (got[-1] == minhash.EMPTY).all()


@pytest.mark.parametrize("bits", [None, 24, 40, 48])
def test_band_lookup_equals_a_scan_of_the_keys(bits: int | None) -> None:
    """Oracle: the stored rows of each query's exact key, found by comparing every row's key.
    Keys from few values make shared and over-cap buckets; empty bins leave rows out of a band;
    ``bits`` wider than the rows need: 24 stores each row as a 32-bit word with an 8-bit
    fingerprint, 40 as a 64-bit word; 48 leaves few hash bits (16, every fingerprint a whole
    hash), so different keys share a fingerprint: the look-up's candidates then hold rows of
    other keys, which checking the key (``verify_candidates`` at threshold 0) removes, and a
    bucket near the cap must be counted on its keys. The band's over-cap buckets are kept at a
    smaller cap (the run's, with fewer plans) than the look-up's, so some of them must still be
    read (from the band's part of big buckets, lsh.split_band); excluded rows take some under the
    cap, and new rows put some over it."""
    from analytics.brokers import lsh, screen

    rng = np.random.default_rng(5)
    n, rows, cap, run_cap = 4000, 2, 6, 4
    values = rng.choice([2**31, 20, 7], (n, 1), p=[0.5, 0.2, 0.3])   # per row: unique, shared or common keys
    sig = (rng.random((n, 16)) * values).astype(np.uint32)
    sig[rng.random(sig.shape) < 0.05] = minhash.EMPTY
    coded = lsh.codes(sig)
    excluded = rng.random(n) < 0.1
    bits = bits or lsh.idx_bits(n)
    owner = np.arange(n)
    for band in range(4):
        keys, valid = minhash._band_key(sig, band, rows)
        queries = np.unique(np.concatenate([keys[valid][:1500], rng.integers(0, 2**63, 200).astype(np.uint64),
                                            np.arange(50, dtype=np.uint64)]))
        # a query stands for the new rows of its key: one key of a query row's band, the other keys none or a few
        rep = np.flatnonzero(valid)[:1500]
        n_new = rng.choice([0, 1, 3], queries.size, p=[0.5, 0.3, 0.2])
        packed, rest = lsh.band_sorted(sig, band, rows, bits)
        _, _, over_keys, over_sizes, big_rows = lsh.verify_buckets(packed, rest, sig, coded, band, rows, bits, run_cap,
                                                         owner, False, 1.0, 1.0, 16)
        all_keys, all_sizes = np.unique(keys[valid], return_counts=True)
        by_key = np.argsort(over_keys)
        over_keys, over_sizes = over_keys[by_key], over_sizes[by_key]
        assert over_keys.tolist() == all_keys[all_sizes > run_cap].tolist()
        assert over_sizes.tolist() == all_sizes[all_sizes > run_cap].tolist()
        listed, over = screen._over_cap(queries, over_keys, over_sizes, sig[excluded], band, rows, cap)
        assert big_rows.tolist() == np.isin((packed & np.uint64((1 << bits) - 1)).astype(np.int64),
                                            np.flatnonzero(np.isin(keys, over_keys))).tolist()
        small, big = lsh.split_band(packed, big_rows, bits)
        for (words, _), rows_of_part in ((small, valid & ~np.isin(keys, over_keys)), (big, np.isin(keys, over_keys))):
            part = np.zeros(n, dtype=bool)
            part[(words.astype(np.uint64) & np.uint64((1 << bits) - 1)).astype(np.int64)] = True
            assert part.tolist() == (valid & rows_of_part).tolist() and words.size == part.sum()
        qi, rr, full = screen._band_lookup(small, big, sig, band, rows, bits, queries, n_new, listed, over, excluded, cap)
        want_pairs, want_full = set(), []
        for q, key in enumerate(queries.tolist()):
            members = np.flatnonzero(valid & (keys == key) & ~excluded)
            want_full.append(members.size + n_new[q] > cap)
            if not want_full[-1]:
                want_pairs |= {(q, int(r)) for r in members}
            assert over[q] <= (members.size > cap)
        assert full.tolist() == want_full
        got = set(zip(qi.tolist(), rr.tolist()))
        assert got >= want_pairs and len(qi) == len(got)
        assert not any(want_full[q] for q, _ in got - want_pairs)
        # the query side of a pair: a row of the query's key (any, for the key check)
        row_of = dict(zip(keys[rep].tolist(), rep.tolist()))
        mine = np.array([q for q in qi if int(queries[q]) in row_of], dtype=np.int64)
        theirs = np.array([r for q, r in zip(qi, rr) if int(queries[q]) in row_of], dtype=np.int64)
        as_row = np.array([row_of[int(queries[q])] for q in mine], dtype=np.int64)
        keep, _ = lsh.verify_candidates(sig, coded, as_row, sig, coded, theirs, band, rows, 16, 0.0, 0.0)
        assert {(int(q), int(r)) for q, r in zip(mine[keep], theirs[keep])} == \
            {(q, r) for q, r in want_pairs if int(queries[q]) in row_of}
        assert any(f and n_new[q] for q, f in enumerate(want_full) if not over[q])   # new rows put one over
        assert (~np.array(want_full)).any()
        assert listed.tolist() == np.isin(queries, over_keys).tolist()
        assert over.any() and (listed & ~over).any()     # some listed buckets are read after all (the big part)
        if bits == 48:   # fingerprints shared by different keys: candidates the key check drops
            assert len(got - want_pairs) > 0


def test_verifying_candidates_equals_the_key_and_two_stage_estimate() -> None:
    """Oracle: a candidate of a band look-up is kept when its rows share the band's key and
    minhash.estimate_jaccard passes both stages; pairs of one bucket and random pairs, so that
    some pass the estimate with another key, and the codes' filter drops no pair that passes."""
    from analytics.brokers import lsh

    sig = minhash.signatures(_texts(200, 3), bins=64, k=6)
    new, stored = sig[:250], sig
    rng = np.random.default_rng(6)
    band, rows = 3, 2
    keys, valid = minhash._band_key(sig, band, rows)
    ii, jj = (x.ravel() for x in np.meshgrid(np.arange(250), np.arange(sig.shape[0]), indexing="ij"))
    same = valid[ii] & valid[jj] & (keys[ii] == keys[jj])
    alike = ~same & (minhash.estimate_jaccard(new[ii], stored[jj]) >= 0.3)   # similar, another key in this band
    a = np.concatenate([ii[same], ii[alike][:300], rng.integers(0, 250, 3000)]).astype(np.int64)
    b = np.concatenate([jj[same], jj[alike][:300], rng.integers(0, 400, 3000)]).astype(np.int64)
    rough = minhash.estimate_jaccard(new[a, :16], stored[b, :16])
    sims = minhash.estimate_jaccard(new[a], stored[b])
    keyed = valid[a] & valid[b] & (keys[a] == keys[b])
    passes = (rough >= 0.3 * 0.6) & (sims >= 0.3)
    want = np.flatnonzero(passes & keyed)
    keep, got = lsh.verify_candidates(new, lsh.codes(new), a, stored, lsh.codes(stored), b, band, rows, 16, 0.3 * 0.6, 0.3)
    assert 20 < want.size < a.size / 2 and (passes & ~keyed).any()
    assert keep.tolist() == want.tolist() and got.tolist() == sims[want].tolist()


@pytest.mark.parametrize("at", [0.375, 0.5])   # 24 and 32 of 64 bins: exact ties
def test_template_copies_equal_numpys_estimate_against_each_template(at: float) -> None:
    """Oracle: minhash.estimate_jaccard of every row against every template, any at or over the
    threshold; rows made to agree on exactly the threshold's share of bins (ties), empty rows, and
    empty bins that agree (they never count)."""
    from analytics.brokers import links

    rng = np.random.default_rng(5)
    bins = 64
    templates = rng.integers(0, 1 << 32, (3, bins), dtype=np.uint64).astype(np.uint32)
    sig = rng.integers(0, 1 << 32, (3000, bins), dtype=np.uint64).astype(np.uint32)
    for r in range(3000):       # each row agrees with one template on a random number of bins around the threshold
        t, c = r % 3, int(rng.integers(int(at * bins) - 3, int(at * bins) + 4))
        cols = rng.choice(bins, c, replace=False)
        sig[r, cols] = templates[t, cols]
    sig[::7, :8] = minhash.EMPTY        # empty bins: equal to an empty template bin, never counted
    templates[1, :8] = minhash.EMPTY
    sig[::11] = minhash.EMPTY           # rows without shingles
    want = np.zeros(len(sig), dtype=bool)
    for t in templates:
        want |= minhash.estimate_jaccard(sig, np.broadcast_to(t, sig.shape)) >= at
    got = links.template_copies(sig, templates, links.LinkParams(template_threshold=at))
    assert 0.2 < want.mean() < 0.8 and np.array_equal(got, want)
    ties = np.array([minhash.estimate_jaccard(s, templates[i % 3])[0] == at for i, s in enumerate(sig)])
    assert ties.sum() > 100      # rows exactly at the threshold are compared
    assert not links.template_copies(sig, np.empty((0, bins), dtype=np.uint32), links.LinkParams()).any()
