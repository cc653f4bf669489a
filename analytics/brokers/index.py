"""A detection run's index, kept beside the data file so that screening a day's applications and
the why-linked view need not recompute the history (``<data file>.brokers/<run_id>/``).

* **plans**: the application, firm and MinHash signature of every plan the run hashed (public
  template copies already emptied) with its codes (:func:`analytics.brokers.lsh.codes`, which a
  day's candidates are compared on before any signature row is read), the signatures of the
  suppressed templates, and per LSH band the rows in bucket order, each one word of its key's
  fingerprint and its row (:func:`analytics.brokers.lsh.band_word`), with a directory of them
  (:func:`analytics.brokers.lsh.split_band`, from :func:`analytics.brokers.minhash.similar_pairs`'
  ``keep_band``), which :func:`analytics.brokers.lsh.lookup` searches, and the key and size of each
  bucket over the run's cap (a new plan in one is not looked up). A new plan's candidates are
  found without reading a single stored plan text, and only their codes.
* **traces**: each cluster's traces (value hashes), so that a new application carrying the
  broker's writer counts that evidence towards the cluster as the run's clusters did.
* **identifiers**: the run's document frequencies (firms per value, :func:`links.value_frequencies`'s
  ``_df``) keyed by a 64-bit hash of (kind, value), DuckDB's ``hash``; the carriers (application,
  firm) of every value at most ``df_cap`` firms use (only those can link), in the values' order,
  with where each value's carriers start; and the firms of each kind (for the kind totals the weights
  divide by).

Numpy files, read memory-mapped: at national scale the plan part is gigabytes (5 GB of signatures
at 10 M plans), which as rows of the data file would go through the writer's copy on every run.
The index is written into a work folder during detection and renamed into place only after the
run is stored (a failed run leaves none); only the newest ``KEEP`` runs keep theirs.
"""
from __future__ import annotations

import contextlib
import json
import mmap
import os
import shutil
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

from analytics.brokers import lsh
from data.db import remove_stale_temp

KEEP = 2
# A look-up in a sorted file faults about log2(rows) pages. For a view's handful of values the
# kernel's read-around on each fault (8 MB on this disk) costs more than the pages themselves
# (why-linked's 5 values: 0.22 s cold); for a day's screening (tens of thousands) it reads the file
# front to back, faster than random pages. At most this many look-ups read their pages alone.
FEW_LOOKUPS = 64
VERSION = 7   # 2: bands searchable by key fingerprint (now lsh.split_band); 3: and their over-cap buckets; 4: codes;
              # 5: a band row is one word (lsh.band_word), identifiers 32-bit where they fit; 6: big buckets apart;
              # 7: values keyed by value_hash (MD5), not DuckDB's hash


def value_hash(kind: str = "kind", value: str = "value") -> str:
    """SQL for the 64-bit hash of a (kind, value) that the index is keyed by and every reader
    computes (in SQL, so the data never leaves it to be hashed): the high half of MD5 of kind, NUL,
    value. DuckDB's own ``hash`` is weak on strings: at scale 10, 166 of the 14.9 M values shared
    one with another value (addresses a digit apart: 역전로 1, 3층 1호 and 역전로 8, 3층 4호), which
    merged their counts and carriers, so screening linked firms that share nothing. MD5 gave none,
    for 6 s more over the job's 70 M fingerprints."""
    return f"(md5_number({kind}::VARCHAR || chr(0) || {value}) >> 64)::UBIGINT"


def find_sorted(values: np.ndarray, queries: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each query's position in the sorted ``values`` (clipped to the last) and whether it is
    there: a binary search, not a set operation (the values are millions, the queries few)."""
    if not values.size:
        return np.zeros(queries.size, dtype=np.intp), np.zeros(queries.size, dtype=bool)
    pos = np.minimum(np.searchsorted(values, queries), values.size - 1)
    return pos, values[pos] == queries


# lsh.split_band's arrays (the buckets within the run's cap, and those over it) and the over-cap
# buckets' keys (sorted) and sizes, a file each
BAND_PARTS = ("words", "start", "big_words", "big_start", "over_key", "over_size")


def root(db_path: Path | str) -> Path:
    p = Path(db_path)
    return p.with_name(p.name + ".brokers")


class Writer:
    """Collects one run's index in a work folder; :meth:`commit` moves it into place."""

    def __init__(self, db_path: Path | str, run_id: str) -> None:
        self.final = root(db_path) / run_id
        self.work = root(db_path) / f".{os.getpid()}.{run_id}.tmp"
        self.work.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temp(self.work.parent, ".")   # what killed jobs left
        # the oldest kept index goes now, not at the commit: the disk then holds this run's work
        # (its index, DuckDB's spill files) beside the indexes that stay
        prune(self.work.parent, KEEP - 1)
        self.work.mkdir(mode=0o700)
        self.meta: dict[str, Any] = {"version": VERSION, "run_id": run_id, "duckdb": duckdb.__version__}
        self._pending: Callable[[], None] | None = None   # read, not yet sorted and written (write_behind)
        self._writing: Future[None] | None = None

    def save(self, name: str, arr: np.ndarray) -> None:
        np.save(self.work / f"{name}.npy", arr)

    def save_narrow(self, name: str, ints: np.ndarray) -> None:
        """Integers (ids, counts, offsets), 32-bit when they fit: a day's screening reads these
        files nearly whole, its look-ups falling everywhere (at national scale half a gigabyte
        less from a cold disk)."""
        i32 = np.iinfo(np.int32)
        fits = not ints.size or (int(ints.min()) >= i32.min and int(ints.max()) <= i32.max)
        self.save(name, ints.astype(np.int32) if fits else ints)

    def band(self, band: int, packed: np.ndarray, big: np.ndarray, over_keys: np.ndarray, over_sizes: np.ndarray,
             ) -> None:
        """One LSH band from its sorted packed rows (:func:`analytics.brokers.lsh.band_sorted`)
        and its buckets over the cap, their rows (``big``) and their keys and sizes
        (:func:`analytics.brokers.lsh.verify_buckets`), as screening searches it
        (:func:`analytics.brokers.lsh.split_band`; called from the LSH worker threads, after :meth:`plans`)."""
        by_key = np.argsort(over_keys)
        small, large = lsh.split_band(packed, big, int(self.meta["idx_bits"]))
        parts = (*small, *large, over_keys[by_key], over_sizes[by_key])
        for name, arr in zip(BAND_PARTS, parts):
            np.save(self.work / f"band{band:04d}_{name}.npy", arr)

    def plans(self, apps: np.ndarray, firms: np.ndarray, sig: np.ndarray, codes: np.ndarray, template_sig: np.ndarray,
              *, rows: int, idx_bits: int) -> None:
        self.save_narrow("plan_apps", apps)
        self.save_narrow("plan_firms", firms)
        self.save("plan_sig", sig)
        self.save("plan_codes", codes)
        self.save("template_sig", template_sig)
        self.meta.update(plans=int(len(apps)), bins=int(sig.shape[1]), rows=rows, idx_bits=idx_bits)

    def identifiers(self, con: duckdb.DuckDBPyConnection, df_cap: int) -> None:
        """From the run's ``_fp``/``_df``/``_kf``/``_tot`` temp tables (read-only connection), read
        now (the tables live as long as the connection); sorted and written at :meth:`write_behind`
        or :meth:`commit`."""
        d = con.execute(f"SELECT {value_hash()} AS h, firms FROM _df").fetchnumpy()
        # every value of _fp is in _df: its rows but those of the few values over the cap (a hash
        # table of those, not of the millions under it)
        c = con.execute(f"""SELECT {value_hash()} AS h, application_id, firm_id FROM _fp
                            ANTI JOIN (SELECT kind, value FROM _df WHERE firms > $cap) USING (kind, value)""",
                        {"cap": df_cap}).fetchnumpy()
        tot = con.execute("SELECT kind, total FROM _tot ORDER BY kind").fetchall()
        kf = con.execute("SELECT firm_id FROM _kf ORDER BY kind, firm_id").fetchnumpy()["firm_id"]
        self.meta.update(kinds=[k for k, _ in tot], carriers_cap=df_cap)

        def write() -> None:
            order = hash_order(d["h"])
            values = d.pop("h")[order]
            self.save("value_hash", values)
            self.save_narrow("value_firms", d.pop("firms")[order])
            order = hash_order(c["h"])
            # in hash order a value's carriers lie together: each value keeps where they start
            # (and the next where they end), not a hash per carrier
            self.save_narrow("value_carriers", np.r_[np.searchsorted(c.pop("h")[order], values), order.size])
            for name, col in (("carrier_app", "application_id"), ("carrier_firm", "firm_id")):
                self.save_narrow(name, c.pop(col)[order])
            del order
            cuts = np.cumsum([0] + [n for _, n in tot])   # _tot counts _kf's rows of each kind
            for (kind, _), lo, hi in zip(tot, cuts[:-1], cuts[1:]):
                self.save_narrow(f"kind_firms_{kind}", kf[lo:hi])
        self._pending = write

    def write_behind(self) -> None:
        """Sort and write what is read but not yet written on a thread of its own: numpy's sorts,
        gathers and file writes release the GIL, so they take the core that the caller's Python
        (splitting and scoring clusters) leaves idle; beside DuckDB's SQL they only slowed it as
        much. :meth:`commit` waits for it."""
        if self._pending is not None and self._writing is None:
            behind = ThreadPoolExecutor(max_workers=1, thread_name_prefix="index")
            self._writing = behind.submit(self._pending)
            behind.shutdown(wait=False)   # returns at once; the thread ends after its one write
            self._pending = None

    def _written(self) -> None:
        """Wait for the write behind, or make the pending one here; raises what failed."""
        writing, self._writing = self._writing, None
        pending, self._pending = self._pending, None
        if writing is not None:
            writing.result()
        if pending is not None:
            pending()

    def traces(self, con: duckdb.DuckDBPyConnection, traces: Any) -> None:
        """Each cluster's traces (values on more of its firms than chance, links.cluster_traces)."""
        con.register("_traces_ix", traces[["cluster_id", "kind", "value"]].drop_duplicates())
        t = con.execute(f"SELECT {value_hash()} AS h, cluster_id, kind FROM _traces_ix ORDER BY h").fetchnumpy()
        self.save("trace_hash", t["h"].astype(np.uint64))
        self.save("trace_cluster", t["cluster_id"].astype(np.int64))
        self.save("trace_kind", np.asarray(t["kind"], dtype=str))

    def commit(self) -> Path:
        self._written()
        (self.work / "meta.json").write_text(json.dumps(self.meta), encoding="utf-8")
        if self.final.exists():
            shutil.rmtree(self.final)
        os.replace(self.work, self.final)
        prune(self.final.parent)
        return self.final

    def discard(self) -> None:
        self._pending = None
        with contextlib.suppress(Exception):   # the run failed already, or this write did: none of it stays
            self._written()    # but a write behind must not fill the folder again as it is removed
        shutil.rmtree(self.work, ignore_errors=True)


def hash_order(h: np.ndarray) -> np.ndarray:
    """The order that sorts 64-bit hashes (ties in no particular order).

    At national scale (60 M carriers) numpy's argsort takes a minute, its sort seconds: the row
    numbers go into the low bits of the hashes, those are sorted, and the few rows whose hashes
    agreed on the high bits left are put in order by a stable argsort, which is linear on
    nearly sorted input."""
    n = h.size
    bits = np.uint64(max(n - 1, 1).bit_length())
    packed = (h >> bits << bits) | np.arange(n, dtype=np.uint64)
    packed.sort()
    order = (packed & ((np.uint64(1) << bits) - np.uint64(1))).astype(np.intp)
    del packed
    return order[np.argsort(h[order], kind="stable")]


def prune(folder: Path, keep: int = KEEP) -> None:
    """Keep the newest ``keep`` committed indexes (each is gigabytes at national scale)."""
    done = sorted((p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: p.stat().st_mtime, reverse=True)
    for p in done[keep:]:
        shutil.rmtree(p, ignore_errors=True)


@dataclass
class RunIndex:
    """A committed index, memory-mapped."""

    path: Path
    meta: dict[str, Any]

    def load(self, name: str, *, random: bool = False) -> np.ndarray:
        """A stored array, memory-mapped; ``random``: for a few point look-ups (see FEW_LOOKUPS),
        each fault reads its page, not the kernel's read-around."""
        if not random:
            return np.load(self.path / f"{name}.npy", mmap_mode="r")
        with open(self.path / f"{name}.npy", "rb") as f:
            version = np.lib.format.read_magic(f)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(f)
            offset = f.tell()
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        mm.madvise(mmap.MADV_RANDOM)
        return np.frombuffer(mm, dtype=dtype, count=int(np.prod(shape)), offset=offset).reshape(
            shape, order="F" if fortran else "C")

    def band(self, band: int) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray], np.ndarray,
                                       np.ndarray]:
        """The band's :func:`analytics.brokers.lsh.split_band` parts, (words, start) each, and its
        over-cap buckets (keys sorted, sizes). The big buckets' part is read a page at a time: a
        day's screening looks up a few of its buckets."""
        words, start, big_words, big_start, over_key, over_size = (
            np.asarray(self.load(f"band{band:04d}_{name}", random=name.startswith("big")))
            for name in BAND_PARTS)
        return (words, start), (big_words, big_start), over_key, over_size

    def value_firms(self, hashes: np.ndarray) -> np.ndarray:
        """Firms per value as the run counted them (0 for a value it did not see)."""
        few = hashes.size <= FEW_LOOKUPS
        pos, seen = find_sorted(self.load("value_hash", random=few), hashes)
        firms = np.zeros(hashes.size, dtype=np.int64)
        firms[seen] = self.load("value_firms", random=few)[pos[seen]]
        return firms

    def carriers(self, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(query index, application, firm) of every stored carrier of each value hash (none for a
        value over the cap or unseen)."""
        pos, seen = find_sorted(self.load("value_hash"), hashes)
        at = self.load("value_carriers")
        lo, n = np.zeros(hashes.size, dtype=np.int64), np.zeros(hashes.size, dtype=np.int64)
        lo[seen] = at[pos[seen]]
        n[seen] = at[pos[seen] + 1] - lo[seen]
        q = np.repeat(np.arange(hashes.size), n)
        rows = (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n) + np.repeat(lo, n)).astype(np.int64)
        return q, np.asarray(self.load("carrier_app")[rows]), np.asarray(self.load("carrier_firm")[rows])

    def kind_firms(self, kind: str) -> np.ndarray:
        return self.load(f"kind_firms_{kind}") if kind in self.meta.get("kinds", []) else np.empty(0, np.int64)


def open_index(db_path: Path | str | None, run_id: str) -> RunIndex | None:
    """The run's committed index, or None (an older run, a copied data file, a pruned run)."""
    if db_path is None:
        return None
    path = root(db_path) / run_id
    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("version") != VERSION or meta.get("duckdb") != duckdb.__version__:
        return None   # another hash function: the stored hashes would not match
    return RunIndex(path, meta)
