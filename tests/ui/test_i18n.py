"""One catalogue: every key in both languages, no key defined twice, every used key defined."""
from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from ui import i18n

ROOT = Path(__file__).resolve().parents[2]


def test_every_label_has_korean_and_english_with_the_same_placeholders() -> None:
    fields = lambda text: {f for _, f, _, _ in string.Formatter().parse(text) if f}  # noqa: E731
    for key, value in i18n.CATALOGUE.items():
        assert isinstance(value, tuple) and len(value) == 2, key
        ko, en = value
        assert ko.strip() and en.strip(), key
        assert fields(ko) == fields(en), key


def test_keys_are_prefixed_by_their_module() -> None:
    common_prefixes = {"app", "signin", "denied", "role", "setup", "side", "dim", "notice", "category", "common"}
    for key, module in i18n.ORIGIN.items():
        prefix = key.split(".")[0]
        assert prefix == module or (module == "common" and prefix in common_prefixes), (key, module)


def test_a_key_defined_in_two_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('"x.title" = { ko = "가", en = "A" }\n', encoding="utf-8")
    (tmp_path / "b.toml").write_text('"x.title" = { ko = "나", en = "B" }\n', encoding="utf-8")
    with pytest.raises(ValueError, match="x.title"):
        i18n._merge(tmp_path)


def test_a_key_written_twice_in_one_file_is_refused(tmp_path: Path) -> None:
    import tomllib

    (tmp_path / "a.toml").write_text('"x.title" = { ko = "가", en = "A" }\n"x.title" = { ko = "나", en = "B" }\n',
                                     encoding="utf-8")
    with pytest.raises(tomllib.TOMLDecodeError):
        i18n._merge(tmp_path)


def test_a_label_missing_a_language_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.toml").write_text('"x.title" = { ko = "가" }\n', encoding="utf-8")
    with pytest.raises(ValueError, match="x.title"):
        i18n._merge(tmp_path)


def test_t_formats_and_falls_back_visibly() -> None:
    assert i18n.t("notice.unknown", "en", name="q") == "Ignored the unknown URL parameter 'q'."
    assert i18n.t("overview.title") == "개요"
    assert i18n.t("no.such.key", "en") == "[no.such.key]"


def _used_keys() -> set[str]:
    """Literal label keys passed to t()/ctx.t()/label()/empty() in app, ui and pages, and page titles."""
    keys: set[str] = set()
    files = [ROOT / "app.py", *(ROOT / "ui").rglob("*.py"), *(ROOT / "pages").glob("*.py")]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name == "page":  # page("uptake") titles itself "uptake.title"
                    keys.update(f"{arg.value}.title" for arg in node.args[:1] if isinstance(arg, ast.Constant))
                    continue
                if name not in ("t", "label", "empty"):
                    continue
                keys.update(arg.value for arg in node.args if isinstance(arg, ast.Constant)
                            and isinstance(arg.value, str) and re.fullmatch(r"[a-z_]+\.[\w.]+", arg.value))
    return keys


def test_every_literal_key_used_in_the_code_exists() -> None:
    used = _used_keys()
    assert "overview.title" in used and "signin.failed" in used
    assert sorted(used - set(i18n.CATALOGUE)) == []
