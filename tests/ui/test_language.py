"""One language at a time: every page, every tab or section, rendered in Korean and in English
(AppTest, admin sees every page; the database has trained models and a broker run). Fails on a
label key shown raw ("[uptake.col.x]"), a code or column name shown to the reader
(``documents_per_application_now``, ``micro``), an English status word or Streamlit's own English
texts on a Korean page, or a literal ``None``.

What is read: titles, text, captions, alerts, metrics, tab and widget labels, options and
placeholders, table headers and text cells, and the charts' titles, axis titles, legend names and
category labels (hover texts are left out: they carry identifiers on purpose).
"""
from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics import brokers
from tests.ui.helpers import opened_link, texts

RAW_KEY = re.compile(r"\[[a-z_]+\.[A-Za-z0-9_.+\-]+\]")
SNAKE = re.compile(r"(?<![\w./@-])[a-z]+(?:_[a-z0-9]+)+(?![\w./@-])")   # a column or code name
LITERAL_NONE = re.compile(r"(?<!\w)(None|nan|NaN|NaT)(?!\w)")
# codes and English words that must not stand alone in a Korean page's cells, options or legends
ENGLISH_ON_KO = {"selected", "rejected", "withdrawn", "submitted", "open", "closed", "micro", "small", "medium",
                 "large", "true", "false", "True", "False", "yes", "no", "uses", "plans", "none", "total"}
STREAMLIT_EN = ("Choose options", "Choose an option", "Select all", "No results", "Add an option")

# every page and the URL values that open each of its tabs or sections
VIEWS: dict[str, list[dict[str, str]]] = {
    "pages/overview.py": [{}],
    "pages/catalogue.py": [{}],
    "pages/uptake.py": [{"tab": tab} for tab in ("summary", "breakdown", "reach", "docs", "time", "program")]
    + [{"tab": "summary", "fby": "size"}, {"tab": "breakdown", "by": "region"}],
    "pages/adoption.py": [{"view": v} for v in ("estimates", "gaps", "map", "targets", "barriers", "reach", "published")],
    "pages/matching.py": [{"tab": tab} for tab in ("recommend", "evaluation", "gaps")],
    "pages/scoring.py": [{"app": "1"}, {"tab": "global"}, {"tab": "card"}],
    "pages/brokers.py": [{"tab": tab} for tab in ("graph", "why", "timeline", "case", "suppress")],
    "pages/admin.py": [{}],
}


@pytest.fixture(scope="module")
def full_db(matching_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny database with a stored matching evaluation (with its blind spots; a copy of the session's,
    not a second evaluation), both models trained and one broker run: every page has content."""
    from scoring import train

    path = tmp_path_factory.mktemp("language") / "madang.duckdb"
    shutil.copyfile(matching_db, path)
    train.run(path, seed=7, threads=1, progress=lambda s: None)
    brokers.run(path)
    return path


def _figure_texts(spec: dict) -> Iterator[str]:
    layout = spec.get("layout", {})
    for part in (layout, *(v for k, v in layout.items() if k.startswith(("xaxis", "yaxis")) and isinstance(v, dict)),
                 layout.get("legend", {}) or {}):
        title = part.get("title")
        yield title.get("text", "") if isinstance(title, dict) else str(title or "")
    for note in layout.get("annotations", []) or []:
        yield str(note.get("text", ""))
    for trace in spec.get("data", []):
        if trace.get("name"):
            yield str(trace["name"])
        for axis in ("x", "y"):
            values = trace.get(axis)
            if isinstance(values, list) and values and all(isinstance(v, str) for v in values):
                yield from values
        if isinstance(trace.get("text"), list):
            yield from (str(v) for v in trace["text"] if isinstance(v, str))


def _table_texts(at: AppTest) -> Iterator[tuple[str, str]]:
    """('header'|'cell', text) of every table as shown."""
    for frame in at.dataframe:
        config = json.loads(frame.proto.columns) if frame.proto.columns else {}
        df = frame.value
        for col in df.columns:
            cfg = config.get(str(col), {})
            if cfg.get("hidden"):
                continue
            yield "header", str(cfg.get("label") or col)
            if df[col].dtype == object:
                yield from (("cell", str(v)) for v in df[col].dropna().unique()[:200])
            if df[col].isna().any() and cfg.get("type_config", {}).get("type") != "checkbox":
                yield "cell", "None"   # a missing cell, text or number, is drawn as "None" by the table


def _widget_texts(at: AppTest) -> Iterator[tuple[str, str]]:
    for kind in ("selectbox", "multiselect", "radio", "segmented_control", "text_input", "number_input",
                 "date_input", "toggle", "checkbox", "button"):
        for w in getattr(at, kind, []):
            yield "label", str(getattr(w, "label", "") or "")
            for option in getattr(w, "options", None) or []:
                yield "option", str(option)
            placeholder = getattr(w.proto, "placeholder", "")
            if placeholder:
                yield "placeholder", placeholder
            if kind == "multiselect" and w.proto.select_all:
                yield "placeholder", "Select all"   # the bulk action Streamlit labels in English only
    for tab in at.tabs:
        yield "label", str(tab.label)
    for button in at.get("download_button"):
        yield "label", str(button.proto.label)


def _problems(at: AppTest, lang: str) -> list[str]:
    found: list[tuple[str, str]] = [("text", line) for line in texts(at).splitlines()]
    found += list(_table_texts(at)) + list(_widget_texts(at))
    for chart in at.get("plotly_chart"):
        found += [("chart", s) for s in _figure_texts(json.loads(chart.proto.spec))]
    bad = []
    for where, text in found:
        if RAW_KEY.search(text):
            bad.append(f"raw label key in {where}: {text!r}")
        if LITERAL_NONE.search(text) and where != "text":
            bad.append(f"literal None in {where}: {text!r}")
        if where != "text" and SNAKE.search(re.sub(r"<[^>]+>", " ", text)):
            bad.append(f"code name in {where}: {text!r}")
        if lang == "ko":
            if where in ("cell", "option", "chart") and text.strip() in ENGLISH_ON_KO:
                bad.append(f"English word on the Korean page in {where}: {text!r}")
            if any(s in text for s in STREAMLIT_EN):
                bad.append(f"Streamlit's English in {where}: {text!r}")
    return bad


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("page", list(VIEWS))
def test_every_page_speaks_one_language(full_db: Path, monkeypatch: pytest.MonkeyPatch, page: str, lang: str) -> None:
    monkeypatch.setenv("MADANG_DB", str(full_db))
    problems: list[str] = []
    for query in VIEWS[page]:
        at = opened_link("admin", page, {**query, **({"lang": lang} if lang != "ko" else {})}, timeout=180)
        assert not at.exception, (page, query, at.exception)
        problems += [f"{query}: {p}" for p in _problems(at, lang)]
    assert sorted(set(problems)) == []
