"""Madang Insight: the entry point (`streamlit run app.py`).

Page config, first-start build, sign-in, and the navigation: each role sees the pages registered
for it in PAGES, and each page checks the role again itself (ui.shell.page). The registry is
importable (`from app import PAGES`): the app only runs under `__main__`. `make app` serves it
through serve.py, which adds the session cookie's route and security headers.

Every registered URL (`/uptake?region=11&tab=...`) is known to the navigation whoever asks: signed
out, it shows the sign-in form and keeps the URL, so the same page, tab and filters open after
signing in; signed in with a role that may not see it, a page saying so (hidden from the menu).
"""
from __future__ import annotations

from ui.shell import PageSpec

# One line per page: (file, key: labels "<key>.title", URL "/<key>", roles from data/access.py "view.<key>", icon).
# The first is the start page.
PAGES: list[PageSpec] = [
    PageSpec("pages/overview.py", "overview", ":material/dashboard:"),
    PageSpec("pages/catalogue.py", "catalogue", ":material/list_alt:"),
    PageSpec("pages/uptake.py", "uptake", ":material/query_stats:"),
    PageSpec("pages/adoption.py", "adoption", ":material/psychology:"),
    PageSpec("pages/matching.py", "matching", ":material/recommend:"),
    PageSpec("pages/scoring.py", "scoring", ":material/fact_check:"),
    PageSpec("pages/brokers.py", "brokers", ":material/hub:"),
    PageSpec("pages/admin.py", "admin", ":material/admin_panel_settings:"),
]


def pages_for(role: str) -> list[PageSpec]:
    """The registered pages a role may open, in registry order."""
    return [spec for spec in PAGES if role in spec.roles]


def main() -> None:
    import streamlit as st

    from data.db import default_db_path
    from ui import filterbar, session
    from ui.i18n import t
    from ui.setup import ensure_database
    from ui.shell import current_lang, denied_page, sidebar
    from ui.signin import sign_in_page

    st.set_page_config(page_title="Madang Insight", page_icon=":material/insights:", layout="wide")
    filterbar.seed_from_url()  # a link's lang=en before the menu's titles are made (not only the page's)
    lang = current_lang()
    ensure_database(default_db_path(), lang)
    who = session.current()
    session.flush()
    if who is None:
        st.navigation([st.Page(sign_in_page, title=t("signin.title", lang), url_path="signin", default=True,
                               icon=":material/login:")]
                      + [st.Page(sign_in_page, title=t("signin.title", lang), url_path=spec.key, visibility="hidden")
                         for spec in PAGES], position="hidden").run()
        return
    user, role = who
    allowed = pages_for(role)
    nav = st.navigation([
        st.Page(spec.path, title=t(f"{spec.key}.title", lang), url_path=spec.key, icon=spec.icon,
                default=spec == allowed[0])
        if role in spec.roles else
        st.Page(denied_page(spec), title=t("denied.title", lang), url_path=spec.key, visibility="hidden")
        for spec in PAGES
    ] + [st.Page(lambda: st.switch_page(allowed[0].path), title=t("signin.title", lang), url_path="signin",
                 visibility="hidden")])  # a bookmarked sign-in page leads to the start page once signed in
    sidebar(user, role)
    nav.run()


if __name__ == "__main__":
    main()
