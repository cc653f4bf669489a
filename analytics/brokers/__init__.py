"""Broker network audit (불법 브로커 · 제3자 부당개입): detection, clusters, evidence and cases.

Detection (the batch job, ``python -m analytics.brokers``): :mod:`.links` (shared identifiers and
plan similarity), :mod:`.minhash` (MinHash LSH over plans), :mod:`.clusters` (components and risk),
:mod:`.detect` (the job and its stored runs), :mod:`.evaluation` (against a planted truth).
Investigation: :mod:`.views` (ranked clusters, search, graph), :mod:`.evidence` (why linked,
timeline, evidence packs), :mod:`.cases` (append-only case records), :mod:`.suppressions`.
"""
from analytics.brokers.detect import Detection, run

__all__ = ["Detection", "run"]
