"""A real browser for the tests: Debian's headless Chromium driven through its chromedriver
(paths given explicitly, so Selenium Manager never looks for, or downloads, anything), and
screenshots kept as test artefacts (DBF_SCREENSHOTS, default a temporary directory)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = os.environ.get("DBF_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("DBF_CHROMEDRIVER", "/usr/bin/chromedriver")
# The network is closed here and in CI: nothing in the background may try to reach it.
FLAGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--window-size=1280,1000", "--lang=en-GB"]


def chromium(profile: Path) -> webdriver.Chrome:
    for binary in (CHROMIUM, CHROMEDRIVER):
        if not shutil.which(binary):
            raise RuntimeError(f"{binary} is missing: install Debian's chromium and chromium-driver (.ci/run does)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    return driver


def screenshot_dir(default: Path) -> Path:
    path = Path(os.environ.get("DBF_SCREENSHOTS") or default)
    path.mkdir(parents=True, exist_ok=True)
    return path


def full_page_screenshot(driver: webdriver.Chrome, path: Path) -> None:
    """The whole page, not only the window: the window is made as tall as the page first."""
    height = driver.execute_script("return Math.max(document.body.scrollHeight, 600)")
    driver.set_window_size(1280, min(int(height) + 140, 4000))
    driver.save_screenshot(str(path))
    driver.set_window_size(1280, 1000)
