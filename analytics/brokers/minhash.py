"""Near-duplicate texts at national scale: densified one-permutation MinHash + LSH banding, in numpy.

A plan is reduced to the set of its word-anchored character k-grams (the k characters from each
word start, after collapsing whitespace). Each shingle gets a 32-bit polynomial hash (murmur3
finaliser); the top bits choose one of ``bins`` bins and the rest is the value, and a plan's
signature keeps the minimum per bin (one-permutation hashing, Li, Owen & Zhang 2012), with empty
bins filled by rotation (Shrivastava & Li 2014). Two signatures agree in a bin with probability
equal to the Jaccard similarity of the shingle sets, so the share of agreeing bins estimates it.
Unlike datasketch (a Python hash call per shingle and a permutation per bin), signatures are
computed by a compiled loop over an Arrow column's UTF-8 buffers (:func:`arrow_signatures`), with
a numpy reference of the same values; memory is bounded by the chunk of plans read.

Candidate pairs come from LSH banding: plans whose signatures agree on all ``rows`` bins of a band
share a bucket. Buckets larger than ``bucket_cap`` are skipped: a bucket of many plans is a phrase
everyone writes (or a public template), not a ring, and expanding it would be all-pairs work.
Candidates are then verified on the whole signature.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

EMPTY = np.uint32(0xFFFFFFFF)  # a bin no k-gram fell into (real values use fewer bits, never this one)
_P32 = np.uint32(16777619)     # FNV prime: multiplier of the polynomial k-gram hash
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a well-distributed 64-bit hash of 64-bit integers (LSH band keys)."""
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return x ^ (x >> np.uint64(31))


def _fmix32(x: np.ndarray) -> np.ndarray:
    """murmur3's 32-bit finaliser, in place: k-gram hashes stay 32-bit to halve memory traffic."""
    x ^= x >> np.uint32(16)
    x *= np.uint32(0x85EBCA6B)
    x ^= x >> np.uint32(13)
    x *= np.uint32(0xC2B2AE35)
    x ^= x >> np.uint32(16)
    return x


_SPACES = " \t\n\r\f\v\u00a0\u3000"
_SPACE_RE = re.compile(f"[{_SPACES}]+")
# substrings that only occur in text that normalising would change
_IRREGULAR = ("  ", "\x01 ", " \x01", *(c for c in _SPACES if c != " "))


def normalise(text: str) -> str:
    """The form that is shingled: whitespace runs collapsed to one space and stripped, so re-wrapping
    a copied plan changes nothing (reference for :func:`_chunk_hashes`, which does it vectorised)."""
    return _SPACE_RE.sub(" ", text).strip()


def _normalised_codes(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Code points of all texts normalised as :func:`normalise` does, and each text's new length.

    Texts are joined with a separator (U+0001) so that "inside the same text" is a look at the
    neighbouring code point instead of a per-character text index.
    """
    joined = "\x01".join(texts) + "\x01"
    if not joined.startswith(" ") and not any(x in joined for x in _IRREGULAR):  # already normal: fast path
        lengths = np.fromiter((len(t) for t in texts), dtype=np.int64, count=len(texts))
        return np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32), lengths
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).copy()
    sep = codes == 1
    space = ((codes >= 9) & (codes <= 13)) | (codes == 32) | (codes == 0xA0) | (codes == 0x3000)
    codes[space] = 32
    n = codes.size
    after_sep_or_space = np.ones(n, dtype=bool)   # position 0 opens the first text
    after_sep_or_space[1:] = sep[:-1] | space[:-1]
    # next non-space code point at or after each position: a separator when the run ends the text
    idx = np.where(space, n - 1, np.arange(n))
    next_char = np.minimum.accumulate(idx[::-1])[::-1]
    keep = ~space | (~after_sep_or_space & ~sep[next_char])
    kept = np.cumsum(keep)
    sep_at = np.flatnonzero(sep)
    lengths = np.diff(np.concatenate(([0], kept[sep_at]))) - 1   # minus the separator itself
    keep &= ~sep
    return codes[keep], lengths.astype(np.int64)


def shingles(text: str, k: int = 9) -> set[str]:
    """The shingle set of one text: the k characters from the start of every word (reference
    implementation for evidence views and tests; :func:`signatures` hashes exactly these)."""
    t = normalise(text)
    return {t[i : i + k] for i in range(len(t) - k + 1) if i == 0 or t[i - 1] == " "}


def exact_jaccard(a: str, b: str, k: int = 9) -> float:
    """Exact Jaccard similarity of two texts' shingle sets."""
    sa, sb = shingles(a, k), shingles(b, k)
    return len(sa & sb) / len(sa | sb) if sa or sb else 0.0


def _chunk_hashes(texts: Sequence[str], k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """32-bit hashes of the word-anchored k-grams of every text (normalised here), with the text's index.

    Anchoring k-grams at word starts keeps a quarter of the positions of plain character k-grams
    (Korean words are short) while a copied sentence still shares all of its shingles; it also
    makes shingles span word boundaries, which is what separates copies from shared phrases.
    """
    codes, lengths = _normalised_codes(texts)
    ends = np.cumsum(lengths)
    doc_start = ends - lengths
    is_start = np.zeros(codes.size, dtype=bool)
    is_start[1:] = codes[:-1] == 32
    is_start[doc_start[lengths > 0]] = True
    pos = np.flatnonzero(is_start)
    doc = np.searchsorted(ends, pos, side="right")
    keep = pos + k <= ends[doc]
    pos, doc = pos[keep], doc[keep]
    h = np.full(pos.size, np.uint32(seed & 0xFFFFFFFF), dtype=np.uint32)
    for j in range(k):
        h *= _P32
        h += codes[pos + j]
    return _fmix32(h), doc


def _densify(sig: np.ndarray) -> np.ndarray:
    """Fill empty bins from the next non-empty bin to the right, circularly (Shrivastava & Li 2014
    rotation), so that two texts agree on a bin with probability equal to their Jaccard similarity
    even when they have fewer shingles than bins. Rows without any shingle stay EMPTY."""
    n, b = sig.shape
    filled = sig != EMPTY
    if filled.all():
        return sig
    idx = np.where(np.concatenate([filled, filled], axis=1), np.arange(2 * b), 2 * b)
    nxt = np.minimum.accumulate(idx[:, ::-1], axis=1)[:, ::-1][:, :b]
    dist = (nxt - np.arange(b)).astype(np.uint32)
    out = sig[np.arange(n)[:, None], nxt % b] + dist * np.uint32(0x9E3779B1)
    out[~filled.any(axis=1)] = EMPTY
    return np.where(filled, sig, out)


def _chunk_signatures_numpy(texts: Sequence[str], bins: int, k: int, seed: int) -> np.ndarray:
    """The numpy reference of :func:`arrow_signatures` (the same values)."""
    h, doc = _chunk_hashes(texts, k, seed)
    bits = bins.bit_length() - 1
    out = np.full(len(texts) * bins, EMPTY, dtype=np.uint32)
    # top bits choose the bin, the remaining 32 - bits bits are the value kept as a minimum
    np.minimum.at(out, doc * bins + (h >> np.uint32(32 - bits)).astype(np.int64), h & np.uint32((1 << (32 - bits)) - 1))
    return _densify(out.reshape(len(texts), bins))


def arrow_signatures(texts: pa.Array | pa.ChunkedArray, *, bins: int = 64, k: int = 9, seed: int = 0,
                     workers: int = 2, out: np.ndarray | None = None) -> np.ndarray:
    """Densified one-permutation MinHash signatures of an Arrow string column, shape (len, bins), uint32.

    The compiled loop (:func:`analytics.brokers.lsh.utf8_signatures`) reads the column's UTF-8
    buffers directly, in ``workers`` threads over contiguous row ranges (it releases the GIL).
    ``out`` (rows x bins, uint32) receives them in place. A text without any shingle (or null)
    gets an all-EMPTY row.
    """
    from analytics.brokers import lsh

    if bins & (bins - 1) or not 2 <= bins <= 1024:
        raise ValueError("bins must be a power of two between 2 and 1024")
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    if texts.null_count:
        texts = pc.fill_null(texts, "")
    if not (pa.types.is_string(texts.type) or pa.types.is_large_string(texts.type)):
        texts = texts.cast(pa.large_string())
    n = len(texts)
    if out is None:
        out = np.empty((n, bins), dtype=np.uint32)
    out.fill(EMPTY)
    if n == 0:
        return out
    _, off_buf, data_buf = texts.buffers()
    width = np.int64 if pa.types.is_large_string(texts.type) else np.int32
    offsets = np.frombuffer(off_buf, dtype=width)[texts.offset : texts.offset + n + 1].astype(np.int64)
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(1, dtype=np.uint8)
    # threads pay off on thousands of texts, not on a template or two (and not on tiny chunks)
    workers = max(1, min(workers, n // 1_000))
    cuts = np.linspace(0, n, workers + 1).astype(int)
    if workers == 1:
        lsh.utf8_signatures(data, offsets, out, k, seed)
        return out
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda lh: lsh.utf8_signatures(data, offsets[lh[0] : lh[1] + 1], out[lh[0] : lh[1]], k, seed),
                      zip(cuts[:-1], cuts[1:])))
    return out


def signatures(texts: Sequence[str], *, bins: int = 64, k: int = 9, seed: int = 0, workers: int = 2) -> np.ndarray:
    """:func:`arrow_signatures` of Python strings."""
    return arrow_signatures(pa.array(texts, type=pa.large_string()), bins=bins, k=k, seed=seed, workers=workers)


def estimate_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> np.ndarray:
    """Row-wise Jaccard estimates of two signature arrays of equal shape (0 for empty texts)."""
    a, b = np.atleast_2d(sig_a), np.atleast_2d(sig_b)
    return ((a == b) & (a != EMPTY)).mean(axis=1)


def _band_key(sig: np.ndarray, band: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """(n,) uint64 bucket keys of one band and whether the band has no empty bin (only such bands
    ever match). With two rows the key is the two minima side by side (exact: equal keys are equal
    bands); with other row counts a splitmix64 chain over them (collisions at 2^-64).
    One band at a time: all bands at once would be 8 bytes x bands per text (5 GB at 10 M texts)."""
    block = sig[:, band * rows : (band + 1) * rows]
    valid = ~(block == EMPTY).any(axis=1)
    if rows == 2:
        key = (block[:, 0].astype(np.uint64) << np.uint64(32)) | block[:, 1].astype(np.uint64)
    else:
        key = np.full(sig.shape[0], _mix(np.array([band + 1], dtype=np.uint64))[0], dtype=np.uint64)
        for r in range(rows):
            key = _mix(key ^ block[:, r].astype(np.uint64))
    return key, valid


def _pairs_in_runs(order: np.ndarray, run_start: np.ndarray, run_len: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All index pairs (i, j), i < j, within each run of ``order``; vectorised per run length."""
    out_a, out_b = [], []
    for length in np.flatnonzero(np.bincount(run_len)):  # bincount: np.unique hashes, 100x slower here
        starts = run_start[run_len == length]
        ia, ib = np.triu_indices(int(length), k=1)
        a = order[starts[:, None] + ia[None, :]].ravel()
        b = order[starts[:, None] + ib[None, :]].ravel()
        out_a.append(np.minimum(a, b))
        out_b.append(np.maximum(a, b))
    if not out_a:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(out_a), np.concatenate(out_b)


def _band_pairs(sig: np.ndarray, rows: int, bucket_cap: int, owner: np.ndarray | None,
                ) -> Iterator[tuple[np.ndarray, np.ndarray, int]]:
    """Per LSH band: the pairs (i < j) sharing one of its buckets of at most ``bucket_cap`` texts,
    and how many over-full buckets it skipped. With ``owner``, pairs of one owner are dropped.
    (The numpy reference of :func:`similar_pairs`, which does the same in compiled code.)"""
    bins = sig.shape[1]
    for band in range(bins // rows):
        col, valid_row = _band_key(sig, band, rows)
        rows_in = np.flatnonzero(valid_row)
        col = col[rows_in]
        order = rows_in[np.argsort(col, kind="stable")]
        sorted_keys = np.sort(col)
        del col
        m = sorted_keys.size
        boundary = np.flatnonzero(np.diff(sorted_keys)) + 1
        run_start = np.concatenate(([0], boundary)) if m else np.empty(0, np.int64)
        run_len = np.diff(np.concatenate((run_start, [m])))
        valid = run_len >= 2
        keep = valid & (run_len <= bucket_cap)
        a, b = _pairs_in_runs(order, run_start[keep], run_len[keep])
        if owner is not None:
            other = owner[a] != owner[b]
            a, b = a[other], b[other]
        yield a, b, int((valid & (run_len > bucket_cap)).sum())


def _union(i: list[np.ndarray], j: list[np.ndarray], n: int) -> tuple[np.ndarray, np.ndarray]:
    keys = np.concatenate([np.empty(0, np.int64), *(a * np.int64(n) + b for a, b in zip(i, j))])
    keys.sort()
    keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if keys.size else keys
    return keys // n, keys % n


def lsh_candidates(sig: np.ndarray, *, rows: int = 4, bucket_cap: int = 40, owner: np.ndarray | None = None,
                   ) -> tuple[np.ndarray, np.ndarray, int]:
    """Candidate pairs (i < j, unique) that share at least one LSH bucket of at most ``bucket_cap``
    texts; (i, j, skipped) where ``skipped`` counts the over-full buckets left out. All candidates
    at once: the reference for :func:`similar_pairs`, which verifies them band by band."""
    if sig.shape[0] < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64), 0
    bands = list(_band_pairs(sig, rows, bucket_cap, owner))
    i, j = _union([a for a, _, _ in bands], [b for _, b, _ in bands], sig.shape[0])
    return i, j, sum(k for _, _, k in bands)


def _verify(sig: np.ndarray, i: np.ndarray, j: np.ndarray, threshold: float, verify_bins: int, batch: int,
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The pairs whose estimated Jaccard reaches ``threshold``, with it. Two stages: the first
    ``verify_bins`` bins screen out most candidates cheaply (the gathers are most of the cost),
    the whole signature decides for the rest."""
    rough = np.empty(i.size, dtype=np.float64)
    for lo in range(0, i.size, batch):
        rough[lo : lo + batch] = estimate_jaccard(sig[i[lo : lo + batch], :verify_bins], sig[j[lo : lo + batch], :verify_bins])
    near = rough >= threshold * 0.6
    i, j, sims = i[near], j[near], rough[near]
    if verify_bins < sig.shape[1]:
        for lo in range(0, i.size, batch):
            sims[lo : lo + batch] = estimate_jaccard(sig[i[lo : lo + batch]], sig[j[lo : lo + batch]])
    keep = sims >= threshold
    return i[keep], j[keep], sims[keep]


def similar_pairs(
    sig: np.ndarray, *, threshold: float, rows: int = 4, bucket_cap: int = 40, batch: int = 200_000,
    owner: np.ndarray | None = None, verify_bins: int = 64, workers: int = 2,
    keep_band: Callable[[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray], None] | None = None,
    coded: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """LSH candidates verified on the whole signature: (i < j unique, estimated Jaccard, skipped buckets).

    Candidates are verified band by band and only the similar pairs are kept: almost all
    candidates are chance collisions in one band, and holding them all until the union would be
    16 bytes each (hundreds of millions at 10 M texts). A pair found in several bands is verified
    each time, with the same result, so this equals verifying :func:`lsh_candidates` (two stages:
    the first ``verify_bins`` bins at 0.6 x ``threshold``, then all bins at ``threshold``).
    With ``owner`` (e.g. the firm of each text), pairs of one owner are dropped before verifying:
    a firm re-using its own plan is not evidence, and such pairs are most of the candidates.

    The loops run compiled (:mod:`analytics.brokers.lsh`), ``workers`` bands at a time.
    ``keep_band(band, packed, big, over_keys, over_sizes)`` receives each band's sorted packed rows
    (:func:`lsh.band_sorted`), which of them are in buckets over the cap, and those buckets' keys and sizes, from which the
    index that screening searches is built (:mod:`analytics.brokers.index`); ``coded``: the
    signatures' :func:`lsh.codes` when the caller keeps them too (made here otherwise). The final
    estimates are gathered ``batch`` pairs at a time.
    """
    from analytics.brokers import lsh

    n = sig.shape[0]
    if n < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0), 0
    sig = np.ascontiguousarray(sig)
    bits = lsh.idx_bits(n)
    own = np.zeros(n, dtype=np.int64) if owner is None else np.ascontiguousarray(owner, dtype=np.int64)

    coded = lsh.codes(sig) if coded is None else coded

    def band_pairs(band: int) -> tuple[np.ndarray, np.ndarray, int]:
        packed, rest = lsh.band_sorted(sig, band, rows, bits)
        i, j, over_keys, over_sizes, big = lsh.verify_buckets(packed, rest, sig, coded, band, rows, bits, bucket_cap, own,
                                                         owner is not None, threshold * 0.6, threshold, verify_bins)
        if keep_band is not None:
            keep_band(band, packed, big, over_keys, over_sizes)
        return i, j, over_keys.size

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        found = list(pool.map(band_pairs, range(sig.shape[1] // rows)))
    i, j = _union([a for a, _, _ in found], [b for _, b, _ in found], n)
    skipped = sum(k for _, _, k in found)
    sims = np.empty(i.size)
    for lo in range(0, i.size, batch):   # in batches: two gathers of bins x 4 bytes per pair (4 GB at 4 M pairs)
        sims[lo : lo + batch] = estimate_jaccard(sig[i[lo : lo + batch]], sig[j[lo : lo + batch]])
    return i, j, sims, skipped
