"""The layering the design promises, checked on the source: imports flow pages -> analytics/scoring ->
data; only pages, ui and app.py know Streamlit; pages hold no SQL."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _sources(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py"))


def test_core_packages_never_import_streamlit_or_ui() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for folder in ("data", "analytics", "scoring")
        for p in _sources(folder)
        if _imports(p) & {"streamlit", "ui", "pages"}
    ]
    assert offenders == []


def test_data_layer_does_not_import_upper_layers() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in _sources("data") if _imports(p) & {"analytics", "scoring"}]
    assert offenders == []


def test_pages_hold_no_sql() -> None:
    sql = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b[^\n]*\b(FROM|INTO|SET)\b")
    offenders = [str(p.relative_to(ROOT)) for p in _sources("pages") if sql.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
    assert not [p for p in _sources("pages") if "duckdb" in _imports(p)]
