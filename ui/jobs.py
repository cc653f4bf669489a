"""Background jobs in the app: progress on the pages that wait for them, and the admin's job list.

Pages never show commands or server paths: a page whose results a job has not produced yet calls
:func:`wait_for`, which shows the running job's progress (refreshed every few seconds, the page
reloads itself when the job ends), or says that nothing has been computed yet; an administrator
also gets a button that starts the job there and then.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import streamlit as st

from data import access, jobs
from ui import cache
from ui.i18n import t

if TYPE_CHECKING:
    from ui.shell import PageContext

POLL_S = 3.0
_PRODUCER = {"scores": "train", "clusters": "brokers", "evaluation": "matching"}  # the job an admin starts for a missing result


def status_text(job: jobs.Job, lang: str) -> str:
    """A job's state in words (no commands, no paths): what, how far, for how long."""
    return t(f"jobs.status.{job.status}", lang, kind=t(f"jobs.kind.{job.kind}", lang), step=job.step + 1,
             steps=job.steps, minutes=int(job.elapsed_s() // 60), seconds=int(job.elapsed_s() % 60))


def progress(job: jobs.Job, lang: str, *, admin: bool) -> None:
    """One job's progress bar and state; administrators also see its latest output line."""
    st.progress(job.fraction, text=status_text(job, lang))
    if admin and job.last_line:
        st.caption(job.last_line)


def wait_for(ctx: PageContext, product: str) -> None:
    """Stop the page with the state of the job that produces ``product`` (scores, clusters)."""
    admin = access.may(ctx.role, "admin.jobs")
    job = jobs.pending(ctx.db_path, product)
    if job is not None:
        st.info(ctx.t(f"jobs.waiting.{product}"), icon=":material/hourglass_top:")

        @st.fragment(run_every=POLL_S)
        def watch() -> None:
            now = jobs.get(ctx.db_path, job.id)
            if now is None or not now.active:
                st.rerun(scope="app")
            progress(now, ctx.lang, admin=admin)

        watch()
        st.stop()
    last = jobs.latest(ctx.db_path, product)
    if last is not None and last.status == "failed":
        st.error(ctx.t("jobs.failed_page", kind=ctx.t(f"jobs.kind.{last.kind}")), icon=":material/error:")
        if admin and last.error:
            st.caption(last.error)
    else:
        st.info(ctx.t(f"jobs.missing.{product}"), icon=":material/info:")
    if admin:
        if st.button(ctx.t("jobs.start", kind=ctx.t(f"jobs.kind.{_PRODUCER[product]}")), icon=":material/play_arrow:",
                     key=f"_job_{product}"):
            started = jobs.start(ctx.db_path, _PRODUCER[product], by=ctx.user)
            ctx.log("job_start", f"{started.kind} {started.id}")
            st.rerun()
    else:
        st.caption(ctx.t("jobs.ask_admin"))
    st.stop()


def watch_list(ctx: PageContext) -> None:
    """The admin's job list: every recent job, refreshed while any is active; caches follow new data."""

    @st.fragment(run_every=POLL_S)
    def table() -> None:
        recent = jobs.jobs(ctx.db_path, 20)
        active = [j for j in recent if j.active]
        for job in active:
            progress(job, ctx.lang, admin=True)
        if not recent:
            ctx.empty("jobs.none")
            return
        st.dataframe([{
            ctx.t("jobs.col.kind"): ctx.t(f"jobs.kind.{j.kind}"),
            ctx.t("jobs.col.status"): ctx.t(f"jobs.state.{j.status}"),
            ctx.t("jobs.col.by"): j.by,
            ctx.t("jobs.col.created"): j.created_at.replace("T", " "),
            ctx.t("jobs.col.minutes"): round(j.elapsed_s() / 60, 1),
            ctx.t("jobs.col.last"): j.error or j.last_line,
        } for j in recent], hide_index=True)
        cache.warm(ctx.db_path)

    table()
