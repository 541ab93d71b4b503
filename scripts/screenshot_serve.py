"""The screenshot of ``dosewise serve`` in docs/serve.png: a live session on a simulated low-dose
bright-field particle stack, with a line profile drawn across a particle, in headless Chromium.

    .venv/bin/python scripts/screenshot_serve.py [--out docs/serve.png]
"""

from __future__ import annotations

import argparse
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import tifffile
import uvicorn
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from dosewise.config import ParticleDatasetConfig
from dosewise.serve.app import ServeSettings, create_app
from dosewise.simulate.particle_dataset import ParticleConfig, render_particle_sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "serve.png")
    args = parser.parse_args()
    config = ParticleConfig.from_recipe(ParticleDatasetConfig(n_images=1, size_px=256, modality="bf",
                                                              dose_range_e_per_px=(8.0, 8.0), seed=4))
    clean = render_particle_sample(config, 0).arrays["clean"]
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "incoming"
        root.mkdir()
        tifffile.imwrite(root / "session.tif", rng.poisson(8.0 * clean, (40, *clean.shape)).astype(np.float32))
        app = create_app(ServeSettings(roots=[root], out_dir=Path(folder) / "out", device="cpu", live_watch_s=0.0))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium")
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1020,900"):
            options.add_argument(flag)
        browser = webdriver.Chrome(options=options, service=webdriver.ChromeService(shutil.which("chromedriver")))
        try:
            browser.get(f"http://127.0.0.1:{port}/")
            WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#model option"))
            browser.find_element(By.ID, "source").send_keys("session.tif")
            browser.find_element(By.ID, "start").click()
            WebDriverWait(browser, 60).until(lambda b: "frame 3" in b.find_element(By.ID, "stats").text
                                             or "frame 39" in b.find_element(By.ID, "stats").text)
            canvas = browser.find_element(By.ID, "draw")
            ActionChains(browser).move_to_element_with_offset(canvas, -200, 0).click_and_hold() \
                .move_by_offset(400, 0).release().perform()
            WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#profile svg"))
            time.sleep(0.5)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            browser.save_screenshot(str(args.out))
        finally:
            browser.quit()
            server.should_exit = True
    print(args.out)


if __name__ == "__main__":
    main()
