"""Speed and memory benchmarks: ``python -m bench.NAME`` from the project root.

Each prints its figures and writes them as JSON to ``bench/out/NAME.json`` (with the machine's cores
and memory), beside a real peer where one exists. Large databases are built under ``var/bench/``.
"""
