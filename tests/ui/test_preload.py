"""The server's start-up preload: the pages' own top-level imports, read from pages/*.py."""
from __future__ import annotations

import sys
from pathlib import Path

from ui import preload


def test_page_imports_are_read_from_the_page_files() -> None:
    found = preload.page_imports()
    # the heavy ones the first visitor would otherwise wait for
    assert {"analytics.matching.recommend", "scoring.views", "analytics.brokers.graph"} <= set(found)


def test_import_all_skips_names_that_are_not_modules(tmp_path: Path) -> None:
    (tmp_path / "p.py").write_text("from json import dumps\nimport madang_no_such_module_x\n", encoding="utf-8")
    names = preload.page_imports(tmp_path)
    assert names == ["json", "json.dumps", "madang_no_such_module_x"]
    preload.import_all(names)   # neither a name in a module nor a missing module stops it
    assert "json" in sys.modules


def test_start_runs_in_the_background() -> None:
    thread = preload.start()
    assert thread.daemon
    thread.join(timeout=120)
    assert "analytics.matching.recommend" in sys.modules
