"""What every benchmark shares: the figures file, the machine, and the AppTest harness for pages."""
from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "bench" / "out"
BENCH_DIR = ROOT / "var" / "bench"
APP = str(ROOT / "app.py")


def machine() -> dict[str, Any]:
    """Cores and memory of this machine, stored beside every figure (numbers mean little without them)."""
    with open("/proc/meminfo", encoding="ascii") as fh:
        total_kb = next(int(line.split()[1]) for line in fh if line.startswith("MemTotal:"))
    return {"cores": os.cpu_count(), "memory_gb": round(total_kb / 1024 ** 2, 1),
            "python": platform.python_version(), "platform": platform.platform()}


def write_json(name: str, figures: dict[str, Any]) -> Path:
    """Write ``figures`` to bench/out/NAME.json with the machine and the time; returns the path."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"{name}.json"
    doc = {"benchmark": name, "at": datetime.now().isoformat(timespec="seconds"), "machine": machine(),
           "figures": figures}
    path.write_text(json.dumps(doc, indent=1, default=str, ensure_ascii=False), encoding="utf-8")
    print(f"figures written to {path.relative_to(ROOT)}")
    return path


def peak_rss_gb() -> float:
    """Peak resident memory of this process and its finished children, in GB."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024 ** 2


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    """Seconds one call takes, and its result."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


# ---------------------------------------------------------------- pages under AppTest
def signed_in_app(role: str, page: str | None = None, *, user: str | None = None,
                  query: dict[str, str | list[str]] | None = None, timeout: float = 30) -> Any:
    """app.py run once as a signed-in ``role`` (MADANG_DB must be set), optionally on ``page``.

    Signing in through the form is tested in tests/ui/test_signin.py; other callers set the
    session's sign-in directly, which is what the form does on success.
    """
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=timeout)
    at.session_state["auth"] = {"user": user or role, "role": role}
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page is not None:
        at.switch_page(page).run()
    return at


def served_pages_init() -> Callable[..., None]:
    """A ``PagesManager.__init__`` that makes AppTest run app.py on every run, as the server does
    once st.navigation has been called (tests/ui/conftest.py installs it per test, benchmarks for good).

    AppTest resets Streamlit's "legacy pages/ folder" flag before each run, so with a pages/ folder
    its second and later runs would execute the page file alone (no app.py, no shell, no role check).
    """
    from streamlit.runtime.pages_manager import PagesManager

    original = PagesManager.__init__

    def init(self: PagesManager, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    return init


def median_rerun(at: Any, reruns: int) -> float:
    """Median seconds of ``reruns`` plain reruns of what ``at`` shows (no widget changed)."""
    times = []
    for _ in range(reruns):
        t = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t)
    assert not at.exception, at.exception
    return statistics.median(times)


def served_script_cache() -> None:
    """Make every AppTest run share one compiled-script cache, as a server does.

    AppTest compiles app.py and the page file again on every run (a new ``ScriptCache`` each time),
    which a running server does once; without this, every measured rerun would include it."""
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner

    shared = ScriptCache()
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: shared  # type: ignore[assignment,misc]
