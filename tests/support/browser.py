"""Headless Chromium from Debian's packages (`chromium`, `chromium-driver`), driven by Selenium.

The flags keep the browser off the network it would otherwise call at start (this machine's network is
closed: without them Chromium opens connections that are refused) and out of the way of a root user."""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = os.environ.get("ROUNDABOUT_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("ROUNDABOUT_CHROMEDRIVER", "/usr/bin/chromedriver")
#: Where the tests leave their screenshots (CI keeps the folder as an artifact).
SCREENSHOTS = Path(
    os.environ.get("ROUNDABOUT_SCREENSHOTS", Path(__file__).resolve().parents[2] / "test-artifacts")
)
FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-extensions", "--window-size=1280,1000",
)  # fmt: skip


def missing() -> str | None:
    """Why no browser can run here (None: it can)."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if shutil.which(path) is None:
            return f"{path} is not installed (apt-get install chromium chromium-driver; .ci/run does)"
    return None


@contextmanager
def chromium() -> Iterator[webdriver.Chrome]:
    """A fresh headless browser with its own empty profile, quit after the block."""
    profile = tempfile.mkdtemp(prefix="roundabout-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(driver: webdriver.Chrome, name: str) -> Path:
    """Save the whole page as `<SCREENSHOTS>/console/<name>.png`."""
    folder = SCREENSHOTS / "console"
    folder.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1280, min(max(int(height), 800), 4000))
    path = folder / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 1000)
    return path
