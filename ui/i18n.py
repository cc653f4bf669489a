"""One label catalogue, Korean first: every module under ``ui/labels/`` contributes ``LABELS``.

Each view keeps its labels in its own module (``ui/labels/uptake.py``: keys ``uptake.*``) so that
helpers do not edit one shared file; they are merged here at import, and a key defined twice is an
error at once rather than a silent override.
"""
from __future__ import annotations

import importlib
import pkgutil

import ui.labels

LANGS: tuple[str, ...] = ("ko", "en")
DEFAULT_LANG = "ko"


def _merge() -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    catalogue: dict[str, tuple[str, str]] = {}
    origin: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(ui.labels.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"ui.labels.{info.name}")
        for key, value in getattr(module, "LABELS", {}).items():
            if key in catalogue:
                raise ValueError(f"label {key!r} is defined in ui/labels/{origin[key]}.py and ui/labels/{info.name}.py")
            catalogue[key] = value
            origin[key] = info.name
    return catalogue, origin


CATALOGUE, ORIGIN = _merge()


def t(key: str, lang: str = DEFAULT_LANG, **kw: object) -> str:
    """The label ``key`` in ``lang``, formatted with ``kw``; an unknown key shows itself in brackets."""
    entry = CATALOGUE.get(key)
    if entry is None:
        return f"[{key}]"
    text = entry[LANGS.index(lang) if lang in LANGS else 0]
    return text.format(**kw) if kw else text
