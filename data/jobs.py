"""Batch jobs started from the app: the existing commands run as background processes, with a record.

    python -m data.jobs start KIND --db PATH [--dir FOLDER]   # what the app does (detached)
    python -m data.jobs list --db PATH

A job is one or more of the batch commands (``scoring.train``, ``analytics.brokers``, ``data.load``)
run one after the other as subprocesses. Each job has a small JSON record in ``<stem>.jobs/`` beside
the data file (status, current step, the last progress line, timestamps) that any app process can
read to show progress, and a log file with the commands' full output (for administrators only).

Jobs of one data file run one at a time: the runner takes a lock before its first step, so a job
started while another runs waits as ``queued`` (the commands themselves refuse a second writer). A
runner killed mid-way leaves a record saying ``running`` with a dead process: :func:`jobs` reports
it as ``failed`` (interrupted), and the data file is untouched because every command writes
through ``data.db.writer``.
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

from data.db import PROJECT_ROOT, default_db_path

# kind -> the batch commands it runs, in order ("{dir}" is the job's import folder).
KINDS: dict[str, tuple[tuple[str, ...], ...]] = {
    "setup": (("scoring.train",), ("analytics.brokers",), ("analytics.matching", "evaluate")),  # after the first build
    "train": (("scoring.train",),),
    "brokers": (("analytics.brokers",),),
    "matching": (("analytics.matching", "evaluate"),),
    "import": (("data.load", "{dir}"),),
}
# What each kind produces, for pages that wait for it ("scores": the scoring page, "clusters": brokers).
PRODUCES: dict[str, frozenset[str]] = {
    "setup": frozenset({"scores", "clusters", "evaluation"}),
    "train": frozenset({"scores"}),
    "brokers": frozenset({"clusters"}),
    "matching": frozenset({"evaluation"}),
    "import": frozenset({"data", "scores", "clusters", "evaluation"}),
}
ACTIVE = ("queued", "running")
_WRITE_EVERY_S = 1.0  # progress lines are written to the record at most this often


@dataclass
class Job:
    """One job's record (the JSON file), as the app shows it."""

    id: str
    kind: str
    status: str                      # queued, running, done, failed
    by: str
    created_at: str
    steps: int
    step: int = 0                    # steps finished
    started_at: str | None = None
    ended_at: str | None = None
    last_line: str = ""
    returncode: int | None = None
    pid: int | None = None
    folder: str | None = None        # the import folder of an "import" job
    error: str = ""                  # why it failed, in words for an administrator
    commands: list[list[str]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def fraction(self) -> float:
        return 1.0 if self.status == "done" else self.step / max(self.steps, 1)

    def elapsed_s(self, now: float | None = None) -> float:
        if not self.started_at:
            return 0.0
        end = datetime.fromisoformat(self.ended_at).timestamp() if self.ended_at else (now or time.time())
        return max(end - datetime.fromisoformat(self.started_at).timestamp(), 0.0)


def _folder(db_path: Path | str) -> Path:
    p = Path(db_path)
    return p.with_name(p.stem + ".jobs")


def jobs_dir(db_path: Path | str) -> Path:
    """The folder of job records and logs that belongs to a data file (created owner-only)."""
    folder = _folder(db_path)
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    return folder


def log_path(db_path: Path | str, job_id: str) -> Path:
    return jobs_dir(db_path) / f"{job_id}.log"


def log_tail(db_path: Path | str, job_id: str, lines: int = 40) -> str:
    """The last ``lines`` lines of a job's output (for administrators: it names commands and paths)."""
    try:
        text = log_path(db_path, job_id).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _now() -> str:
    return datetime.now().isoformat(timespec="seconds")


def _write(db_path: Path | str, job: Job) -> None:
    folder = jobs_dir(db_path)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{job.id}.")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(asdict(job), fh, ensure_ascii=False)
    os.replace(tmp, folder / f"{job.id}.json")


def _read(path: Path) -> Job | None:
    try:
        return Job(**json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError):
        return None  # a record being replaced or damaged: skip it this time


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a finished child of this process stays a zombie until reaped: reap it if it is ours
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return True


def get(db_path: Path | str, job_id: str) -> Job | None:
    """One job's record (an interrupted job reported as failed)."""
    job = _read(_folder(db_path) / f"{job_id}.json")
    return _checked(job) if job else None


def _checked(job: Job) -> Job:
    launched = job.pid is not None or time.time() - datetime.fromisoformat(job.created_at).timestamp() > 60
    if job.active and launched and not _alive(job.pid):
        job.status, job.error = "failed", job.error or "interrupted: the job's process is gone"
    return job


def jobs(db_path: Path | str, limit: int = 50) -> list[Job]:
    """The most recent jobs, newest first."""
    records = sorted(_folder(db_path).glob("*.json"), reverse=True)[:limit]
    return [_checked(job) for job in map(_read, records) if job is not None]


def pending(db_path: Path | str, product: str) -> Job | None:
    """The newest job that is queued or running and will produce ``product`` (scores, clusters, data)."""
    return next((j for j in jobs(db_path, 20) if j.active and product in PRODUCES[j.kind]), None)


def latest(db_path: Path | str, product: str) -> Job | None:
    """The newest job, whatever its state, that produces ``product``."""
    return next((j for j in jobs(db_path, 20) if product in PRODUCES[j.kind]), None)


def start(db_path: Path | str, kind: str, *, by: str, folder: Path | str | None = None) -> Job:
    """Start a job in the background (a detached runner process); returns its record at once.

    An equal job already queued or running is returned instead of starting a second one.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown job {kind!r}; one of {', '.join(KINDS)}")
    if (kind == "import") != (folder is not None):
        raise ValueError("an import job needs a folder, and only an import job takes one")
    db_path = Path(db_path).resolve()
    if kind != "import":
        same = next((j for j in jobs(db_path, 20) if j.active and j.kind == kind), None)
        if same is not None:
            return same
    job_id = f"{datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"
    commands = [[part.format(dir=folder) for part in cmd] for cmd in KINDS[kind]]
    job = Job(id=job_id, kind=kind, status="queued", by=by, created_at=_now(), steps=len(commands),
              folder=str(folder) if folder else None, commands=commands)
    _write(db_path, job)
    with open(log_path(db_path, job_id), "ab") as log:
        os.chmod(log.name, 0o600)
        proc = subprocess.Popen(
            [sys.executable, "-m", "data.jobs", "--db", str(db_path), "_run", job_id],
            cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives the app's script run (and a restart of the app)
        )
    job.pid = proc.pid
    _write(db_path, job)
    return job


def _run(db_path: Path, job_id: str) -> int:
    """The runner (``python -m data.jobs _run``): the job's commands in order, recorded as they go."""
    job = _read(jobs_dir(db_path) / f"{job_id}.json")
    if job is None:
        print(f"error: no job {job_id}", file=sys.stderr)
        return 2
    job.pid = os.getpid()
    _write(db_path, job)
    with open(jobs_dir(db_path) / "run.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # wait for the job before this one
        job.status, job.started_at = "running", _now()
        _write(db_path, job)
        try:
            for command in job.commands:
                module, *args = command
                if module not in {cmd[0] for cmds in KINDS.values() for cmd in cmds}:
                    raise ValueError(f"not a batch command: {module}")
                print(f"$ python -m {module} {' '.join(args)} --db {db_path}", flush=True)
                rc = _stream(db_path, job, [sys.executable, "-m", module, *args, "--db", str(db_path)])
                if rc != 0:
                    job.status, job.returncode = "failed", rc
                    job.error = job.last_line or f"{module} exited with {rc}"
                    break
                job.step += 1
            else:
                job.status, job.returncode = "done", 0
        except Exception as exc:  # the record must say failed whatever went wrong
            job.status, job.error = "failed", f"{type(exc).__name__}: {exc}"
        finally:
            job.ended_at = _now()
            _write(db_path, job)
            if job.kind == "import" and job.folder and Path(job.folder).parent == uploads_dir(db_path):
                shutil.rmtree(job.folder, ignore_errors=True)  # uploaded files are not kept
    return 0 if job.status == "done" else 1


def _stream(db_path: Path, job: Job, argv: Sequence[str]) -> int:
    """Run one command, copying its output to the log and its latest line to the record."""
    proc = subprocess.Popen(argv, cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, bufsize=1)
    assert proc.stdout is not None
    written = 0.0
    for line in proc.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        if any(ch.isalnum() for ch in line):  # not a traceback's ^^^ underline or a blank line
            job.last_line = line.strip()[:500]
            if time.monotonic() - written > _WRITE_EVERY_S:
                _write(db_path, job)
                written = time.monotonic()
    return proc.wait()


def uploads_dir(db_path: Path | str) -> Path:
    """Where uploaded import files wait for their job (owner-only; removed when the job ends)."""
    folder = jobs_dir(db_path) / "uploads"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def save_uploads(db_path: Path | str, files: Sequence[tuple[str, bytes]]) -> Path:
    """Write uploaded (name, content) pairs into a fresh private folder for an import job.

    Only the base name of each file is kept, so a name cannot point outside the folder.
    """
    folder = Path(tempfile.mkdtemp(prefix="import-", dir=uploads_dir(db_path)))
    for name, content in files:
        base = Path(name).name
        if not base or base.startswith("."):
            raise ValueError(f"not a file name: {name!r}")
        target = folder / base
        target.write_bytes(content)
        target.chmod(0o600)
    return folder


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m data.jobs", description="Start and list background batch jobs.")
    ap.add_argument("--db", type=Path, default=None, help="the data file (default: $MADANG_DB or var/madang.duckdb)")
    sub = ap.add_subparsers(dest="command", required=True)
    st = sub.add_parser("start", help="start a job in the background")
    st.add_argument("kind", choices=KINDS)
    st.add_argument("--dir", type=Path, help="the folder to import (import jobs)")
    sub.add_parser("list", help="recent jobs, newest first")
    run = sub.add_parser("_run", help=argparse.SUPPRESS)
    run.add_argument("job_id")
    args = ap.parse_args(argv)
    db_path = (args.db or default_db_path()).resolve()
    if args.command == "_run":
        return _run(db_path, args.job_id)
    if args.command == "start":
        try:
            job = start(db_path, args.kind, by=os.environ.get("USER", "cli"),
                        folder=args.dir.resolve() if args.dir else None)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"job {job.id} ({job.kind}) {job.status}; log: {log_path(db_path, job.id)}")
        return 0
    for job in jobs(db_path):
        print(f"{job.id}\t{job.kind}\t{job.status}\t{job.step}/{job.steps}\t{job.last_line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
