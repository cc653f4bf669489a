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


_SQL = re.compile(r"\bselect\b.+?\bfrom\s+\w+|\binsert\s+into\b|\bupdate\s+\w+\s+set\b|\bdelete\s+from\b",
                  re.I | re.S)


def test_pages_hold_no_sql() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in _sources("pages") if _SQL.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
    assert not [p for p in _sources("pages") if "duckdb" in _imports(p)]


def test_the_sql_pattern_catches_lower_case_and_multi_line_sql() -> None:
    assert _SQL.search("select a\n  from t where x")
    assert _SQL.search("SELECT count(*) FROM applications")
    assert _SQL.search("delete from cases") and _SQL.search("update t\n set a = 1")
    assert not _SQL.search("selected firms, from 2024")


PROJECT = ("app.py", "pages", "ui", "analytics", "scoring", "data", "bench", "tests")


def _project_sources() -> list[Path]:
    return [p for part in PROJECT for p in ([ROOT / part] if part.endswith(".py") else _sources(part))]


def test_no_module_imports_a_private_name_from_another() -> None:
    offenders = []
    for path in _project_sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                private = [a.name for a in node.names if a.name.startswith("_") and not a.name.startswith("__")]
                if private and node.module.split(".")[0] in {"analytics", "scoring", "data", "ui", "pages", "app", "bench", "tests"}:
                    offenders.append(f"{path.relative_to(ROOT)}: {node.module} {private}")
    assert offenders == []


def test_analytics_and_scoring_never_import_the_generator() -> None:
    offenders = []
    for folder in ("analytics", "scoring", "ui", "pages"):
        for path in _sources(folder):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                mods = ([a.name for a in node.names] if isinstance(node, ast.Import)
                        else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                if isinstance(node, ast.ImportFrom) and node.module == "data":
                    mods += [f"data.{a.name}" for a in node.names]
                if any(m == "data.synth" or m.startswith("data.synth.") for m in mods):
                    offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_no_role_set_is_written_outside_the_access_policy() -> None:
    from data.access import ROLES

    offenders = []
    for path in _project_sources():
        rel = path.relative_to(ROOT)
        if rel.parts[0] == "tests" or rel == Path("data/access.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Set, ast.List, ast.Tuple)) and node.elts:
                values = [e.value for e in node.elts if isinstance(e, ast.Constant)]
                if len(values) == len(node.elts) and all(v in ROLES for v in values):
                    offenders.append(f"{rel}:{node.lineno}")
            if isinstance(node, ast.Compare) and any(isinstance(c, ast.Constant) and c.value in ROLES
                                                     for c in node.comparators):
                offenders.append(f"{rel}:{node.lineno}")
    assert offenders == []


def _compares_a_language(node: ast.AST) -> bool:
    """``lang == "ko"``, ``"en" != code``, ``self.lang in (...)``: a comparison with a language code or
    with something called ``lang``."""
    if not isinstance(node, ast.Compare):
        return False
    sides = [node.left, *node.comparators]
    return any((isinstance(s, ast.Constant) and s.value in ("ko", "en"))
               or (isinstance(s, ast.Name) and s.id == "lang") or (isinstance(s, ast.Attribute) and s.attr == "lang")
               for s in sides)


def test_analytics_and_scoring_never_choose_words_by_language() -> None:
    """Words come from the one catalogue (ui/labels): analytics and scoring take ``t`` or a names
    lookup from the page and never compare a language code themselves, which would be a second
    translation system."""
    offenders = [f"{path.relative_to(ROOT)}:{node.lineno}" for folder in ("analytics", "scoring")
                 for path in _sources(folder) for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                 if _compares_a_language(node)]
    assert offenders == []


def test_the_language_check_catches_the_usual_spellings() -> None:
    for source in ('lang == "ko"', '"en" != code', 'a if self.lang == "ko" else b', "lang in LANGS",
                   'f"{_PLANS[lang == \'ko\']}"'):
        assert any(_compares_a_language(n) for n in ast.walk(ast.parse(source))), source
    assert not any(_compares_a_language(n) for n in ast.walk(ast.parse('size == "small" and names[lang]')))
