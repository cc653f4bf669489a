"""What the pages import, imported once in the background when the server starts.

LightGBM, scikit-learn, plotly and the analytics packages take seconds to import (tens of seconds
on a loaded machine); without this, the first visitor of the matching or scoring page after a start
waits for them. The modules are the pages' own top-level imports of this project's packages, read
from ``pages/*.py``, so the list needs no upkeep. A session that imports one of them meanwhile waits
on Python's import lock for the same work, never repeats it.

Custom components (st_cytoscape) are never preloaded: ``declare_component`` registers a component
only when imported inside a script run, so one first imported here would never be served (the page
would show "having trouble loading" for good). Our packages do not import components; pages do.
"""
from __future__ import annotations

import ast
import importlib
import logging
import threading
from pathlib import Path

PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"
PROJECT = ("analytics", "scoring", "data", "ui")   # our packages: they import no custom component


def page_imports(folder: Path = PAGES_DIR) -> list[str]:
    """The modules of this project's packages that the page files import at their top level, in
    the order first seen (third-party imports, custom components among them, are left out)."""
    found: dict[str, None] = {}
    for path in sorted(folder.glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                found.update((alias.name, None) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found[node.module] = None
                # "from analytics.matching import gaps": gaps may be a module of the package
                found.update((f"{node.module}.{alias.name}", None) for alias in node.names)
    return [name for name in found if name.split(".")[0] in PROJECT]


def import_all(names: list[str]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:   # a name imported from a module, not a module itself
            continue
        except Exception:     # a page that fails to import fails visibly when it is opened
            logging.getLogger(__name__).debug("preloading %s failed", name, exc_info=True)


def start() -> threading.Thread:
    """Import the pages' modules in a background thread; returns it."""
    thread = threading.Thread(target=import_all, args=(page_imports(),), name="madang-preload", daemon=True)
    thread.start()
    return thread
