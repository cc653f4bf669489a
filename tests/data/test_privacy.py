"""Roles, the one masking function, small-cell suppression and the access log."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from data import access, privacy
from data.access import AccessDenied, require
from data.privacy import SUPPRESSED, mask, mask_by_kind, mask_frame, suppress_small
from data.records import records


@pytest.mark.parametrize(("kind", "value", "masked"), [
    ("biz_no", "1234567890", "123-45-*****"),
    ("biz_no", "123-45-67890", "123-45-*****"),
    ("name", "홍길동", "홍*동"),
    ("name", "김철", "김*"),
    ("name", "남궁민수", "남**수"),
    ("phone", "010-1234-5678", "010-****-5678"),
    ("phone", "01012345678", "010-****-5678"),
    ("phone", "02-123-4567", "02-***-4567"),
    ("email", "hong@example.kr", "h***@example.kr"),
    ("ip", "211.36.142.7", "211.36.*.*"),
    ("ip", "2001:db8::1", "2001:0db8:*:*:*:*:*:*"),
    ("account", "110-123-456789", "***-***-**6789"),
    ("bank_account", "110123456789", "********6789"),
    ("address", "서울특별시 강남구 테헤란로 123", "서울특별시 강남구 ***"),
    ("device", "a1b2c3d4e5f6", "a1b2********"),
    ("doc_author", "이순신", "이*신"),
])
def test_mask_hides_the_identifying_part(kind: str, value: str, masked: str) -> None:
    assert mask(kind, value) == masked


def test_mask_never_returns_the_input_for_any_kind() -> None:
    samples = {"biz_no": "2208162517", "name": "박영희", "phone": "010-9876-5432", "email": "x.y@z.com",
               "ip": "10.0.0.1", "account": "3333-01-1234567", "address": "부산광역시 해운대구 센텀로 1",
               "device": "DEV-778899"}
    for kind in privacy.MASK_KINDS:
        assert mask(kind, samples[kind]) != samples[kind]
        assert privacy.MASK in mask(kind, samples[kind])


def test_mask_passes_missing_values_and_rejects_unknown_kinds() -> None:
    assert mask("phone", None) is None
    assert np.isnan(mask("email", float("nan")))
    with pytest.raises(ValueError, match="unknown personal-data kind"):
        mask("salary", "1")


def test_mask_frame_and_mask_by_kind_leave_the_input_alone() -> None:
    df = pd.DataFrame({"biz_no": ["1234567890", None], "ceo_name": ["홍길동", "김철"], "n": [1, 2]})
    out = mask_frame(df, {"biz_no": "biz_no", "ceo_name": "name"})
    assert out["biz_no"][0] == "123-45-*****" and pd.isna(out["biz_no"][1])
    assert out["ceo_name"].tolist() == ["홍*동", "김*"]
    assert df["ceo_name"].tolist() == ["홍길동", "김철"]
    fp = pd.DataFrame({"kind": ["phone", "ip"], "value": ["010-1111-2222", "1.2.3.4"]})
    assert mask_by_kind(fp)["value"].tolist() == ["010-****-2222", "1.2.*.*"]


def test_require_allows_listed_roles_only() -> None:
    require("auditor", "brokers")
    with pytest.raises(AccessDenied):
        require("policy", "brokers")
    with pytest.raises(AccessDenied):
        require("root", "brokers")  # not a role at all
    with pytest.raises(AccessDenied):
        require("admin", "no.such.view")  # a name the policy does not know is denied to every role


def test_the_policy_is_a_truth_table() -> None:
    # written out by hand from the README's table of pages and roles, independently of data/access.py
    views = {"overview": "PEUA", "uptake": "PA", "adoption": "PA", "matching": "PEA", "scoring": "EA",
             "brokers": "UA", "admin": "A"}
    letter = {"policy": "P", "evaluator": "E", "auditor": "U", "admin": "A"}
    for view, who in views.items():
        for role, code in letter.items():
            assert access.may(role, f"view.{view}") == (code in who), (view, role)
    for bad in ("", "Admin", "admin ", "root", "policy,admin"):
        assert not any(access.may(bad, name) for name in access.POLICY)
    assert privacy.sees_personal("auditor") and not privacy.sees_personal("evaluator")
    assert not privacy.sees_personal("policy") and not privacy.sees_personal("admin")


def _cells() -> pd.DataFrame:
    return pd.DataFrame({
        "year": [2024, 2024, 2024, 2024],
        "region": ["11", "26", "41", "50"],
        "firms": [12, 3, 0, 5],
        "applications": [30, 4, 0, 9],
        "rate": [0.5, 0.25, np.nan, 0.4],
        "amount_krw": [10**9, 2 * 10**8, 0, 3 * 10**8],
    })


def test_suppress_small_hides_cells_under_five_and_their_derived_values_for_policy() -> None:
    out = suppress_small(_cells(), ["firms"], "policy", derived=["applications", "rate", "amount_krw"])
    assert out.loc[1, ["firms", "applications", "rate", "amount_krw"]].tolist() == [SUPPRESSED] * 4
    # 12 and 5 firms are shown; a zero cell discloses nobody and stays
    assert out.loc[0, "firms"] == 12 and out.loc[3, "firms"] == 5 and out.loc[2, "firms"] == 0
    assert out["year"].tolist() == [2024] * 4 and out["region"].tolist() == ["11", "26", "41", "50"]


def test_suppress_small_default_derived_is_every_other_numeric_column() -> None:
    df = _cells().drop(columns="year")
    out = suppress_small(df, ["firms"], "policy")
    assert (out.loc[1, ["firms", "applications", "rate", "amount_krw"]] == SUPPRESSED).all()
    assert out.loc[1, "region"] == "26"


@pytest.mark.parametrize("role", ["evaluator", "auditor", "admin"])
def test_suppress_small_leaves_other_roles_alone(role: str) -> None:
    df = _cells()
    pd.testing.assert_frame_equal(suppress_small(df, ["firms"], role), df)


def test_numeric_turns_suppressed_cells_into_gaps() -> None:
    out = privacy.numeric(suppress_small(_cells(), ["firms"], "policy", derived=["applications"]))
    assert np.isnan(out.loc[1, "firms"]) and out.loc[0, "firms"] == 12
    assert pd.api.types.is_numeric_dtype(out["applications"])


def test_log_access_appends_to_the_records_file(tmp_path) -> None:
    db = tmp_path / "madang.duckdb"
    privacy.log_access(db, "auditor", "auditor", "view_personal", "brokers: cluster 7")
    privacy.log_access(db, "admin", "admin", "import", "/data/in")
    with records(db, write=False) as tx:
        rows = [tuple(r) for r in tx.execute("SELECT user_name, role, action, object FROM access_log").fetchall()]
    assert sorted(rows) == sorted([("auditor", "auditor", "view_personal", "brokers: cluster 7"),
                                   ("admin", "admin", "import", "/data/in")])
    log = privacy.recent_access(db, "admin")
    assert len(log) == 2
    with pytest.raises(AccessDenied):
        privacy.recent_access(db, "policy")
