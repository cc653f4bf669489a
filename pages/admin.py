"""Administration (admin only): users, background jobs, data import, the access log."""
import streamlit as st

from data import access, jobs, privacy
from data.db import users_path
from data.users import add_user, disabled_users, list_users, remove_user, set_disabled
from ui import jobs as job_view
from ui.fmt import MISSING
from ui.i18n import CATALOGUE
from ui.shell import page

ctx = page("admin", filters=())
users_file = users_path(ctx.db_path)

st.subheader(ctx.t("admin.users"))
disabled = disabled_users(users_file)
users = list_users(users_file)
st.dataframe([{ctx.t("admin.user"): name, ctx.t("admin.role"): ctx.t(f"role.{role}"),
               ctx.t("admin.state"): ctx.t("admin.state.disabled" if name in disabled else "admin.state.active")}
              for name, role in users], hide_index=True)
with st.form("add_user", clear_on_submit=True):
    st.markdown(f"**{ctx.t('admin.add_user')}**")
    c1, c2, c3 = st.columns(3)
    name = c1.text_input(ctx.t("admin.user"))
    role = c2.selectbox(ctx.t("admin.role"), access.ROLES, format_func=lambda r: ctx.t(f"role.{r}"))
    password = c3.text_input(ctx.t("admin.new_password"), type="password")
    if st.form_submit_button(ctx.t("admin.save_user")):
        try:
            add_user(users_file, name, password, role)
        except ValueError as exc:
            st.error(str(exc))
        else:
            ctx.log("user_change", f"{name.strip()} ({role})")
            st.success(ctx.t("admin.saved_user", name=name.strip(), role=ctx.t(f"role.{role}")))

others = [n for n, _ in users if n != ctx.user]  # an administrator cannot lock themselves out
with st.form("manage_user"):
    st.markdown(f"**{ctx.t('admin.manage_user')}**")
    c1, c2 = st.columns([2, 3])
    target = c1.selectbox(ctx.t("admin.user"), others, index=None, placeholder=ctx.t("admin.pick_user"))
    action = c2.radio(ctx.t("admin.action"), ("disable", "enable", "remove"), horizontal=True,
                      format_func=lambda a: ctx.t(f"admin.action.{a}"))
    sure = st.checkbox(ctx.t("admin.confirm"))
    if st.form_submit_button(ctx.t("admin.apply")):
        if target is None or not sure:
            st.warning(ctx.t("admin.confirm_needed"))
        else:
            if action == "remove":
                remove_user(users_file, target)
            else:
                set_disabled(users_file, target, action == "disable")
            ctx.log("user_change", f"{target}: {action}")
            st.success(ctx.t(f"admin.done.{action}", name=target))
            st.rerun()

st.subheader(ctx.t("admin.jobs"))
st.caption(ctx.t("admin.jobs_help"))
cols = st.columns(2)   # two per row: four in a row cut the longer labels ("모델 학습, 브로커 탐지, 추천 평가 시작")
for i, kind in enumerate(("setup", "train", "brokers", "matching")):
    if cols[i % 2].button(ctx.t("jobs.start", kind=ctx.t(f"jobs.kind.{kind}")), key=f"_start_{kind}",
                          icon=":material/play_arrow:", width="stretch"):
        job = jobs.start(ctx.db_path, kind, by=ctx.user)
        ctx.log("job_start", f"{kind} {job.id}")
job_view.watch_list(ctx)
recent = jobs.jobs(ctx.db_path, 20)
if recent:
    with st.expander(ctx.t("admin.job_log")):
        chosen = st.selectbox(ctx.t("admin.job"), recent, format_func=lambda j: f"{j.id} · {ctx.t(f'jobs.kind.{j.kind}')}"
                              f" · {ctx.t(f'jobs.state.{j.status}')}")
        st.code(jobs.log_tail(ctx.db_path, chosen.id) or "—", language=None)

st.subheader(ctx.t("admin.import"))
st.caption(ctx.t("admin.import_help"))
with st.form("import", clear_on_submit=True):
    uploaded = st.file_uploader(ctx.t("admin.import_files"), type=["csv", "parquet", "json"], accept_multiple_files=True)
    if st.form_submit_button(ctx.t("admin.import_run"), icon=":material/upload:"):
        if not uploaded:
            st.warning(ctx.t("admin.import_none"))
        else:
            try:
                folder = jobs.save_uploads(ctx.db_path, [(f.name, f.getvalue()) for f in uploaded])
            except ValueError as exc:
                st.error(str(exc))
            else:
                job = jobs.start(ctx.db_path, "import", by=ctx.user, folder=folder)
                ctx.log("import", f"{', '.join(f.name for f in uploaded)} (job {job.id})")
                st.success(ctx.t("admin.import_started"))

st.subheader(ctx.t("admin.log"))
log = privacy.recent_access(ctx.db_path, ctx.role)
if log.empty:
    ctx.empty("common.no_data")
else:   # roles and actions by their names (an action the catalogue lacks keeps its code)
    log = log.assign(role=[ctx.t(f"role.{r}") for r in log["role"]], object=log["object"].fillna(MISSING),
                     action=[ctx.t(f"admin.action.{a}") if f"admin.action.{a}" in CATALOGUE else a for a in log["action"]])
    st.dataframe(log, hide_index=True, column_config={
        column: ctx.t(f"admin.log_{column}") for column in ("at_time", "user_name", "role", "action", "object")})
