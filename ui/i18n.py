"""One label catalogue, Korean first, kept as data: every ``ui/labels/<view>.toml`` contributes its keys.

Each view keeps its labels in its own file (``ui/labels/uptake.toml``: keys ``uptake.*``) so that
helpers do not edit one shared file. TOML itself refuses a key written twice in one file (a Python
dict literal silently keeps the last); across files they are merged here at import, and a key
defined in two files is an error at once rather than a silent override.

English needs plurals where Korean does not ("1 day", "3 days"): such a label gives ``en`` as a
table, ``en = { one = "{n} day", other = "{n} days" }``, and :func:`t` picks the form by the
number passed as ``n``. Korean has one form.
"""
from __future__ import annotations

import tomllib
from pathlib import Path

LANGS: tuple[str, ...] = ("ko", "en")
DEFAULT_LANG = "ko"
LABELS_DIR = Path(__file__).resolve().parent / "labels"


PLURAL_FORMS = ("one", "other")
PLURALS: dict[str, dict[str, str]] = {}  # key -> the English forms, for labels that have them


def _merge(folder: Path = LABELS_DIR) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    catalogue: dict[str, tuple[str, str]] = {}
    origin: dict[str, str] = {}
    plurals: dict[str, dict[str, str]] = {}
    for path in sorted(folder.glob("*.toml")):
        with path.open("rb") as handle:
            entries = tomllib.load(handle)
        for key, value in entries.items():
            if key in catalogue:
                raise ValueError(f"label {key!r} is defined in ui/labels/{origin[key]}.toml and ui/labels/{path.name}")
            if set(value) != set(LANGS):
                raise ValueError(f"label {key!r} in ui/labels/{path.name} needs exactly {LANGS}, has {sorted(value)}")
            en = value["en"]
            if isinstance(en, dict):
                if set(en) != set(PLURAL_FORMS):
                    raise ValueError(f"label {key!r} in ui/labels/{path.name}: plural forms must be {PLURAL_FORMS}")
                plurals[key] = dict(en)
                en = en["other"]
            catalogue[key] = (value["ko"], en)
            origin[key] = path.stem
    if folder == LABELS_DIR:
        PLURALS.update(plurals)
    return catalogue, origin


CATALOGUE, ORIGIN = _merge()


def t(key: str, lang: str = DEFAULT_LANG, **kw: object) -> str:
    """The label ``key`` in ``lang``, formatted with ``kw``; an unknown key shows itself in brackets."""
    entry = CATALOGUE.get(key)
    if entry is None:
        return f"[{key}]"
    text = entry[LANGS.index(lang) if lang in LANGS else 0]
    if lang == "en" and key in PLURALS and isinstance(kw.get("n"), (int, float)):
        text = PLURALS[key]["one" if kw["n"] == 1 else "other"]
    return text.format(**kw) if kw else text
