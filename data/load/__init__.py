"""The validated import (``python -m data.load DIR --db PATH``): CSV, Parquet and 기업마당 JSON.

:mod:`.files` stages each file as it is, :mod:`.bizinfo` reads 기업마당 exports, :mod:`.checks`
validates against ``data/schema.sql``, :mod:`.errors` words the problems, :mod:`.importer` writes all
or nothing.
"""
from data.load.errors import ImportValidationError
from data.load.importer import load_dir

__all__ = ["ImportValidationError", "load_dir"]
