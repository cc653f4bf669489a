"""The admin page in AppTest: users disabled and removed through the form, jobs listed with their state."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from bench.harness import signed_in_app
from data import jobs
from data.db import users_path
from data.users import active_role, list_users
from tests.ui.helpers import texts

PAGE = "pages/admin.py"


@pytest.fixture
def db(private_env: Path) -> Path:
    return private_env


def _manage(at, name: str, action: str, sure: bool = True):  # type: ignore[no-untyped-def]
    form = at.get("form")
    assert form
    at.selectbox[1].set_value(name)
    at.radio[0].set_value(action)
    at.checkbox[0].set_value(sure)
    return next(b for b in at.button if b.label == "적용").click().run()


def test_admin_disables_enables_and_removes_users(db: Path) -> None:
    at = signed_in_app("admin", PAGE)
    assert not at.exception
    assert "admin" not in at.selectbox[1].options                     # not oneself
    _manage(at, "policy", "disable", sure=False)
    assert active_role(users_path(db), "policy") == "policy"           # nothing without the confirmation
    _manage(at, "policy", "disable")
    assert active_role(users_path(db), "policy") is None and "사용 중지" in texts(at) + str(at.dataframe[0].value)
    _manage(at, "policy", "enable")
    assert active_role(users_path(db), "policy") == "policy"
    _manage(at, "auditor", "remove")
    assert "auditor" not in dict(list_users(users_path(db)))
    assert not at.exception


def test_admin_sees_jobs_and_their_state_others_see_no_commands(db: Path) -> None:
    job = jobs.start(db, "brokers", by="admin")                       # the mini database has no fingerprints
    deadline = time.monotonic() + 120
    while (now := jobs.get(db, job.id)).active:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    at = signed_in_app("admin", PAGE)
    assert not at.exception
    listed = at.dataframe[1].value
    assert list(listed["작업"]) == ["브로커 탐지"] and list(listed["상태"]) == [{"done": "완료", "failed": "실패"}[now.status]]
    auditor = signed_in_app("auditor", "pages/brokers.py")
    shown = texts(auditor)
    assert "python -m" not in shown and str(db.parent) not in shown


def test_access_log_names_roles_and_actions(db: Path) -> None:
    """The access log reads in the page's language: roles and actions by name, not their codes."""
    from data.privacy import log_access
    from ui.i18n import t

    log_access(db, "policy", "policy", "sign_in")
    log_access(db, "admin", "admin", "job_start", "setup 1")
    at = signed_in_app("admin", PAGE)
    assert not at.exception
    log = next(d.value for d in at.dataframe if "action" in d.value.columns)
    assert {t("admin.action.sign_in", "ko"), t("admin.action.job_start", "ko")} <= set(log["action"])
    assert t("role.policy", "ko") in set(log["role"]) and not {"sign_in", "job_start", "policy"} & set(log["action"])
    assert log["object"].notna().all() and "–" in set(log["object"])   # a row with no object shows '–', not None
