# The two commands of the README. Both create .venv on first use and install the pinned requirements.
PY := .venv/bin/python
# `make app HOST=0.0.0.0` serves on every interface (for a deployment behind TLS); local only by default.
HOST ?= 127.0.0.1

.venv/bin/python:
	python3 -m venv .venv

.PHONY: app test
app: .venv/bin/python  ## install and start the app (builds var/madang.duckdb on first start)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements.txt
	$(PY) -m streamlit run serve.py --server.address $(HOST)

test: .venv/bin/python  ## install and run the whole test suite: ruff, mypy, then pytest
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest -q -n auto --maxprocesses 4 --dist loadfile
