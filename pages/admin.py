"""Administration (admin only): users, data import, model training, the access log."""
from pathlib import Path

import streamlit as st

from data import access, privacy
from data.db import users_path
from data.users import add_user, list_users
from ui import cache
from ui.shell import page

ctx = page("admin", filters=())
users_file = users_path(ctx.db_path)

st.subheader(ctx.t("admin.users"))
st.dataframe([{ctx.t("admin.user"): name, ctx.t("admin.role"): ctx.t(f"role.{role}")}
              for name, role in list_users(users_file)], hide_index=True)
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
            st.success(ctx.t("admin.saved_user", name=name.strip(), role=role))

st.subheader(ctx.t("admin.import"))
st.caption(ctx.t("admin.import_help"))
with st.form("import"):
    folder = st.text_input(ctx.t("admin.import_dir"))
    if st.form_submit_button(ctx.t("admin.import_run")):
        from data.load.importer import ImportValidationError, load_dir

        if not Path(folder).is_dir():
            st.error(ctx.t("admin.no_dir", path=folder))
        else:
            with st.status(ctx.t("admin.import_run"), expanded=True) as status:
                try:
                    summary = load_dir(folder, ctx.db_path, progress=st.write)
                except (ImportValidationError, RuntimeError, OSError) as exc:
                    status.update(state="error")
                    st.error(ctx.t("admin.import_failed", error=exc))
                else:
                    ctx.log("import", f"{folder}: {summary.rows}")
                    cache.clear()
                    status.update(state="complete")
                    st.success(ctx.t("admin.import_done"))
                    st.code("\n".join(summary.lines()), language=None)

st.subheader(ctx.t("admin.training"))
st.markdown(ctx.t("admin.training_help", path=ctx.db_path))

st.subheader(ctx.t("admin.log"))
log = privacy.recent_access(ctx.db_path, ctx.role)
if log.empty:
    ctx.empty("common.no_data")
else:
    st.dataframe(log, hide_index=True, column_config={
        column: ctx.t(f"admin.log_{column}") for column in ("at_time", "user_name", "role", "action", "object")})
