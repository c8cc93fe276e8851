"""Screenshots of the main pages for the README (docs/screenshots/), from the demo data set.

    .venv/bin/python scripts/take_screenshots.py

Runs a throw-away server on a temporary SQLite database; needs Debian's chromium and a CJK font
(`scripts/ensure-chromium.sh` installs both).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "HUIYING_DATA_DIR": f"{tmp}/var", "HUIYING_BASE_URL": "http://127.0.0.1:8765"}
        env.pop("HUIYING_DATABASE_URL", None)
        run = [sys.executable, "-m", "huiying"]
        subprocess.run([*run, "db", "upgrade"], env=env, check=True, capture_output=True)
        subprocess.run([*run, "bootstrap", "--demo-if-empty"], env=env, check=True, capture_output=True)
        password = Path(f"{tmp}/var/initial_admin_password").read_text().strip()
        server = subprocess.Popen([*run, "serve", "--port", "8765"], env=env, stderr=subprocess.DEVNULL)
        base = "http://127.0.0.1:8765"
        try:
            for _ in range(100):
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            shoot(base, password)
        finally:
            server.terminate()
            server.wait()
    print(f"screenshots written to {OUT}")


def shoot(base: str, password: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1360, "height": 860})
        page.goto(f"{base}/login")
        page.screenshot(path=OUT / "login.png")
        page.fill("input[name=email]", "admin@huiying.local")
        page.fill("input[name=password]", password)
        page.click("form button[type=submit]")
        page.wait_for_url("**/tickets")
        page.screenshot(path=OUT / "queue.png")
        urgent = page.locator("tr.row:has(.p-urgent) td.num a").first
        urgent.click()
        page.wait_for_load_state()
        page.select_option("#macro", index=1)
        page.screenshot(path=OUT / "ticket.png", full_page=True)
        page.goto(f"{base}/admin/macros")
        page.screenshot(path=OUT / "admin-macros.png")
        page.goto(f"{base}/tickets?lang=en")
        page.screenshot(path=OUT / "queue-en.png")
        page.goto(f"{base}/tickets?lang=zh")

        public = browser.new_page(viewport={"width": 430, "height": 900}, device_scale_factor=2)
        public.goto(
            f"{base}/feedback?user_id=u10086&os=iOS%2018.1&model=iPhone%2015%20Pro&app_version=5.3.0&channel=app"
        )
        public.select_option("#category-picker", "technical")
        public.select_option("#subcategory-picker", "payment-failure")
        public.fill("textarea[name=description]", "充值会员时提示支付失败，但是微信已经扣款68元，会员没有开通。")
        public.fill("input[name=contact]", "13912345678")
        public.screenshot(path=OUT / "feedback-form.png", full_page=True)
        public.click("#feedback-form button[type=submit]")
        public.wait_for_url("**/feedback/done*")
        public.screenshot(path=OUT / "feedback-done.png")
        public.click("#status-link")
        public.wait_for_load_state()
        public.screenshot(path=OUT / "portal.png", full_page=True)
        browser.close()


if __name__ == "__main__":
    main()
