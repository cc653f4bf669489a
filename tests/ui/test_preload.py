"""The server's start-up preload: the pages' own top-level imports, read from pages/*.py."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ui import preload


def test_page_imports_are_read_from_the_page_files() -> None:
    found = preload.page_imports()
    # the heavy ones the first visitor would otherwise wait for
    assert {"analytics.matching.recommend", "scoring.views", "analytics.brokers.graph"} <= set(found)


def test_import_all_skips_names_that_are_not_modules(tmp_path: Path) -> None:
    (tmp_path / "p.py").write_text("from json import dumps\nfrom ui.fmt import money\nimport ui.no_such_module_x\n"
                                   "from st_cytoscape import cytoscape\n", encoding="utf-8")
    names = preload.page_imports(tmp_path)
    assert names == ["ui.fmt", "ui.fmt.money", "ui.no_such_module_x"]   # our packages only
    preload.import_all(names)   # neither a name in a module nor a missing module stops it
    assert "ui.fmt" in sys.modules


def test_no_custom_component_is_preloaded() -> None:
    """A component imported outside a script run is never registered: the broker graph would not
    load (seen in the browser as "having trouble loading")."""
    code = ("from ui import preload; preload.import_all(preload.page_imports()); import sys; "
            "print('st_cytoscape' in sys.modules, 'analytics.matching.recommend' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).resolve().parents[2], capture_output=True,
                         text=True, timeout=300)
    assert out.stdout.split() == ["False", "True"], out.stderr[-2000:]


def test_start_runs_in_the_background() -> None:
    thread = preload.start()
    assert thread.daemon
    thread.join(timeout=120)
    assert "analytics.matching.recommend" in sys.modules
