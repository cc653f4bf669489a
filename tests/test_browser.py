"""End to end in a real browser: the app served as `make app` serves it (`streamlit run serve.py`) on
a free port, driven by headless Debian Chromium.

* Each role: a deep link (page + filter) opened signed out shows the sign-in form at that URL and,
  after signing in, that page with that filter; then every page the role may see opens from its
  link with a filter (and, where the page has tabs, a tab chosen by clicking, whose URL is opened
  again in a fresh load), survives a refresh (the signed session cookie), switches to English, and
  a forbidden link says "access denied" in the user's language.
* The admin starts the first-start job (training and broker detection) from the admin page and
  watches it finish; the scoring and broker pages then show results.

Screenshots go to test-artifacts/ (<role>-<page>.png, <role>-denied.png, ...).

Needs /usr/bin/chromium and /usr/bin/chromedriver (Debian packages `chromium`, `chromium-driver`;
`.ci/run` installs them with `fonts-nanum` so Hangul is drawn). Without them the test is skipped
with the reason shown in pytest's summary (-ra).
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

import app

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROME_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1440,1800", "--lang=ko-KR")
PASSWORDS = {"policy": "policy-demo", "evaluator": "evaluator-demo", "auditor": "auditor-demo", "admin": "admin-demo"}
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'
COMPONENT_SLOW = "is having trouble loading"   # Streamlit's notice while a component's frame is not ready

missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
pytestmark = pytest.mark.skipif(
    bool(missing), reason=f"real-browser test skipped: {', '.join(missing)} not installed "
                          "(apt-get install chromium chromium-driver fonts-nanum, as .ci/run does)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _serve(db: Path) -> Iterator[str]:
    """The app on ``db`` served as `make app` serves it (`streamlit run serve.py`) on a free port;
    stopped by its own PID afterwards."""
    port = _free_port()
    env = {**os.environ, "MADANG_DB": str(db)}
    log = open(db.with_name("streamlit.log"), "w")
    proc = subprocess.Popen(  # exec'd directly, so proc.pid is the server's own PID
        [sys.executable, "-m", "streamlit", "run", "serve.py", "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--client.showErrorDetails", "full",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                    if r.read().decode() == "ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start: {db.with_name('streamlit.log').read_text()}")
            time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture(scope="module")
def served_db(tiny_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the tiny database with the demo users (they come only with a fresh build) and
    one broker detection run (so the audit page has clusters to draw), served to every test of this
    module: one server start, not one per test."""
    from analytics import brokers
    from data.db import users_path
    from data.users import DEMO_USERS, add_user

    db = tmp_path_factory.mktemp("served") / "madang.duckdb"
    shutil.copyfile(tiny_db, db)
    for name, (password, role) in DEMO_USERS.items():
        add_user(users_path(db), name, password, role, rounds=4)
    brokers.run(db)
    return db


@pytest.fixture(scope="module")
def server(served_db: Path) -> Iterator[str]:
    """The app on the tiny database (see :func:`served_db`)."""
    with _serve(served_db) as base:
        yield base


@pytest.fixture
def imported_server(tmp_path: Path) -> Iterator[str]:
    """The app on a database holding nothing but an imported 기업마당 catalogue: the shared real export
    when it is on this machine (a fuller screenshot), else the handful of real records of the tests."""
    from data.db import users_path
    from data.load import load_dir
    from data.users import DEMO_USERS, add_user
    from tests.data.fixtures_bizinfo import newer_item, real_items
    from tests.data.test_load_bizinfo import REAL

    folder = tmp_path / "in"
    folder.mkdir()
    if REAL.exists():
        shutil.copyfile(REAL, folder / REAL.name)
    else:
        (folder / "bizinfo.json").write_text(json.dumps({"jsonArray": [*real_items(), newer_item()]},
                                                        ensure_ascii=False), encoding="utf-8")
    db = tmp_path / "madang.duckdb"
    load_dir(folder, db)
    for name, (password, role) in DEMO_USERS.items():
        add_user(users_path(db), name, password, role, rounds=4)
    with _serve(db) as base:
        yield base


# Run from the start of every document, before the app's own scripts: counts the messages the app's
# server sends (a script run, even a quick one, always sends some) and notes when the page last changed
# or last heard from the server, so a wait can tell "the run a click asked for has finished and the page
# has stopped drawing" without a fixed sleep. (The page's run-state attribute is no such sign: a quick
# run can go from "running" back to "notRunning" within one drawing of the page.)
_WATCH = """
window.__madangMessages = 0;
window.__madangChanged = performance.now();
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
  constructor(...args) {
    super(...args);
    this.addEventListener('message', () => { window.__madangMessages += 1; window.__madangChanged = performance.now(); });
  }
};
new MutationObserver(() => { window.__madangChanged = performance.now(); })
  .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
"""
QUIET_S = 0.4  # the page counts as drawn once nothing in it has changed for this long (charts draw after the run)


@pytest.fixture(scope="module")
def _chromium() -> Iterator[object]:
    """One headless Chromium for the module (started once: a start costs seconds on a busy machine)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="madang-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROME_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _WATCH})
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def browser(_chromium) -> object:
    """The module's Chromium, signed out: each test starts on a blank page with no cookie (the session)."""
    _chromium.get("about:blank")
    _chromium.execute_cdp_cmd("Network.clearBrowserCookies", {})   # every host's, not only the open page's
    return _chromium


def _messages(driver) -> int:
    """How many messages the app's server has sent the current document (see :data:`_WATCH`)."""
    return int(driver.execute_script("return window.__madangMessages || 0"))


def _settled(driver, after: int | None = None, timeout: float = 180) -> None:
    """Wait until the script has run (when ``after`` is given, a run the server reported after its
    ``after``-th message: the one a click starts) and the page has stopped changing."""
    from selenium.webdriver.support.ui import WebDriverWait

    state = """return [window.__madangMessages || 0, performance.now() - (window.__madangChanged || 0),
        !!document.querySelector("[data-test-script-state='notRunning']"),
        !!document.querySelector("[data-testid='stSkeleton']")]"""

    def idle(d) -> bool:
        heard, quiet_ms, not_running, skeleton = d.execute_script(state)
        return (after is None or heard > after) and not_running and not skeleton and quiet_ms >= QUIET_S * 1000

    try:
        WebDriverWait(driver, timeout, poll_frequency=0.1).until(idle)
    except Exception:
        _shot(driver, "timeout")  # what the page showed while it did not settle
        raise
    # a custom component (the broker graph) loads in its own frame after the script ends; on a busy
    # machine Streamlit shows "having trouble loading" until it is ready: wait for it to be ready
    try:
        WebDriverWait(driver, 90, poll_frequency=0.2).until(lambda d: COMPONENT_SLOW not in _body(d))
    except Exception:
        _shot(driver, "component-timeout")
        raise


def _click(driver, element) -> None:
    """Click ``element`` (by script: nothing can cover it) and wait for the run the click starts."""
    heard = _messages(driver)
    driver.execute_script("arguments[0].click();", element)
    _settled(driver, after=heard)


def _errors(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    return [e.text[:500] for e in driver.find_elements(By.CSS_SELECTOR, ERRORS)]


def _sign_in(driver, user: str, password: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    inputs = driver.find_elements(By.CSS_SELECTOR, "[data-testid='stTextInput'] input")
    heard = _messages(driver)
    inputs[0].send_keys(user)
    inputs[1].send_keys(password, Keys.ENTER)
    _settled(driver, after=heard)
    assert user in driver.find_element(By.CSS_SELECTOR, "[data-testid='stSidebar']").text


def _body(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.TAG_NAME, "body").text


def _title(driver) -> str:
    from selenium.webdriver.common.by import By

    heads = driver.find_elements(By.TAG_NAME, "h1")
    return heads[0].text.strip() if heads else ""


def _shot(driver, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    driver.save_screenshot(str(path))
    return path


def _open(driver, url: str) -> None:
    driver.get(url)
    _settled(driver)


def _tabs(driver) -> list:
    """The tabs of the page's first tab set."""
    from selenium.webdriver.common.by import By

    sets = driver.find_elements(By.CSS_SELECTOR, "[data-testid='stTabs']")
    return sets[0].find_elements(By.CSS_SELECTOR, "[data-testid='stTab']") if sets else []


def _pick_second_tab(driver) -> str | None:
    """Click a page's second tab (if it has tabs); the tab's label."""
    tabs = _tabs(driver)
    if len(tabs) < 2:
        return None
    label = tabs[1].text.strip()
    _click(driver, tabs[1])
    return label


def _selected_tab(driver) -> str | None:
    chosen = [tab for tab in _tabs(driver) if tab.get_attribute("aria-selected") == "true"]
    return chosen[0].text.strip() if chosen else None


def _titles(lang: str) -> dict[str, str]:
    from ui.i18n import t

    return {spec.key: t(f"{spec.key}.title", lang) for spec in app.PAGES}


def _run_setup_job_as_admin(driver, server: str, db: Path) -> None:
    """The admin starts training and broker detection from the admin page; the scoring page shows
    the job's progress while it runs and the scores once it has finished."""
    from selenium.webdriver.common.by import By

    from data import jobs

    _open(driver, f"{server}/admin")
    start = driver.find_elements(By.CSS_SELECTOR, ".st-key-_start_setup button")   # by key: its label names every step
    assert start, "the admin page offers to start the setup job"
    _click(driver, start[0])
    _shot(driver, "admin-job-started")
    running = [j for j in jobs.jobs(db) if j.kind == "setup"]
    assert running, "the click started a setup job"
    _open(driver, f"{server}/scoring")
    body = _body(driver)
    if jobs.get(db, running[0].id).active:
        assert "평가 모델을 학습하는 중" in body or "브로커" in body, body[:500]
        _shot(driver, "admin-scoring-waiting")
    assert "python -m" not in body
    deadline = time.monotonic() + 600
    while (job := jobs.get(db, running[0].id)) is not None and job.active:
        assert time.monotonic() < deadline, "the setup job did not finish in 10 minutes"
        time.sleep(0.5)
    assert job is not None and job.status == "done", jobs.log_tail(db, job.id)


def test_each_role_deep_links_refresh_language_and_denied(server: str, browser, served_db: Path) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    ko, en = _titles("ko"), _titles("en")
    unbound: list[str] = []
    for role in ("admin", "policy", "evaluator", "auditor"):
        driver.delete_all_cookies()
        allowed = [spec.key for spec in app.pages_for(role)]
        forbidden = [spec.key for spec in app.PAGES if spec.key not in allowed]
        # 1. a deep link opened signed out: the sign-in form at that URL, then that page and filter
        target = allowed[1] if len(allowed) > 1 else allowed[0]
        _open(driver, f"{server}/{target}?region=11")
        assert "Page not found" not in _body(driver) and "로그인" in _body(driver)
        assert _errors(driver) == []
        _shot(driver, f"{role}-signin-at-link")
        _sign_in(driver, role, PASSWORDS[role])
        assert _title(driver) == ko[target], (role, target, _body(driver)[:500])
        assert parse_qs(urlparse(driver.current_url).query).get("region") == ["11"]
        if role == "admin":
            _run_setup_job_as_admin(driver, server, served_db)
        # 2. every allowed page from its link (a filter and a tab), again after a refresh
        for key in allowed:
            _open(driver, f"{server}/{key}?region=11")
            assert _title(driver) == ko[key], (role, key, _body(driver)[:500])
            before = parse_qs(urlparse(driver.current_url).query)
            tab = _pick_second_tab(driver)
            link = driver.current_url
            if tab is not None and parse_qs(urlparse(link).query) == before:
                unbound.append(f"{key}: {tab}")  # the page does not keep this tab in its URL
                tab = None
            driver.refresh()
            _settled(driver)
            shot = _shot(driver, f"{role}-{key}")
            assert _errors(driver) == [], f"{role} {key}: see {shot}"
            assert _title(driver) == ko[key] and "로그인" not in _title(driver), f"refresh lost the session: {shot}"
            assert parse_qs(urlparse(driver.current_url).query).get("region") == ["11"]
            if tab is not None:
                assert _selected_tab(driver) == tab, f"{role} {key}: tab not kept by {link}"
        # 3. the same in English, from a link
        _open(driver, f"{server}/{allowed[-1]}?lang=en")
        assert _title(driver) == en[allowed[-1]]
        menu = [(e.text.strip().splitlines() or [""])[-1] for e in   # an icon comes first
                driver.find_elements(By.CSS_SELECTOR, "[data-testid='stSidebarNavLink']")]
        assert menu == [en[key] for key in allowed], f"{role}: the menu is not in English: {menu}"
        _shot(driver, f"{role}-{allowed[-1]}-en")
        # 4. a forbidden link: access denied, in the user's language, no data
        for key in forbidden[:1]:
            _open(driver, f"{server}/{key}")
            assert _title(driver) == "이 화면을 볼 권한이 없습니다" and "Page not found" not in _body(driver)
            _shot(driver, f"{role}-denied")
            _open(driver, f"{server}/{key}?lang=en")
            assert _title(driver) == "You may not open this view"
        # the menu lists exactly the role's pages
        links = driver.find_elements(By.CSS_SELECTOR, "[data-testid='stSidebarNavLink']")
        assert len(links) == len(allowed), role
        # signing out ends the session for refreshes too
        _click(driver, driver.find_element(By.CSS_SELECTOR, ".st-key-_signout button"))
        driver.refresh()
        _settled(driver)
        assert driver.find_elements(By.CSS_SELECTOR, "[data-testid='stTextInput'] input"), f"{role}: still signed in"
    print("tabs the pages do not keep in their URL:", sorted(set(unbound)))


def test_security_headers_and_cookie_flags(server: str) -> None:
    with urllib.request.urlopen(server, timeout=10) as r:
        headers = {k.lower(): v for k, v in r.headers.items()}
    assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in headers["content-security-policy"]


def test_auditor_opens_a_cluster_graph_and_clicks_a_node(server: str, browser) -> None:
    """The network tab draws applications and shared identifiers with Cytoscape.js; a real click on
    an identifier node shows its details under the graph."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    ARTIFACTS.mkdir(exist_ok=True)
    driver = browser
    driver.get(server)
    _settled(driver)
    _sign_in(driver, "auditor", "auditor-demo")
    keys = [s.key for s in app.pages_for("auditor")]
    link = driver.find_elements(By.CSS_SELECTOR, "[data-testid='stSidebarNavLink']")[keys.index("brokers")]
    _click(driver, link)
    heard = _messages(driver)
    frame = driver.find_element(By.CSS_SELECTOR, "iframe[title='st_cytoscape.st_cytoscape']")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", frame)
    driver.switch_to.frame(frame)
    cy = "const cy = document.querySelector('body > div')._cyreg.cy;"
    # the layout has settled when no node moved between two looks
    positions = f"{cy} return cy.nodes().map(n => [n.renderedPosition().x, n.renderedPosition().y])"
    seen: list = []

    def still(d) -> bool:
        seen.append(d.execute_script(positions))
        return len(seen) > 1 and bool(seen[-1]) and seen[-1] == seen[-2]

    WebDriverWait(driver, 30, poll_frequency=0.2).until(still)
    counts = driver.execute_script(f"{cy} return [cy.nodes('.application').length, cy.nodes('.identifier').length]")
    assert counts[0] >= 3 and counts[1] >= 1, counts
    x, y, w, h = driver.execute_script(f"""{cy} const n = cy.nodes('.identifier')[0]; const p = n.renderedPosition();
        const box = cy.container().getBoundingClientRect(); return [p.x, p.y, box.width, box.height];""")
    canvas = driver.find_element(By.CSS_SELECTOR, "body > div")
    ActionChains(driver).move_to_element_with_offset(canvas, int(x - w / 2), int(y - h / 2)).click().perform()
    driver.switch_to.default_content()
    _settled(driver, after=heard)
    driver.save_screenshot(str(ARTIFACTS / "brokers_graph.png"))
    driver.find_element(By.CSS_SELECTOR, "iframe[title='st_cytoscape.st_cytoscape']").screenshot(
        str(ARTIFACTS / "brokers_graph_only.png"))
    body = driver.find_element(By.TAG_NAME, "body").text
    assert _errors(driver) == []
    assert "전체 데이터에서 이 값을 쓰는 기업" in body or "서로 거의 같은 사업계획서" in body, "no details after the click"


def test_catalogue_and_matching_on_an_imported_catalogue_alone(imported_server: str, browser) -> None:
    """Policy staff on a database with no firms or applications: the catalogue lists the programs with
    their links, matching lists a typed profile's eligible programs, uptake says what it needs."""
    from selenium.webdriver.common.by import By

    ARTIFACTS.mkdir(exist_ok=True)
    driver = browser
    driver.get(imported_server)
    _settled(driver)
    _sign_in(driver, "policy", "policy-demo")
    for key, expect in (("catalogue", "지원사업 목록"), ("matching", "신청 이력이 없어"), ("uptake", "신청 데이터가 있어야")):
        link = next(a for a in driver.find_elements(By.CSS_SELECTOR, "[data-testid='stSidebarNavLink']")
                    if (a.get_attribute("href") or "").rstrip("/").endswith(f"/{key}"))
        _click(driver, link)  # client-side navigation keeps the session
        shot = ARTIFACTS / f"imported_{key}.png"
        driver.save_screenshot(str(shot))
        assert _errors(driver) == [], f"{key}: see {shot}"
        assert expect in driver.find_element(By.TAG_NAME, "body").text, f"{key}: see {shot}"
        if key in ("catalogue", "matching"):   # a table was drawn (canvas grid)
            assert driver.find_elements(By.CSS_SELECTOR, "[data-testid='stDataFrame']"), f"{key}: see {shot}"


def _click_text(driver, css: str, text: str) -> None:
    """Click the element matching ``css`` whose (last line of) visible text is ``text`` (icons come first)."""
    from selenium.webdriver.common.by import By

    found = [e for e in driver.find_elements(By.CSS_SELECTOR, css) if e.text.strip().splitlines()[-1:] == [text]]
    assert found, (css, text, [e.text for e in driver.find_elements(By.CSS_SELECTOR, css)][:20])
    _click(driver, found[0])


def test_page_settings_are_codes_in_the_url_and_stay_on_their_page(server: str, browser) -> None:
    """Tab and breakdown are written to the URL as codes (tab=breakdown, not the Korean label), stay
    when the language changes, and do not follow the user to another page (issue 21)."""
    from selenium.webdriver.common.by import By

    from ui.i18n import t

    ARTIFACTS.mkdir(exist_ok=True)
    driver = browser
    driver.get(server)
    _settled(driver)
    _sign_in(driver, "policy", "policy-demo")
    _click_text(driver, "[data-testid='stSidebarNavLink']", t("uptake.title", "ko"))
    _click_text(driver, "[role='tab']", t("uptake.tab.breakdown", "ko"))
    _click_text(driver, "[data-testid='stButtonGroup'] button", t("uptake.dim.region", "ko"))
    assert "tab=breakdown" in driver.current_url and "by=region" in driver.current_url, driver.current_url
    _click_text(driver, "[data-testid='stSidebar'] [data-testid='stButtonGroup'] button", "English")
    assert "tab=breakdown" in driver.current_url and "by=region" in driver.current_url, driver.current_url
    selected = driver.find_elements(By.CSS_SELECTOR, "[role='tab'][aria-selected='true']")
    assert [e.text for e in selected] == [t("uptake.tab.breakdown", "en")]
    driver.save_screenshot(str(ARTIFACTS / "uptake_breakdown_en.png"))
    assert _errors(driver) == []
    _click_text(driver, "[data-testid='stSidebarNavLink']", t("matching.title", "en"))
    assert "by=region" not in driver.current_url and "tab=breakdown" not in driver.current_url, driver.current_url
    _click_text(driver, "[data-testid='stSidebarNavLink']", t("uptake.title", "en"))
    assert "tab=breakdown" in driver.current_url and "by=region" in driver.current_url, driver.current_url
