"""Program catalogue (지원사업 목록, every role): search the loaded programs by words, ministry, agency,
field, region, target group and status, ordered by deadline, each with its 기업마당 link.

Needs nothing but the programs table, so it is the useful view of a database that holds only an
imported 기업마당 catalogue. Officials' contacts are masked for roles that may not see contact data.
"""
from __future__ import annotations

from datetime import date

import streamlit as st

from analytics import catalogue
from ui import names
from ui.shell import page

ctx = page("catalogue", filters=("region", "ministry", "agency", "category"),
           params=("q", "grp", "show", "on"))
t = ctx.t
inv = ctx.query(catalogue.inventory)
if inv.programs == 0:
    ctx.empty("catalogue.none_loaded")
    st.stop()
sources = ", ".join(f"{t(f'catalogue.source.{s}') if s in catalogue.SOURCES else s} {ctx.num(n)}" for s, n in inv.sources)
posted = t("catalogue.posted_span", first=inv.first_posted, last=inv.last_posted) if inv.first_posted else ""
st.caption(t("catalogue.intro", n=ctx.num(inv.programs), sources=sources) + " " + posted)

c1, c2, c3, c4 = st.columns([3, 2, 2, 1.3])
url = ctx.params
words = url.text(c1.text_input, t("catalogue.words"), "q", placeholder=t("catalogue.words_hint"))
groups = url.many(c2.multiselect, t("catalogue.groups"), "grp", list(inv.groups), [], help=t("catalogue.groups_help"),
                  placeholder=t("catalogue.groups_any"), select_all=False)
show = url.choice(c3.segmented_control, t("catalogue.show"), "show", list(catalogue.SHOW), "all",
                  format_func=lambda s: t(f"catalogue.show.{s}")) or "all"
day: date = url.day(c4.date_input, t("catalogue.day"), "on", date.today())

found = ctx.query(catalogue.search, catalogue.Search(day=day, words=words.strip(), groups=tuple(groups), show=show),
                  ctx.filters, role=ctx.role)
if found.total == 0:
    ctx.empty("catalogue.empty")
    st.stop()
st.caption(t("catalogue.found", n=ctx.num(found.total), day=day)
           + (" " + t("catalogue.first_only", k=ctx.num(len(found.rows))) if found.total > len(found.rows) else ""))

sizes = names.names("size", ctx.lang)
rows = found.rows


def _window(r) -> str:  # noqa: ANN001
    if r.closes_on is not None and str(r.closes_on) != "NaT":
        left = t("catalogue.days_left", n=int(r.days_left)) if r.status in ("open", "closing") else ""
        opens = f"{r.opens_on:%Y-%m-%d}" if str(r.opens_on) != "NaT" and r.opens_on is not None else ""
        return f"{opens} ~ {r.closes_on:%Y-%m-%d} {left}".strip()
    return r.window_text or ""


def _targets(r) -> str:  # noqa: ANN001
    parts = [", ".join(sizes.get(s, s) for s in r.target_sizes)] if len(r.target_sizes) else []
    parts += list(r.target_groups)
    return " · ".join(parts) or t("catalogue.anyone")


shown = rows.assign(
    status=[t(f"catalogue.status.{s}") for s in rows["status"]],
    window=[_window(r) for r in rows.itertuples()],
    category=[t(f"category.{c}") for c in rows["category"]],
    regions=[r or t("catalogue.nationwide") for r in rows["regions"]],
    targets=[_targets(r) for r in rows.itertuples()])
if ctx.sees_personal:
    ctx.log("view_personal", f"catalogue: contact_phone, contact_email ({len(rows)} rows)")
ctx.table(shown, {"title": ("catalogue.col.title", "text"), "url": ("catalogue.col.url", "link"),
                  "status": ("catalogue.col.status", "text"), "window": ("catalogue.col.window", "text"),
                  "agency": ("catalogue.col.agency", "text"), "category": ("catalogue.col.category", "text"),
                  "regions": ("catalogue.col.regions", "text"), "targets": ("catalogue.col.targets", "text"),
                  "ministry": ("catalogue.col.ministry", "text"), "contact_office": ("catalogue.col.office", "text"),
                  "contact_phone": ("catalogue.col.phone", "text"), "contact_email": ("catalogue.col.email", "text")},
          name="program_catalogue", width="stretch", height=560)
if not ctx.sees_personal:
    st.caption(t("common.masked_note"))
