"""A real headless Chromium for the dashboard's tests, driven through chromedriver with selenium.

Debian's `chromium` and `chromium-driver` (installed by .ci/run). Selenium is given the
driver's path, so Selenium Manager never looks for (or downloads) a browser or driver.
Each browser gets a fresh profile in a temp dir, no sandbox (tests run as root), no GPU, and
none of Chromium's own network traffic (updates, sync, field trials): the page talks to the
Station under test only.
"""

from __future__ import annotations

import shutil
from pathlib import Path

FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage")
PHONE = (390, 844)  # a phone's CSS viewport


def chromium(profile: Path, size: tuple[int, int] = PHONE):
    """A headless Chromium (selenium WebDriver) with a fresh profile in `profile`."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    browser = shutil.which("chromium")
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        raise RuntimeError("the dashboard tests need Debian's chromium and chromium-driver (apt-get install "
                           "chromium chromium-driver; .ci/run installs them)")
    options = Options()
    options.binary_location = browser
    for flag in (*FLAGS, f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}"):
        options.add_argument(flag)
    return webdriver.Chrome(options=options, service=Service(executable_path=driver))
