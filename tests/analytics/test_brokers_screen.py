"""Screening new applications against a stored run (analytics/brokers/screen.py)."""
from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from analytics.brokers import detect, screen
from data.db import attach_run, runs_root


@pytest.fixture(scope="module")
def stored(tiny_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("screen") / "madang.duckdb"
    shutil.copyfile(tiny_db, path)
    run_id, _ = detect.run(path)
    return path, run_id


def test_members_of_flagged_clusters_are_held_into_their_own_cluster(stored) -> None:
    path, run_id = stored
    con = duckdb.connect(str(path), read_only=True)
    run = attach_run(con, run_id)
    mem = con.execute(f"""SELECT m.application_id, m.cluster_id FROM {run}.broker_cluster_members m
                         JOIN {run}.broker_clusters c USING (run_id, cluster_id) WHERE m.run_id = ? AND c.flagged""", [run_id]).df()
    got = screen.screen(con, run_id, mem["application_id"].tolist())
    held = got[got["hold"]].merge(mem, on=["application_id", "cluster_id"])
    assert held["application_id"].nunique() >= 0.7 * len(mem)
    # the identifier groups it names are shared with another firm of that cluster (checked by hand)
    row = held.iloc[0]
    others = con.execute(f"""
        SELECT DISTINCT f.value FROM app_fingerprints f JOIN {run}.broker_cluster_members m USING (application_id)
        JOIN applications a USING (application_id)
        WHERE m.run_id = ? AND m.cluster_id = ? AND a.firm_id <> (SELECT firm_id FROM applications WHERE application_id = ?)
    """, [run_id, int(row["cluster_id"]), int(row["application_id"])]).fetchall()
    assert set(row["values"]) <= {v for (v,) in others}


def test_unclustered_applications_are_rarely_held(stored) -> None:
    path, run_id = stored
    con = duckdb.connect(str(path), read_only=True)
    apps = [a for (a,) in con.execute(f"""SELECT application_id FROM applications ANTI JOIN
                                         (SELECT application_id FROM {attach_run(con, run_id)}.broker_cluster_members WHERE run_id = ?) USING (application_id)
                                         ORDER BY hash(application_id) LIMIT 2000""", [run_id]).fetchall()]
    got = screen.screen(con, run_id, apps)
    assert got.loc[got["hold"], "application_id"].nunique() <= 0.02 * len(apps)


@pytest.fixture(scope="module")
def day(tiny_db: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str, list[int]]:
    """The history (all but the latest 300 applications) detected and indexed; then the day's
    applications arrive in the data file, and the history's plan texts are blanked (screening
    must not read them)."""
    folder = tmp_path_factory.mktemp("day")
    full, path = folder / "full.duckdb", folder / "madang.duckdb"
    shutil.copyfile(tiny_db, full)
    shutil.copyfile(tiny_db, path)
    con = duckdb.connect(str(path))
    new = [a for (a,) in con.execute("""SELECT application_id FROM applications
                                        ORDER BY submitted_at DESC, application_id LIMIT 300""").fetchall()]
    for table in ("app_fingerprints", "business_plans", "applications"):
        con.execute(f"DELETE FROM {table} WHERE application_id IN (SELECT unnest(?))", [new])
    con.close()
    run_id, _ = detect.run(path)
    con = duckdb.connect(str(path))
    con.execute(f"ATTACH '{full}' AS src (READ_ONLY)")
    for table in ("applications", "app_fingerprints", "business_plans"):
        con.execute(f"INSERT INTO {table} SELECT * FROM src.{table} WHERE application_id IN (SELECT unnest(?))", [new])
    con.execute("UPDATE business_plans SET plan_text = '-' WHERE application_id NOT IN (SELECT unnest(?))", [new])
    con.close()
    return full, path, run_id, new


def test_screening_links_the_day_as_a_full_rerun_would(day) -> None:
    """Oracle: the links a full detection over history + the day makes for the day's applications
    (plans; identifiers, names aside) are the ones screening finds from the stored index alone."""
    from analytics.brokers import links, suppressions
    from analytics.brokers.links import LinkParams

    full, path, run_id, new = day
    p = LinkParams()
    supp = suppressions.load(path)
    con = duckdb.connect(str(full), read_only=True)
    pl, _ = links.plan_pairs(con, supp.loc[supp["kind"] == "plan", "value"].tolist(), p)
    links.value_frequencies(con, supp)
    links.identifier_pairs(con, p, pl, chance=links.chance_within(con, p))
    want_ids = con.execute("""SELECT app_a, app_b, kind, value, firms, weight FROM _ids
                              WHERE (app_a IN (SELECT unnest($new)) OR app_b IN (SELECT unnest($new)))""",
                           {"new": new}).df()
    con.close()
    newset = set(new)
    want_plans = pl[pl["app_a"].isin(newset) | pl["app_b"].isin(newset)]

    con = duckdb.connect(str(path), read_only=True)
    got = screen.links_for(con, run_id, new)
    con.close()
    got_plans = got[got["plan_similarity"].notna()]
    assert len(want_plans) >= 5
    assert dict(zip(zip(got_plans["app_a"], got_plans["app_b"]), got_plans["plan_similarity"])) == \
        dict(zip(zip(want_plans["app_a"], want_plans["app_b"]), want_plans["plan_similarity"]))
    got_ids = pd.DataFrame([dict(e, app_a=a, app_b=b) for a, b, ids in zip(got["app_a"], got["app_b"], got["ids"])
                            for e in ids], columns=["app_a", "app_b", "kind", "value", "firms", "weight"])
    strict = ~want_ids["kind"].isin(p.weak_kinds)
    key = ["app_a", "app_b", "kind", "value", "firms"]
    want_strict = want_ids.loc[strict, key].sort_values(key).reset_index(drop=True)
    got_strict = got_ids.loc[~got_ids["kind"].isin(p.weak_kinds), key].sort_values(key).reset_index(drop=True)
    assert len(want_strict) >= 20
    pd.testing.assert_frame_equal(got_strict.astype(want_strict.dtypes.to_dict()), want_strict)
    weights = want_ids.loc[strict].merge(got_ids, on=key, suffixes=("", "_got"))
    assert np.allclose(weights["weight"].round(2), weights["weight_got"], atol=0.011)
    # names: screening leaves out the run's bursts and traces, never adds one
    got_weak = set(map(tuple, got_ids.loc[got_ids["kind"].isin(p.weak_kinds), key[:4]].to_numpy().tolist()))
    assert got_weak <= set(map(tuple, want_ids.loc[~strict, key[:4]].to_numpy().tolist()))


def test_screening_without_an_index_says_so(day, tmp_path: Path) -> None:
    _, path, run_id, new = day
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(path, copy)      # the index stays beside the original, the run goes along
    shutil.copytree(runs_root(path), runs_root(copy))
    con = duckdb.connect(str(copy), read_only=True)
    with pytest.raises(LookupError, match="no screening index"):
        screen.screen(con, run_id, new)


def test_screening_with_an_older_index_says_to_run_again(day, tmp_path: Path) -> None:
    """An index written in an older format (another band layout) is not searched."""
    import json

    from analytics.brokers import index as brokers_index

    _, path, run_id, new = day
    copy = tmp_path / "madang.duckdb"
    shutil.copyfile(path, copy)
    shutil.copytree(runs_root(path), runs_root(copy))
    shutil.copytree(brokers_index.root(path), brokers_index.root(copy))
    con = duckdb.connect(str(copy), read_only=True)
    assert len(screen.links_for(con, run_id, new)) > 0       # the copied index is found
    meta = brokers_index.root(copy) / run_id / "meta.json"
    meta.write_text(json.dumps(dict(json.loads(meta.read_text()), version=brokers_index.VERSION - 1)))
    with pytest.raises(LookupError, match="run broker detection again"):
        screen.screen(con, run_id, new)


def test_the_index_holds_the_runs_identifiers_sorted_by_hash(stored) -> None:
    """Oracle: the firms per value, the carriers under the cap and the firms of each kind, counted
    in pandas from the fingerprints (DuckDB only hashes)."""
    from analytics.brokers import index as brokers_index
    from analytics.brokers import suppressions

    path, run_id = stored
    idx = brokers_index.open_index(path, run_id)
    assert idx is not None
    con = duckdb.connect(str(path), read_only=True)
    fp = con.execute("""SELECT f.application_id, a.firm_id, f.kind::VARCHAR AS kind, f.value, fi.ceo_name
                        FROM app_fingerprints f JOIN applications a USING (application_id)
                        JOIN firms fi USING (firm_id)""").df()
    supp = suppressions.load(path)
    fp = fp[~(fp["kind"] == "doc_author") | (fp["value"] != fp["ceo_name"].fillna(""))]
    fp = fp[~fp.set_index(["kind", "value"]).index.isin(supp.set_index(["kind", "value"]).index)]
    fp = fp.drop(columns="ceo_name").drop_duplicates()
    con.register("_fp_oracle", fp)
    fp = con.execute(f"SELECT *, {brokers_index.value_hash()} AS h FROM _fp_oracle").df()
    con.close()
    df = fp.groupby("h")["firm_id"].nunique().sort_index()
    assert np.array_equal(idx.load("value_hash"), df.index.to_numpy(np.uint64))
    assert np.array_equal(idx.load("value_firms"), df.to_numpy())
    cap = idx.meta["carriers_cap"]
    want = fp[fp["h"].map(df) <= cap].sort_values(["h", "application_id"])
    at = np.asarray(idx.load("value_carriers"))    # where each value's carriers start, and the end
    assert at[0] == 0 and at[-1] == idx.load("carrier_app").size and np.all(np.diff(at) >= 0)
    ch = np.repeat(np.asarray(idx.load("value_hash")), np.diff(at))
    assert len(want) > 1000 and len(ch) == len(want)
    got = pd.DataFrame({"h": ch, "application_id": idx.load("carrier_app"), "firm_id": idx.load("carrier_firm")})
    pd.testing.assert_frame_equal(got.sort_values(["h", "application_id"]).reset_index(drop=True),
                                  want[["h", "application_id", "firm_id"]].reset_index(drop=True), check_dtype=False)
    assert idx.meta["kinds"] == sorted(fp["kind"].unique())
    for kind, g in fp.groupby("kind"):
        assert np.array_equal(idx.kind_firms(str(kind)), np.unique(g["firm_id"]))


def test_hash_order_sorts_hashes_that_agree_on_their_high_bits() -> None:
    """Oracle: numpy's sort. 1,000 rows leave 54 high bits to the packed sort; hashes that differ
    only below them must still come out in order."""
    from analytics.brokers.index import hash_order

    rng = np.random.default_rng(3)
    high = rng.integers(0, 1 << 20, 40, dtype=np.uint64) << np.uint64(40)
    h = high[rng.integers(0, 40, 1000)] | rng.integers(0, 1 << 12, 1000, dtype=np.uint64)
    order = hash_order(h)
    assert np.array_equal(np.sort(order), np.arange(1000))
    assert np.array_equal(h[order], np.sort(h))
    assert hash_order(np.empty(0, np.uint64)).size == 0


def test_a_new_run_makes_room_for_its_index_before_it_computes(tmp_path: Path) -> None:
    """The oldest kept index goes when a run starts (its disk is free for the run's work), so that
    after the commit the newest KEEP remain; a run that fails leaves the newest older one."""
    import os

    from analytics.brokers import index as brokers_index

    assert brokers_index.KEEP == 2
    db = tmp_path / "madang.duckdb"
    folder = brokers_index.root(db)
    for age, run in enumerate(["r3", "r2", "r1"]):      # r1 oldest
        (folder / run).mkdir(parents=True)
        os.utime(folder / run, (1_000_000 - age * 100, 1_000_000 - age * 100))
    failed = brokers_index.Writer(db, "r4")
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == ["r3"]
    failed.discard()
    done = brokers_index.Writer(db, "r5")
    done.commit()
    assert sorted(p.name for p in folder.iterdir()) == ["r3", "r5"]


def test_values_that_duckdbs_hash_confuses_keep_their_own_firms_and_carriers(tmp_path: Path) -> None:
    """Addresses a digit apart to which DuckDB's ``hash`` gives one value (pairs found among the
    scale-10 data): keyed by it, the index merged their counts and carriers, and screening linked
    firms at two different addresses. Oracle: each address's own firms and applications."""
    from analytics.brokers import index as brokers_index
    from analytics.brokers import links
    from tests.analytics.test_brokers_links import NO_SUPP, make_db

    pairs = [("부산광역시 해운대구 역전로 1, 3층 1호", "부산광역시 해운대구 역전로 8, 3층 4호"),
             ("경기도 화성시 호수로 95, 2층 7호", "경기도 화성시 호수로 92, 2층 2호"),
             ("제주특별자치도 서귀포시 첨단로 201, 9층 9호", "제주특별자치도 서귀포시 첨단로 208, 9층 2호")]
    addresses = [a for pair in pairs for a in pair]
    # address k: applications 100 k + j + 1 on k % 3 + 1 firms of their own (firm 10 k + j + 1)
    fps = [(100 * k + j + 1, "address", a) for k, a in enumerate(addresses) for j in range(k % 3 + 1)]
    apps = [(app, 10 * (app // 100) + app % 100, float(app)) for app, _, _ in fps]
    con = make_db(tmp_path / "h.duckdb", apps, fps, n_firms=10 * len(addresses))
    links.value_frequencies(con, NO_SUPP)
    w = brokers_index.Writer(tmp_path / "h.duckdb", "run")
    w.identifiers(con, df_cap=50)
    idx = brokers_index.RunIndex(w.commit(), {})
    con.register("_addr", pd.DataFrame({"kind": "address", "value": addresses}))
    hashes = con.execute(f"SELECT {brokers_index.value_hash()} FROM _addr").fetchnumpy()
    hashes = next(iter(hashes.values())).astype(np.uint64)
    assert len(set(hashes.tolist())) == len(addresses)
    assert idx.value_firms(hashes).tolist() == [k % 3 + 1 for k in range(len(addresses))]
    q, app, _ = idx.carriers(hashes)
    assert sorted(zip(q.tolist(), app.tolist())) == [(k, 100 * k + j + 1) for k in range(len(addresses))
                                                     for j in range(k % 3 + 1)]


def test_an_index_of_no_values_answers_every_look_up_with_none(tmp_path: Path) -> None:
    """A run over applications that carry no identifier: its values are empty, and a day's values
    find no count and no carrier (each look-up clipped into an empty array once failed)."""
    from analytics.brokers import index as brokers_index
    from analytics.brokers import links
    from tests.analytics.test_brokers_links import NO_SUPP, make_db

    con = make_db(tmp_path / "e.duckdb", [(1, 1, 0.0), (2, 2, 1.0)], [], n_firms=2)
    links.value_frequencies(con, NO_SUPP)
    w = brokers_index.Writer(tmp_path / "e.duckdb", "run")
    w.identifiers(con, df_cap=50)
    idx = brokers_index.RunIndex(w.commit(), {})
    hashes = np.array([1, 2**63], dtype=np.uint64)
    assert idx.value_firms(hashes).tolist() == [0, 0]
    assert all(part.size == 0 for part in idx.carriers(hashes))


def test_identifiers_written_behind_are_all_there_at_the_commit_and_a_failed_write_leaves_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The identifier part is read from the temp tables at once and written on a thread of its own;
    the commit waits for it (the files are complete, in hash order), and an error there fails the
    commit and leaves no index."""
    import threading

    from analytics.brokers import index as brokers_index
    from analytics.brokers import links
    from tests.analytics.test_brokers_links import NO_SUPP, make_db

    con = make_db(tmp_path / "w.duckdb", [(i, i % 7 + 1, float(i)) for i in range(1, 60)],
                  [(i, kind, f"{kind}{i % 5}") for i in range(1, 60) for kind in ("phone", "email")], n_firms=7)
    links.value_frequencies(con, NO_SUPP)
    hold = threading.Event()
    real_save = brokers_index.Writer.save

    def late_save(self: brokers_index.Writer, name: str, arr: np.ndarray) -> None:
        if threading.current_thread() is not threading.main_thread():
            hold.wait(10)        # the writes behind wait until the caller has moved on
        real_save(self, name, arr)

    monkeypatch.setattr(brokers_index.Writer, "save", late_save)
    w = brokers_index.Writer(tmp_path / "w.duckdb", "ok")
    w.identifiers(con, df_cap=50)
    w.write_behind()
    assert not (w.work / "carrier_app.npy").exists()
    hold.set()
    path = w.commit()
    assert np.load(path / "carrier_app.npy").size == 2 * 59 and np.load(path / "value_carriers.npy")[-1] == 2 * 59
    assert np.load(path / "value_firms.npy").sum() == con.execute("SELECT sum(firms) FROM _df").fetchone()[0]
    assert np.array_equal(np.load(path / "kind_firms_phone.npy"), np.arange(1, 8))

    def broken_save(self: brokers_index.Writer, name: str, arr: np.ndarray) -> None:
        if name == "carrier_app":
            raise OSError("disk full")
        real_save(self, name, arr)

    monkeypatch.setattr(brokers_index.Writer, "save", broken_save)
    w = brokers_index.Writer(tmp_path / "w.duckdb", "broken")
    w.identifiers(con, df_cap=50)
    w.write_behind()
    with pytest.raises(OSError, match="disk full"):
        w.commit()
    w.discard()
    assert not (brokers_index.root(tmp_path / "w.duckdb") / "broken").exists() and not w.work.exists()


def test_a_few_look_ups_read_the_same_arrays_page_by_page(stored) -> None:
    """``load(random=True)`` (a view's handful of look-ups: no read-around) maps the same arrays as
    numpy's own memory map, 1-D and 2-D; value_firms answers alike on either side of FEW_LOOKUPS."""
    from analytics.brokers import index as brokers_index

    path, run_id = stored
    idx = brokers_index.open_index(path, run_id)
    assert idx is not None
    for name in ("value_hash", "value_firms", "plan_sig", "plan_apps"):
        a, b = idx.load(name), idx.load(name, random=True)
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    h = np.asarray(idx.load("value_hash"))
    many = np.concatenate([h[:: max(1, h.size // 500)], np.array([1, 2, 3], dtype=np.uint64)])
    assert many.size > brokers_index.FEW_LOOKUPS
    few = many[-brokers_index.FEW_LOOKUPS:]
    assert np.array_equal(idx.value_firms(few), idx.value_firms(many)[-few.size:])
    assert (idx.value_firms(few)[-3:] == 0).all() and (idx.value_firms(many)[:-3] >= 1).all()
