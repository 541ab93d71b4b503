"""The page in headless Chromium (Debian's ``chromium`` and ``chromium-driver``, which ``make``
installs): a live session started from the form shows a restored frame, laid out as designed
(raw left of restored, both 480 px wide, the stats line reporting fps)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import tifffile

webdriver = pytest.importorskip("selenium.webdriver")
if shutil.which("chromium") is None or shutil.which("chromedriver") is None:
    pytest.skip("Debian's chromium and chromium-driver are not installed", allow_module_level=True)
import uvicorn  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from dosewise.serve.app import ServeSettings, create_app  # noqa: E402


@pytest.fixture
def server_url(tmp_path: Path) -> str:
    root = tmp_path / "data"
    root.mkdir()
    yy, xx = np.mgrid[:96, :96]
    clean = np.where((yy - 48) ** 2 + (xx - 48) ** 2 < 400, 0.4, 1.0)
    rng = np.random.default_rng(0)
    tifffile.imwrite(root / "stack.tif", rng.poisson(20.0 * clean, (8, 96, 96)).astype(np.float32))
    app = create_app(ServeSettings(roots=[root], out_dir=tmp_path / "out", device="cpu", live_watch_s=0.0))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(timeout=10)


def open_chromium(width: int = 1100, height: int = 900) -> object:
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 f"--window-size={width},{height}"):
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=shutil.which("chromedriver"))
    return webdriver.Chrome(options=options, service=service)


def test_the_page_shows_a_restored_frame_laid_out_side_by_side(server_url: str, tmp_path: Path) -> None:
    browser = open_chromium()
    try:
        browser.get(server_url)
        WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#model option"))
        browser.find_element(By.ID, "source").send_keys("stack.tif")
        browser.find_element(By.ID, "start").click()
        WebDriverWait(browser, 60).until(
            lambda b: (b.find_element(By.ID, "restored").get_attribute("src") or "").startswith("data:image/png"))
        raw, restored = (browser.find_element(By.ID, name) for name in ("raw", "restored"))
        assert raw.rect["x"] + raw.rect["width"] <= restored.rect["x"]
        assert raw.rect["y"] == restored.rect["y"] and raw.rect["width"] == restored.rect["width"] == 480
        assert browser.execute_script("return document.getElementById('restored').naturalWidth") == 96
        assert "fps" in browser.find_element(By.ID, "stats").text
        assert browser.find_element(By.ID, "error").text == ""
        shot = tmp_path / "page.png"
        browser.save_screenshot(str(shot))
        pixels = np.asarray(__import__("PIL.Image", fromlist=["Image"]).open(shot).convert("L"))
        box = restored.rect  # the restored frame is drawn there: bright field, a darker disc
        region = pixels[int(box["y"]) + 40:int(box["y"] + box["height"]) - 40,
                        int(box["x"]) + 40:int(box["x"] + box["width"]) - 40]
        assert region.std() > 10 and region.mean() > 60
    finally:
        browser.quit()
