"""Open the demo report in headless Chromium: every figure loads, nothing is broken.

Needs Debian's chromium and chromium-driver (``.ci/run`` installs them) and selenium (test
extra); skipped with a clear message where they are missing.  A screenshot is written next to
the report.
"""

from __future__ import annotations

import shutil

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("demo")]

CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                  "--window-size=1200,900")


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    """A headless Chromium session; the test skips here, before the demo is built, when
    selenium, Chromium or chromedriver is missing or the browser cannot start."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver_bin = shutil.which("chromedriver")
    if browser is None or driver_bin is None:
        pytest.skip("headless Chromium and chromedriver are not installed (apt-get install chromium "
                    "chromium-driver); the browser check of the report is skipped")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    try:
        session = webdriver.Chrome(service=Service(driver_bin), options=opts)
    except Exception as exc:  # a broken local install should not fail the suite
        pytest.skip(f"headless Chromium could not start: {exc}")
    try:
        yield session
    finally:
        session.quit()


@pytest.fixture(scope="module")
def demo_report(driver, demo_quick):
    """The quick demo of tests/report/conftest.py (built once per run, in the same worker as
    the report check: xdist group 'demo'), used only once a browser is known to run."""
    return demo_quick


def test_demo_report_renders_in_chromium(driver, demo_report):
    driver.get(demo_report.resolve().as_uri())
    state = driver.execute_script("""
        const imgs = Array.from(document.images);
        return {
          title: document.title,
          n: imgs.length,
          broken: imgs.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.alt),
          figures: document.querySelectorAll('figure').length,
          tables: document.querySelectorAll('table').length,
          external: Array.from(document.querySelectorAll('[src],link[href]'))
                      .map(e => e.getAttribute('src') || e.getAttribute('href'))
                      .filter(s => s && !s.startsWith('data:') && !s.startsWith('#')),
        };
    """)
    shot = demo_report.with_name("report-screenshot.png")
    driver.save_screenshot(str(shot))
    assert state["title"].startswith("latdyn demo")
    assert state["n"] >= 3 and state["n"] == state["figures"]
    assert state["broken"] == []
    assert state["external"] == []
    assert state["tables"] >= 2
    assert shot.stat().st_size > 10_000
