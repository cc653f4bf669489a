"""End to end in a real browser: `streamlit run app.py` on a free port, headless Debian Chromium
signs in as admin and opens every page registered for admin (so pages added later are covered),
finds no exception or error element, and saves a screenshot per page into test-artifacts/.

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

import pytest

import app

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROME_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", "--window-size=1440,1800", "--lang=ko-KR")
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'

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
    """The app on ``db`` served by `streamlit run` on a free port; stopped by its own PID afterwards."""
    port = _free_port()
    env = {**os.environ, "MADANG_DB": str(db)}
    log = open(db.with_name("streamlit.log"), "w")
    proc = subprocess.Popen(  # exec'd directly, so proc.pid is the server's own PID
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
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


@pytest.fixture
def server(tiny_db_copy: Path) -> Iterator[str]:
    """The app on the tiny database, with the demo users (they come only with a fresh build)."""
    from data.db import users_path
    from data.users import DEMO_USERS, add_user

    for name, (password, role) in DEMO_USERS.items():
        add_user(users_path(tiny_db_copy), name, password, role, rounds=4)
    with _serve(tiny_db_copy) as base:
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


@pytest.fixture
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="madang-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROME_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _settled(driver, timeout: float = 60) -> None:
    """Wait until the script has run and the page has stopped changing."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def idle(d) -> bool:
        return bool(d.find_elements(By.CSS_SELECTOR, "[data-test-script-state='notRunning']")) and not \
            d.find_elements(By.CSS_SELECTOR, "[data-testid='stSkeleton']")

    wait = WebDriverWait(driver, timeout, poll_frequency=0.2)
    wait.until(idle)
    time.sleep(1.5)  # a rerun may start just after a click; charts and tables draw after the script ends
    wait.until(idle)


def _errors(driver) -> list[str]:
    from selenium.webdriver.common.by import By

    return [e.text[:500] for e in driver.find_elements(By.CSS_SELECTOR, ERRORS)]


def _sign_in(driver, user: str, password: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    inputs = driver.find_elements(By.CSS_SELECTOR, "[data-testid='stTextInput'] input")
    inputs[0].send_keys(user)
    inputs[1].send_keys(password, Keys.ENTER)
    _settled(driver)
    assert user in driver.find_element(By.CSS_SELECTOR, "[data-testid='stSidebar']").text


def test_admin_opens_every_page_without_errors(server: str, browser) -> None:
    from selenium.webdriver.common.by import By

    ARTIFACTS.mkdir(exist_ok=True)
    driver = browser
    # A page URL opened before signing in shows the sign-in notice, never the page's data.
    driver.get(f"{server}/admin")
    _settled(driver)
    body = driver.find_element(By.TAG_NAME, "body").text
    assert "사용자 추가" not in body and ("로그인" in body)
    assert _errors(driver) == []

    driver.get(server)
    _settled(driver)
    driver.save_screenshot(str(ARTIFACTS / "signin.png"))
    _sign_in(driver, "admin", "admin-demo")

    driver.save_screenshot(str(ARTIFACTS / "after_signin.png"))
    pages = app.pages_for("admin")
    links = driver.find_elements(By.CSS_SELECTOR, "[data-testid='stSidebarNavLink']")
    assert len(links) == len(pages), "the menu should list exactly the admin's pages"
    opened = []
    for index, spec in enumerate(pages):
        link = driver.find_elements(By.CSS_SELECTOR, "[data-testid='stSidebarNavLink']")[index]
        driver.execute_script("arguments[0].click();", link)  # client-side navigation keeps the session
        _settled(driver)
        shot = ARTIFACTS / f"{spec.key}.png"
        driver.save_screenshot(str(shot))
        assert _errors(driver) == [], f"{spec.path}: see {shot}"
        assert driver.find_element(By.TAG_NAME, "h1").text, spec.path
        opened.append(spec.key)
    assert opened == [s.key for s in app.pages_for("admin")]


@pytest.fixture
def broker_db(tiny_db_copy: Path) -> Path:
    """The tiny database with a broker detection run, so the audit page has clusters to draw."""
    from analytics import brokers

    brokers.run(tiny_db_copy)
    return tiny_db_copy


def test_auditor_opens_a_cluster_graph_and_clicks_a_node(broker_db: Path, server: str, browser) -> None:
    """The network tab draws applications and shared identifiers with Cytoscape.js; a real click on
    an identifier node shows its details under the graph."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    ARTIFACTS.mkdir(exist_ok=True)
    driver = browser
    driver.get(server)
    _settled(driver)
    inputs = driver.find_elements(By.CSS_SELECTOR, "[data-testid='stTextInput'] input")
    inputs[0].send_keys("auditor")
    inputs[1].send_keys("auditor-demo", Keys.ENTER)
    _settled(driver)
    keys = [s.key for s in app.pages_for("auditor")]
    link = driver.find_elements(By.CSS_SELECTOR, "[data-testid='stSidebarNavLink']")[keys.index("brokers")]
    driver.execute_script("arguments[0].click();", link)
    _settled(driver)
    frame = driver.find_element(By.CSS_SELECTOR, "iframe[title='st_cytoscape.st_cytoscape']")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", frame)
    driver.switch_to.frame(frame)
    cy = "const cy = document.querySelector('body > div')._cyreg.cy;"
    WebDriverWait(driver, 30).until(lambda d: d.execute_script(f"{cy} return cy.nodes().length") > 0)
    time.sleep(1)  # the layout settles
    counts = driver.execute_script(f"{cy} return [cy.nodes('.application').length, cy.nodes('.identifier').length]")
    assert counts[0] >= 3 and counts[1] >= 1, counts
    x, y, w, h = driver.execute_script(f"""{cy} const n = cy.nodes('.identifier')[0]; const p = n.renderedPosition();
        const box = cy.container().getBoundingClientRect(); return [p.x, p.y, box.width, box.height];""")
    canvas = driver.find_element(By.CSS_SELECTOR, "body > div")
    ActionChains(driver).move_to_element_with_offset(canvas, int(x - w / 2), int(y - h / 2)).click().perform()
    driver.switch_to.default_content()
    _settled(driver)
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
        driver.execute_script("arguments[0].click();", link)  # client-side navigation keeps the session
        _settled(driver)
        shot = ARTIFACTS / f"imported_{key}.png"
        driver.save_screenshot(str(shot))
        assert _errors(driver) == [], f"{key}: see {shot}"
        assert expect in driver.find_element(By.TAG_NAME, "body").text, f"{key}: see {shot}"
        if key in ("catalogue", "matching"):   # a table was drawn (canvas grid)
            assert driver.find_elements(By.CSS_SELECTOR, "[data-testid='stDataFrame']"), f"{key}: see {shot}"
