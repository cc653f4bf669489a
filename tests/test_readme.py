"""The README is the manual: its commands are the ones CI runs and its page table is the app's."""
from __future__ import annotations

import re
from pathlib import Path

from app import PAGES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_ci_runs_the_readme_test_command() -> None:
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    last = [line for line in lines if line and not line.startswith(("#", "set ", "cd ", "export ", "fi", "if ", "apt", "|"))][-1]
    assert last == "make test"
    assert re.search(r"^make test\b", README, re.M)
    assert re.search(r"^make app\b", README, re.M)


def test_readme_page_table_matches_the_registry() -> None:
    table = {m.group(1): set(r.strip() for r in m.group(2).split(","))
             for m in re.finditer(r"^\|[^|]+\| `/(\w+)` \| ([^|]+) \|", README, re.M)}
    registry = {spec.key: ({"policy", "evaluator", "auditor", "admin"} if len(spec.roles) == 4 else set(spec.roles))
                for spec in PAGES}
    assert {k: ({"policy", "evaluator", "auditor", "admin"} if v == {"all"} else v) for k, v in table.items()} == registry
