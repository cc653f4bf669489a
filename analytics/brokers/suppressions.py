"""The auditor-editable suppression list: identifiers and public template plans that must not link.

Kept in the records file (``broker_suppressions``), so it survives rebuilds of the data file and the
next detection run reads it. Every change is logged to ``access_log``. Public sample plans
(the data file's ``public_templates`` table: K-Startup style samples many honest firms copy) seed
the list the first time detection runs; an auditor may remove or add entries with a reason.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import pandas as pd

from data import access, privacy
from data.records import records

KINDS = ("phone", "email", "ip", "device", "bank_account", "address", "doc_author", "plan")
TEMPLATE_REASON = "공개 사업계획서 샘플 (public sample plan): 복사는 브로커 조직이 아님"
SYSTEM_USER = "system"


def load(db_path: Path | str) -> pd.DataFrame:
    """All entries (kind, value, reason, added_by, added_at), newest first."""
    with records(db_path, write=False) as tx:
        return tx.df("SELECT kind, value, reason, added_by, added_at FROM broker_suppressions ORDER BY added_at DESC, kind, value")


def seed_templates(db_path: Path | str, texts: Sequence[str]) -> int:
    """Add known public template plans once (when the list has no plan entry yet); returns rows added."""
    if not texts:
        return 0
    with records(db_path) as tx:
        if tx.execute("SELECT count(*) FROM broker_suppressions WHERE kind = 'plan'").fetchone()[0]:
            return 0
        now = datetime.now().replace(microsecond=0)
        tx.executemany(
            "INSERT INTO broker_suppressions (kind, value, reason, added_by, added_at) VALUES ('plan', ?, ?, ?, ?)",
            [[text, TEMPLATE_REASON, SYSTEM_USER, now] for text in texts],
        )
        return len(texts)


def add(db_path: Path | str, kind: str, value: str, reason: str, *, user: str, role: str) -> None:
    """Suppress one identifier (or a template text, kind 'plan'); a reason is required."""
    access.require(role, "brokers.suppressions.edit")
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
    if not value.strip() or not reason.strip():
        raise ValueError("a suppression needs a value and a reason")
    with records(db_path) as tx:
        tx.execute(
            "INSERT INTO broker_suppressions (kind, value, reason, added_by, added_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (kind, value) DO UPDATE "
            "SET reason = excluded.reason, added_by = excluded.added_by, added_at = excluded.added_at",
            [kind, value.strip(), reason.strip(), user, datetime.now().replace(microsecond=0)],
        )
        privacy.log_in(tx, user, role, "suppression_add", f"{kind}:{value.strip()[:80]}")


def remove(db_path: Path | str, kind: str, value: str, *, user: str, role: str) -> None:
    """Take one entry off the list (the next detection run may link it again)."""
    access.require(role, "brokers.suppressions.edit")
    with records(db_path) as tx:
        tx.execute("DELETE FROM broker_suppressions WHERE kind = ? AND value = ?", [kind, value])
        privacy.log_in(tx, user, role, "suppression_remove", f"{kind}:{value[:80]}")
