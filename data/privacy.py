"""Who may see what: roles, the one masking function, small-cell suppression and the access log.

No streamlit here: the same checks guard pages, analytics functions and CLIs, so a page opened by
URL or a function called from another page cannot return rows its caller's role may not see.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

import pandas as pd

from data import access
from data.records import Tx, records

AGGREGATE_ROLE = access.AGGREGATE_ROLE
SUPPRESSED = "<5"
MASK = "*"


def sees_personal(role: str) -> bool:
    """Whether ``role`` sees personal data unmasked (every such view must be logged)."""
    return access.may(role, "personal.unmasked")


# ---------------------------------------------------------------- masking
def _keep_ends(text: str, head: int, tail: int) -> str:
    if len(text) <= head + tail:
        return text[:1] + MASK * (len(text) - 1) if len(text) > 1 else MASK
    return text[:head] + MASK * (len(text) - head - tail) + (text[len(text) - tail:] if tail else "")


def _mask_biz_no(v: str) -> str:
    digits = re.sub(r"\D", "", v)
    if len(digits) != 10:
        return _keep_ends(v, 3, 0)
    return f"{digits[:3]}-{digits[3:5]}-{MASK * 5}"


def _mask_name(v: str) -> str:
    # Korean convention: 홍길동 -> 홍*동, 김철 -> 김*; longer (firm) names keep first and last char.
    v = v.strip()
    if len(v) <= 2:
        return v[:1] + MASK * (len(v) - 1) if len(v) == 2 else MASK
    return v[0] + MASK * (len(v) - 2) + v[-1]


def _mask_phone(v: str) -> str:
    parts = re.split(r"[-\s.]", v.strip())
    if len(parts) == 3:
        return f"{parts[0]}-{MASK * len(parts[1])}-{parts[2]}"
    digits = re.sub(r"\D", "", v)
    if len(digits) >= 9:
        return f"{digits[:3]}-{MASK * (len(digits) - 7)}-{digits[-4:]}"
    return _keep_ends(v, 0, 2)


def _mask_email(v: str) -> str:
    local, at, domain = v.partition("@")
    if not at:
        return _keep_ends(v, 1, 0)
    return (local[:1] + MASK * 3) + "@" + domain


def _mask_ip(v: str) -> str:
    try:
        ip = ipaddress.ip_address(v.strip())
    except ValueError:
        return _keep_ends(v, 3, 0)
    if ip.version == 4:
        a, b, _, _ = str(ip).split(".")
        return f"{a}.{b}.{MASK}.{MASK}"
    groups = ip.exploded.split(":")
    return ":".join(groups[:2]) + f":{MASK}:{MASK}:{MASK}:{MASK}:{MASK}:{MASK}"


def _mask_account(v: str) -> str:
    # keep the last 4 digits (enough to recognise one's own account, not to use it); keep separators
    digits_seen = sum(c.isdigit() for c in v)
    out, seen = [], 0
    for c in v:
        if c.isdigit():
            seen += 1
            out.append(c if seen > digits_seen - 4 else MASK)
        else:
            out.append(c)
    return "".join(out)


def _mask_address(v: str) -> str:
    # keep 시도 and 시군구, hide the street and number
    parts = v.split()
    return " ".join(parts[:2] + [MASK * 3]) if len(parts) > 2 else _keep_ends(v, 2, 0)


def _mask_device(v: str) -> str:
    return _keep_ends(v, 4, 0)


_MASKERS: dict[str, Callable[[str], str]] = {
    "biz_no": _mask_biz_no,
    "name": _mask_name,
    "phone": _mask_phone,
    "email": _mask_email,
    "ip": _mask_ip,
    "account": _mask_account,
    "address": _mask_address,
    "device": _mask_device,
}
# fingerprint kinds of data/schema.sql that go by another name here
_ALIASES = {"bank_account": "account", "doc_author": "name"}
MASK_KINDS: tuple[str, ...] = tuple(_MASKERS)


def mask(kind: str, value: object) -> object:
    """The one masking function for personal data. Missing values pass through unchanged."""
    masker = _MASKERS.get(_ALIASES.get(kind, kind))
    if masker is None:
        raise ValueError(f"unknown personal-data kind {kind!r}; one of {', '.join(MASK_KINDS)}")
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return value
    return masker(str(value))


def mask_frame(df: pd.DataFrame, columns: Mapping[str, str]) -> pd.DataFrame:
    """A copy of ``df`` with each named column masked as its kind."""
    out = df.copy()
    for column, kind in columns.items():
        out[column] = out[column].map(lambda v, k=kind: mask(k, v)).astype(object)
    return out


def mask_by_kind(df: pd.DataFrame, value_col: str = "value", kind_col: str = "kind") -> pd.DataFrame:
    """A copy of fingerprint-like rows with each value masked as the kind named in its row."""
    out = df.copy()
    out[value_col] = [mask(str(k), v) for k, v in zip(out[kind_col], out[value_col])]
    return out


# ---------------------------------------------------------------- small-cell suppression
def suppress_small(
    df: pd.DataFrame, count_columns: Sequence[str], role: str, threshold: int = 5,
    derived: Sequence[str] | None = None,
) -> pd.DataFrame:
    """For the aggregate-only role, hide rows that stand for fewer than ``threshold`` firms.

    A row whose count in any of ``count_columns`` is 1..threshold-1 gets :data:`SUPPRESSED` in its
    count columns and in ``derived`` (default: every other numeric column, i.e. rates and amounts,
    which could give the small count away). Zero cells disclose nobody and stay. Other roles get
    ``df`` unchanged. Integer key columns (a year) must be left out by passing ``derived``. A role
    that is not one of the roles gets nothing (fails closed, never unsuppressed figures).
    """
    if role not in access.ALL_ROLES:
        raise access.AccessDenied(f"unknown role {role!r}")
    if role != AGGREGATE_ROLE or df.empty:
        return df
    counts = df[list(count_columns)].apply(pd.to_numeric, errors="coerce")
    small = ((counts > 0) & (counts < threshold)).any(axis=1)
    if derived is None:
        derived = [c for c in df.columns
                   if c not in count_columns and pd.api.types.is_numeric_dtype(df[c]) and not pd.api.types.is_bool_dtype(df[c])]
    out = df.copy()
    for column in [*count_columns, *derived]:
        out[column] = out[column].astype(object)
        out.loc[small, column] = SUPPRESSED
    return out


def suppress_cells(
    df: pd.DataFrame, firm_counts: Mapping[str, Sequence[str]], role: str, *, threshold: int = 5,
    groups: Sequence[Sequence[str]] = ((),),
) -> pd.DataFrame:
    """For the aggregate-only role, hide every small count of firms cell by cell, with secondary suppression.

    Each key of ``firm_counts`` is a column counting firms (or their selected, agreed, paid
    applications, one per firm): a cell of 1..threshold-1 is hidden together with the columns derived
    from it in that row (its rates and amounts). A cell already hidden ("<5") stays hidden.
    Secondary suppression: within each group of rows sharing the values of one entry of ``groups``
    (``()`` is the whole table, whose total is shown elsewhere), a column with exactly one hidden cell
    also hides its smallest other non-zero cell, so that the total minus the shown cells does not give
    the hidden one away; repeated over all groupings until none has a lone hidden cell.
    Other roles get ``df`` unchanged; an unknown role gets nothing.
    """
    if role not in access.ALL_ROLES:
        raise access.AccessDenied(f"unknown role {role!r}")
    if role != AGGREGATE_ROLE or df.empty:
        return df
    out = df.copy()
    for column, derived in firm_counts.items():
        values = pd.to_numeric(out[column].where(out[column].astype(object) != SUPPRESSED), errors="coerce")
        hidden = (out[column].astype(object) == SUPPRESSED) | ((values > 0) & (values < threshold))
        changed = True
        while changed:
            changed = False
            for keys in groups:
                parts = [out.index] if not keys else [out.index[pos] for pos in out.groupby(list(keys), dropna=False).indices.values()]
                for ix in parts:
                    if hidden[ix].sum() != 1:
                        continue
                    others = values[ix][~hidden[ix] & (values[ix] > 0)]
                    if len(others):
                        hidden[others.idxmin()] = True
                        changed = True
        for col in [column, *derived]:
            out[col] = out[col].astype(object)
            out.loc[hidden, col] = SUPPRESSED
    return out


def numeric(df: pd.DataFrame) -> pd.DataFrame:
    """Suppressed cells as missing values, for charts (a bar of unknown height is not drawn)."""
    out = df.copy()
    for column in out.columns:
        if out[column].dtype == object and (out[column] == SUPPRESSED).any():
            out[column] = pd.to_numeric(out[column].where(out[column] != SUPPRESSED), errors="coerce")
    return out


# ---------------------------------------------------------------- access log
def log_in(tx: Tx, user: str, role: str, action: str, object: str | None = None) -> None:
    """Append one row to ``access_log`` inside the caller's records transaction (the change and its log row
    are then stored together or not at all)."""
    tx.execute("INSERT INTO access_log (at_time, user_name, role, action, object) VALUES (?, ?, ?, ?, ?)",
               [datetime.now().replace(microsecond=0), user, role, action, object])


def log_access(db_path: Path | str, user: str, role: str, action: str, object: str | None = None) -> None:
    """Append one row to ``access_log`` in the records store (who, role, when, what)."""
    with records(db_path) as tx:
        log_in(tx, user, role, action, object)


def recent_access(db_path: Path | str, role: str, limit: int = 100) -> pd.DataFrame:
    """The latest rows of the access log, newest first (admins and auditors only)."""
    access.require(role, "access_log")
    with records(db_path, write=False) as tx:
        return tx.df("SELECT at_time, user_name, role, action, object FROM access_log "
                     "ORDER BY at_time DESC, log_id DESC LIMIT ?", [limit])
