"""The compiled inner loops of MinHash and LSH banding (numba, nogil): signatures straight from
Arrow's UTF-8 buffers, bucket keys, grouping, verification, and look-ups in a stored band index.
:mod:`analytics.brokers.minhash` holds the numpy reference they are tested against; results are
the same signatures and the same pairs with the same estimates.

Why compiled: at national scale most of the work is chance collisions in buckets of common
phrases (hundreds of millions of candidate pairs). Numpy verifies them with two gathers of a
signature row per pair (random reads across gigabytes); here a bucket's rows are read once and
all its pairs are compared while they sit in cache, and sorting packs (key hash, row) into one
integer, which ``np.sort`` orders several times faster than ``np.argsort`` orders keys.
"""
from __future__ import annotations

import numba
import numpy as np

EMPTY = np.uint32(0xFFFFFFFF)


@numba.njit(inline="always")
def _mix(x: np.uint64) -> np.uint64:
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@numba.njit(inline="always")
def _key(sig: np.ndarray, r: int, band: int, rows: int) -> tuple[np.uint64, bool]:
    """The band's key of row ``r`` (as minhash._band_key) and whether the band has no empty bin."""
    c0 = band * rows
    for c in range(c0, c0 + rows):
        if sig[r, c] == EMPTY:
            return np.uint64(0), False
    if rows == 2:
        return (np.uint64(sig[r, c0]) << np.uint64(32)) | np.uint64(sig[r, c0 + 1]), True
    k = _mix(np.uint64(band + 1))
    for c in range(c0, c0 + rows):
        k = _mix(k ^ np.uint64(sig[r, c]))
    return k, True


@numba.njit(nogil=True, cache=True)
def packed_band(sig: np.ndarray, band: int, rows: int, idx_bits: int, rest: np.ndarray) -> np.ndarray:
    """Rows with a full band as (hash of key) high bits | row index low bits, unsorted; each such
    row's low ``idx_bits`` hash bits go to ``rest[row]``. The hash is a bijection of the key
    (:func:`_mix`), so two rows of one packed hash have one key exactly when their ``rest`` is
    equal: buckets are told apart without reading the key's bins again, which at national scale
    are random reads across gigabytes for the millions of rows in shared buckets."""
    n = sig.shape[0]
    out = np.empty(n, dtype=np.uint64)
    m = 0
    low = np.uint64((1 << idx_bits) - 1)
    for r in range(n):
        k, ok = _key(sig, r, band, rows)
        if ok:
            h = _mix(k)
            out[m] = (h & ~low) | np.uint64(r)
            rest[r] = h & low
            m += 1
    return out[:m]


@numba.njit(nogil=True, cache=True)
def codes(sig: np.ndarray) -> np.ndarray:
    """Each bin's low byte, eight bins to a 64-bit word (a row's last word padded with zeros): the
    compact copy of the signatures that :func:`verify_buckets` compares first. Bins that agree
    have equal codes, so a count of equal codes can only overcount agreement, and a pair it
    rejects the signatures would reject too; only the few it passes are compared in full."""
    n, bins = sig.shape
    words = (bins + 7) // 8
    out = np.empty((n, words), dtype=np.uint64)
    for r in range(n):
        for w in range(words):
            x = np.uint64(0)
            for c in range(8 * w, min(8 * w + 8, bins)):
                x |= np.uint64(sig[r, c] & np.uint32(0xFF)) << np.uint64(8 * (c - 8 * w))
            out[r, w] = x
    return out


_HIGH7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_ONES = np.uint64(0x0101010101010101)


@numba.njit(inline="always")
def _equal_codes(ca: np.ndarray, a: int, cb: np.ndarray, b: int, lo: int, hi: int) -> int:
    """Equal bytes of rows ``ca[a]`` and ``cb[b]`` in words ``lo..hi``: a byte of ``x = a ^ b`` is zero
    exactly when adding 0x7F to its low seven bits leaves its top bit clear (no carry across bytes)."""
    c = 0
    for w in range(lo, hi):
        x = ca[a, w] ^ cb[b, w]
        nonzero = ((((x & _HIGH7) + _HIGH7) | x) >> np.uint64(7)) & _ONES
        c += 8 - int((nonzero * _ONES) >> np.uint64(56))
    return c


@numba.njit(cache=True)
def least_count(at: float, of: int) -> int:
    """The fewest agreeing bins ``c`` with ``c / of >= at`` in float64, as :func:`_similar` tests it
    (``of + 1`` when none reaches it), for the filter on codes to reject exactly what it would."""
    c = 0
    while c <= of and not c / of >= at:
        c += 1
    return c


@numba.njit(inline="always")
def _agree(sa: np.ndarray, a: int, sb: np.ndarray, b: int, lo: int, hi: int) -> int:
    c = 0
    for k in range(lo, hi):
        x = sa[a, k]
        if x == sb[b, k] and x != EMPTY:
            c += 1
    return c


@numba.njit(inline="always")
def _similar(sa: np.ndarray, a: int, sb: np.ndarray, b: int, vb: int, rough_at: float, full_at: float) -> int:
    """Agreeing bins of rows ``sa[a]`` and ``sb[b]`` if they pass minhash._verify's two stages
    (the first ``vb`` bins at ``rough_at``, all bins at ``full_at``; agreeing bins / bins compared
    in float64), else -1. Most pairs fail the first stage, so only the first ``vb`` bins are read."""
    bins = sa.shape[1]
    c = _agree(sa, a, sb, b, 0, vb)
    if not c / vb >= rough_at:
        return -1
    if vb < bins:
        c += _agree(sa, a, sb, b, vb, bins)
    return c if c / bins >= full_at else -1


@numba.njit(nogil=True, cache=True)
def verify_buckets(packed: np.ndarray, rest: np.ndarray, sig: np.ndarray, coded: np.ndarray, band: int, rows: int,
                   idx_bits: int, cap: int, owner: np.ndarray, use_owner: bool, rough_at: float, full_at: float,
                   verify_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Over the sorted ``packed`` rows of one band (and their ``rest``, :func:`packed_band`): every
    pair (i < j) in an exact bucket of 2..``cap`` rows (of different owners) whose agreement on the
    first ``verify_bins`` bins reaches ``rough_at`` and on all bins ``full_at`` (:func:`_similar`,
    minhash._verify's arithmetic); the key and size of each bucket over the cap (the index
    keeps them, so screening need not count them); and which of the ``packed`` rows lie in those
    buckets (the index keeps them apart, :func:`split_band`). Tens of millions of chance pairs a band meet
    in buckets of common phrases at national scale: their ``coded`` rows (:func:`codes`) are
    compared first, against the least counts that pass the two stages (:func:`least_count`), and
    only pairs that pass are compared on their signatures."""
    n = packed.size
    bins = sig.shape[1]
    vb = min(verify_bins, bins)
    rough_count, full_count = least_count(rough_at, vb), least_count(full_at, bins)
    rough_words = (vb + 7) // 8      # the words covering the first vb bins (and maybe a few more:
    words = coded.shape[1]           # more bins can only add agreement, never hide it)
    low = np.uint64((1 << idx_bits) - 1)
    out_i = np.empty(1024, dtype=np.int64)
    out_j = np.empty(1024, dtype=np.int64)
    m = 0
    big_keys = np.empty(16, dtype=np.uint64)
    big_sizes = np.empty(16, dtype=np.int64)
    in_big = np.zeros(n, dtype=np.bool_)
    skipped = 0
    s = 0
    while s < n:
        hi_bits = packed[s] & ~low
        e = s + 1
        while e < n and (packed[e] & ~low) == hi_bits:
            e += 1
        if e - s >= 2:
            idx = (packed[s:e] & low).astype(np.int64)
            keys = rest[idx]
            order = np.empty(0, dtype=np.int64)
            if (keys != keys[0]).any():       # one key almost always: the hash split them already
                order = np.argsort(keys, kind="mergesort")
                idx, keys = idx[order], keys[order]
            u = 0
            while u < idx.size:
                w = u + 1
                while w < idx.size and keys[w] == keys[u]:
                    w += 1
                size = w - u
                if size > cap:
                    if skipped == big_keys.size:
                        big_keys = np.concatenate((big_keys, np.empty(skipped, dtype=np.uint64)))
                        big_sizes = np.concatenate((big_sizes, np.empty(skipped, dtype=np.int64)))
                    big_keys[skipped] = _key(sig, idx[u], band, rows)[0]
                    big_sizes[skipped] = size
                    skipped += 1
                    if order.size:
                        for p in range(u, w):
                            in_big[s + order[p]] = True
                    else:
                        in_big[s + u : s + w] = True
                elif size >= 2:
                    for p in range(u, w):
                        a = idx[p]
                        for q in range(p + 1, w):
                            b = idx[q]
                            if use_owner and owner[a] == owner[b]:
                                continue
                            c = _equal_codes(coded, a, coded, b, 0, rough_words)
                            if c < rough_count or c + _equal_codes(coded, a, coded, b, rough_words, words) < full_count:
                                continue
                            if _similar(sig, a, sig, b, vb, rough_at, full_at) < 0:
                                continue
                            if m == out_i.size:
                                out_i = np.concatenate((out_i, np.empty(m, dtype=np.int64)))
                                out_j = np.concatenate((out_j, np.empty(m, dtype=np.int64)))
                            out_i[m] = min(a, b)
                            out_j[m] = max(a, b)
                            m += 1
                u = w
        s = e
    return out_i[:m], out_j[:m], big_keys[:skipped], big_sizes[:skipped], in_big


FP_BITS = 16     # most bits of a stored row's key hash kept beside its row index, in one word
MIN_FP_BITS = 8  # fewest: up to 2^24 rows, a row and its fingerprint fit 32 bits (see band_word)
SLOT_ROWS = 6    # log2 of the rows per directory slot: a query reads one slot's words


def band_word(idx_bits: int) -> tuple[int, type]:
    """(fingerprint bits, word type) of a stored band's rows: each row is one word, its key
    fingerprint above its row index. 32 bits while the fingerprint keeps MIN_FP_BITS (10 M plans:
    8 bits; the 15 rows of a slot of a band's small part, :func:`split_band`, share one with a
    look-up by chance once in 17, and the key check removes them), else 64 (FP_BITS). A day's screening reads nearly every page of every band (its
    look-ups fall everywhere), so a band's bytes are its cold time: 4 bytes a row, not 6."""
    if idx_bits + MIN_FP_BITS <= 32:
        return min(FP_BITS, 32 - idx_bits), np.uint32
    if idx_bits + FP_BITS > 64:
        raise ValueError(f"{idx_bits} row bits leave no room for a {FP_BITS}-bit key fingerprint")
    return FP_BITS, np.uint64


def slot_bits(idx_bits: int) -> int:
    """Top bits of a key's hash that choose its directory slot (about 2^SLOT_ROWS rows per slot),
    leaving the fingerprint's bits (:func:`band_word`) above the row index."""
    return max(0, min(idx_bits - SLOT_ROWS, 64 - idx_bits - band_word(idx_bits)[0]))


@numba.njit(inline="always")
def _slot_and_fp(h: np.uint64, slots: int, fp_bits: int) -> tuple[np.uint64, np.uint64]:
    """A hash's slot (its top ``slots`` bits) and fingerprint (the ``fp_bits`` below them); shifting
    by 63 - slots then 1 gives slot 0 without a shift by 64, which the hardware would take as 0 bits."""
    return ((h >> np.uint64(63 - slots)) >> np.uint64(1),
            (h >> np.uint64(64 - slots - fp_bits)) & np.uint64((1 << fp_bits) - 1))


@numba.njit(nogil=True, cache=True)
def _part_index(packed: np.ndarray, big: np.ndarray, part: bool, idx_bits: int, slots: int, fp_bits: int,
                words: np.ndarray) -> np.ndarray:
    """The words and directory of the rows whose ``big`` is ``part`` (one simple pass for each
    part: one pass writing both took twice as long)."""
    start = np.empty((1 << slots) + 1, dtype=np.int32)
    low = np.uint64((1 << idx_bits) - 1)
    filled = 0
    m = 0
    for i in range(packed.size):
        if big[i] != part:
            continue
        s, f = _slot_and_fp(packed[i], slots, fp_bits)
        while filled <= s:
            start[filled] = m
            filled += 1
        words[m] = (f << np.uint64(idx_bits)) | (packed[i] & low)
        m += 1
    start[filled:] = m
    return start


def split_band(packed: np.ndarray, big: np.ndarray, idx_bits: int,
               ) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """A band as :func:`lookup` searches it, from its sorted packed rows (:func:`band_sorted`) and
    which of them lie in buckets over the run's cap (``big``, :func:`verify_buckets`): in two
    parts, the rows of the buckets within the cap and the rows of those over it, each as (words,
    start): the rows in bucket order, each a word of its key fingerprint above its row index
    (:func:`band_word`), and per directory slot the position of its first row, and one past the
    end (int32, 2^slot_bits + 1). A query reads its slot's few words instead of binary-searching
    signature rows (each a random read of a 5 GB file at national scale, 24 of them per query per
    band). At national scale the big buckets hold 62% of a band's rows, and a day's look-ups in
    them are answered by their listed size (over the cap: no candidates) but for a few whose size
    falls under the cap (rows screened again): the part read whole is 38% of the rows, and a
    look-up's 8-bit fingerprint never meets a bucket of thousands. Compiled, one pass, no GIL:
    the job builds the 64 bands' in its LSH worker threads."""
    fp_bits, word = band_word(idx_bits)
    n_big = int(np.count_nonzero(big))
    parts = []
    for part, size in ((False, packed.size - n_big), (True, n_big)):
        words: np.ndarray = np.empty(size, dtype=word)
        parts.append((words, _part_index(packed, big, part, idx_bits, slot_bits(idx_bits), fp_bits, words)))
    return parts[0], parts[1]


def lookup(words: np.ndarray, start: np.ndarray, sig: np.ndarray, band: int, rows: int, idx_bits: int,
           queries: np.ndarray, n_new: np.ndarray, over: np.ndarray, excluded: np.ndarray, cap: int,
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """In a stored band's part (:func:`split_band`, rows of ``idx_bits``), each (distinct) query's
    candidates and whether its bucket is over ``cap`` once its ``n_new`` new rows join the stored
    rows of its exact key (leaving out ``excluded`` rows): (query index, row) pairs for the queries
    within the cap, and the over flag, exact, per query.

    Candidates are the stored rows whose key fingerprint equals the query's; a fingerprint can
    match another key, so :func:`verify_candidates` checks the key of the few pairs whose codes
    pass, and no signature row is read here: at national scale a day's candidates are 2.5 M of
    10 M stored rows, nearly every page of 5 GB of signatures. Only a query whose fingerprints
    alone would put it over the cap has its rows' keys read from ``sig`` and counted exactly (a
    few hundred of a day's queries), no further than needed. Queries known to be ``over`` (from
    the band's stored over-cap buckets: about half of a day's queries at national scale, common
    phrases) are not read at all. Queries are taken in hash order, so the band's files are read
    front to back."""
    return _lookup(words, start, sig, band, rows, idx_bits, band_word(idx_bits)[0], queries, n_new, over, excluded, cap)


@numba.njit(nogil=True, cache=True)
def _lookup(words: np.ndarray, start: np.ndarray, sig: np.ndarray, band: int, rows: int, idx_bits: int, fp_bits: int,
            queries: np.ndarray, n_new: np.ndarray, over: np.ndarray, excluded: np.ndarray, cap: int,
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    slots = 0
    while (1 << slots) < start.size - 1:
        slots += 1
    shift = np.uint64(idx_bits)
    low = np.uint64((1 << idx_bits) - 1)
    qi = np.empty(16, dtype=np.int64)
    rr = np.empty(16, dtype=np.int64)
    full = np.zeros(queries.size, dtype=np.bool_)
    hashes = np.empty(queries.size, dtype=np.uint64)
    for q in range(queries.size):
        hashes[q] = _mix(queries[q])
    m = 0
    for q in np.argsort(hashes):
        if over[q]:
            full[q] = True
            continue
        s, f = _slot_and_fp(hashes[q], slots, fp_bits)
        lo, hi = start[s], start[s + 1]
        while lo < hi:            # first row of the slot whose fingerprint is >= the query's
            mid = (lo + hi) >> 1
            if (np.uint64(words[mid]) >> shift) < f:
                lo = mid + 1
            else:
                hi = mid
        end = lo
        c = 0
        while end < start[s + 1] and (np.uint64(words[end]) >> shift) == f:
            if not excluded[int(np.uint64(words[end]) & low)]:
                c += 1
            end += 1
        exact = c + n_new[q] > cap
        if exact:                 # over by fingerprints: count the rows of its exact key
            c = 0
            for p in range(lo, end):
                r = int(np.uint64(words[p]) & low)
                if not excluded[r] and _key(sig, r, band, rows)[0] == queries[q]:
                    c += 1
                    if c + n_new[q] > cap:
                        break
            if c + n_new[q] > cap:
                full[q] = True
                continue
        while m + (end - lo) > qi.size:
            qi = np.concatenate((qi, np.empty(qi.size, dtype=np.int64)))
            rr = np.concatenate((rr, np.empty(rr.size, dtype=np.int64)))
        for p in range(lo, end):
            r = int(np.uint64(words[p]) & low)
            if not excluded[r] and (not exact or _key(sig, r, band, rows)[0] == queries[q]):
                qi[m] = q
                rr[m] = r
                m += 1
    return qi[:m], rr[:m], full


@numba.njit(nogil=True, cache=True)
def verify_candidates(sa: np.ndarray, ca: np.ndarray, a: np.ndarray, sb: np.ndarray, cb: np.ndarray, b: np.ndarray,
                      band: int, rows: int, verify_bins: int, rough_at: float, full_at: float,
                      ) -> tuple[np.ndarray, np.ndarray]:
    """The positions ``t`` of the pairs (``sa[a[t]]``, ``sb[b[t]]``) met in a band (a look-up's
    candidates, :func:`lookup`, or rows of one bucket) whose rows share the band's key and pass
    :func:`_similar`, and their estimates (agreeing bins / bins: minhash.estimate_jaccard). Their
    codes (``ca``, ``cb``: :func:`codes`) are compared first, against the least counts that pass
    (as :func:`verify_buckets` does): a quarter of the signatures' bytes, and only the few pairs
    they pass (6,000 of a day's 3 M at national scale) read a signature row, where the key is
    checked (a look-up's fingerprint can match another key) and the estimate made. Rows are read
    where they lie (``sb`` may be a memory-mapped index)."""
    bins = sa.shape[1]
    vb = min(verify_bins, bins)
    rough_count, full_count = least_count(rough_at, vb), least_count(full_at, bins)
    rough_words, words = (vb + 7) // 8, ca.shape[1]
    keep = np.empty(a.size, dtype=np.int64)
    sims = np.empty(a.size, dtype=np.float64)
    m = 0
    for t in range(a.size):
        x, y = a[t], b[t]
        c = _equal_codes(ca, x, cb, y, 0, rough_words)
        if c < rough_count or c + _equal_codes(ca, x, cb, y, rough_words, words) < full_count:
            continue
        kx, okx = _key(sa, x, band, rows)
        ky, oky = _key(sb, y, band, rows)
        if not (okx and oky and kx == ky):
            continue
        c = _similar(sa, x, sb, y, vb, rough_at, full_at)
        if c >= 0:
            keep[m] = t
            sims[m] = c / bins
            m += 1
    return keep[:m], sims[:m]


@numba.njit(nogil=True, cache=True)
def near_any(sig: np.ndarray, templates: np.ndarray, at: float, out: np.ndarray) -> None:
    """Set ``out[r]`` for each row of ``sig`` whose estimate against one of ``templates``
    (agreeing non-empty bins / bins: minhash.estimate_jaccard) reaches ``at``. One pass over the
    rows, each compared while it sits in cache: numpy made a boolean and a float copy of the
    signatures per template (seconds at national scale)."""
    bins = sig.shape[1]
    for r in range(sig.shape[0]):
        for t in range(templates.shape[0]):
            if _agree(sig, r, templates, t, 0, bins) / bins >= at:
                out[r] = True
                break


def idx_bits(n: int) -> int:
    """Low bits that hold a row index of ``n`` rows (the rest of 64 hold the key's hash)."""
    return max(1, int(n - 1).bit_length())


def band_sorted(sig: np.ndarray, band: int, rows: int, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """The band's rows with a full band, packed and sorted (np.sort releases the GIL), and the
    rest of each row's hash (:func:`packed_band`, indexed by row)."""
    rest = np.empty(sig.shape[0], dtype=np.uint32 if bits <= 32 else np.uint64)
    p = packed_band(sig, band, rows, bits, rest)
    p.sort()
    return p, rest


@numba.njit(inline="always")
def _is_space(c: np.int64) -> bool:
    """The whitespace that normalising collapses (minhash._SPACES)."""
    return bool((9 <= c <= 13) or c == 32 or c == 0xA0 or c == 0x3000)


@numba.njit(nogil=True, cache=True)
def utf8_signatures(data: np.ndarray, offsets: np.ndarray, out: np.ndarray, k: int, seed: int) -> None:
    """Densified one-permutation MinHash signatures of UTF-8 texts, written into ``out`` (rows x
    bins, filled with EMPTY): text ``d`` is ``data[offsets[d]:offsets[d + 1]]``, an Arrow string
    column's own buffers. Each text is decoded and normalised (whitespace runs to one space,
    stripped: minhash.normalise) into prefix hashes and word starts, then hashed in one pass, so
    no Python string is ever made: at national scale building them cost more than the hashing.
    The arithmetic is minhash._chunk_signatures_numpy's (the same uint32 values, wrapping as
    numpy's do). ``bins`` must be a power of two."""
    n = offsets.size - 1
    bins = out.shape[1]
    bits = 0
    while (1 << (bits + 1)) <= bins:
        bits += 1
    shift = 32 - bits
    vmask = np.uint64((1 << shift) - 1)
    m32 = np.uint64(0xFFFFFFFF)
    seed32 = np.uint64(seed) & m32
    longest = 0
    for d in range(n):
        longest = max(longest, offsets[d + 1] - offsets[d])
    starts = np.empty(longest, dtype=np.int64)   # word starts: a text has at most as many code points as bytes
    # prefix[i]: the polynomial hash of the first i code points, so a k-gram's hash is
    # seed * P^k + prefix[pos + k] - prefix[pos] * P^k (mod 2^32): two multiplications per
    # shingle instead of k (the same uint32 values as hashing the k characters one by one)
    prefix = np.empty(longest + 1, dtype=np.uint64)
    pk = np.uint64(1)
    for _ in range(k):
        pk = (pk * np.uint64(16777619)) & m32
    for d in range(n):
        m = 0
        ns = 0
        pending_space = False
        p = offsets[d]
        end = offsets[d + 1]
        prefix[0] = 0
        while p < end:
            b0 = np.int64(data[p])
            if b0 < 0x80:
                c = b0
                p += 1
            elif b0 < 0xE0:
                c = ((b0 & 0x1F) << 6) | (np.int64(data[p + 1]) & 0x3F)
                p += 2
            elif b0 < 0xF0:
                c = ((b0 & 0x0F) << 12) | ((np.int64(data[p + 1]) & 0x3F) << 6) | (np.int64(data[p + 2]) & 0x3F)
                p += 3
            else:
                c = (((b0 & 0x07) << 18) | ((np.int64(data[p + 1]) & 0x3F) << 12)
                     | ((np.int64(data[p + 2]) & 0x3F) << 6) | (np.int64(data[p + 3]) & 0x3F))
                p += 4
            if _is_space(c):
                pending_space = m > 0      # leading whitespace is dropped, a run becomes one space
            else:
                if pending_space or m == 0:
                    if pending_space:
                        prefix[m + 1] = (prefix[m] * np.uint64(16777619) + np.uint64(32)) & m32
                        m += 1
                        pending_space = False
                    starts[ns] = m
                    ns += 1
                prefix[m + 1] = (prefix[m] * np.uint64(16777619) + np.uint64(c)) & m32
                m += 1
        row = out[d]
        any_shingle = False
        for t in range(ns):
            pos = starts[t]
            if pos + k > m:
                break
            h = (prefix[pos + k] + (seed32 - prefix[pos]) * pk) & m32
            h ^= h >> np.uint64(16)
            h = (h * np.uint64(0x85EBCA6B)) & m32
            h ^= h >> np.uint64(13)
            h = (h * np.uint64(0xC2B2AE35)) & m32
            h ^= h >> np.uint64(16)
            b = int(h >> np.uint64(shift))
            v = np.uint32(h & vmask)
            if v < row[b]:
                row[b] = v
            any_shingle = True
        if any_shingle:   # densify: empty bins from the next filled bin to the right, circularly
            first = 0
            while row[first] == EMPTY:
                first += 1
            # right to left: the bin to the right is already settled, and only filled bins are
            # read (their values never change), so the row is densified in place
            nxt = first + bins
            for col in range(bins - 1, -1, -1):
                if row[col] != EMPTY:
                    nxt = col
                else:
                    dist = np.uint64(nxt - col)
                    row[col] = np.uint32((np.uint64(row[nxt & (bins - 1)]) + dist * np.uint64(0x9E3779B1)) & m32)
