#!/usr/bin/env python3
"""Claim-to-rendered-case in a real browser: headless Chromium signs a reviewer in to a running
`warden serve` on a data directory (seed one with `warden bench console --data-dir DIR`), then
claims the next case from a queue again and again. Each claim is a form post answered by a
redirect to the case; the time is the browser's own navigation timing, from the post to the case
page's load event. Prints p50/p95/p99 (ms); the issue's limit is 300 ms on loopback.

  ./scripts/console_bench.py --binary .build/release/warden --data-dir DIR [--rounds 50]
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from integration import free_port  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p * len(ordered) + 0.5)) - 1))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--queue", default="spam")
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()

    name, password = f"browser-bench-{int(time.time())}", "browser bench password"
    added = subprocess.run([args.binary, "users", "add", "--data-dir", args.data_dir, "--name", name, "--role", "reviewer", "--team", "trust",
                            "--password-stdin"], input=password + "\n", capture_output=True, text=True)
    if added.returncode != 0:
        sys.exit(added.stderr)
    port = free_port()
    server = subprocess.Popen([args.binary, "serve", "--data-dir", args.data_dir, "--port", str(port), "--log-level", "error"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                if urllib.request.urlopen(base + "/readyz", timeout=1).status == 200:
                    break
            except Exception:
                time.sleep(0.2)
        options = Options()
        options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
        for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"]:
            options.add_argument(argument)
        driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
        try:
            driver.get(base + "/login")
            driver.find_element(By.NAME, "name").send_keys(name)
            driver.find_element(By.NAME, "password").send_keys(password)
            driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
            deadline = time.time() + 10
            while time.time() < deadline and not driver.find_elements(By.ID, "my-queues"):
                time.sleep(0.05)
            timings = []
            for round_ in range(args.warmup + args.rounds):
                driver.get(f"{base}/queues/{args.queue}")
                driver.find_element(By.CSS_SELECTOR, "button[data-key=n]").click()
                deadline = time.time() + 10
                while time.time() < deadline:
                    entry = driver.execute_script(
                        "const n = performance.getEntriesByType('navigation')[0];"
                        "return document.getElementById('case-state') && n && n.loadEventEnd > 0 ? [n.loadEventEnd - n.startTime, location.pathname] : null;")
                    if entry:
                        break
                    time.sleep(0.01)
                else:
                    sys.exit("the claimed case did not render")
                if round_ >= args.warmup:
                    timings.append(entry[0])
                driver.find_element(By.CSS_SELECTOR, "#case .toolbar button[data-key=r]").click()
                deadline = time.time() + 10
                while time.time() < deadline and driver.find_elements(By.ID, "case-state"):
                    time.sleep(0.01)
        finally:
            driver.quit()
        print(f"claim to rendered case in Chromium, {args.rounds} claims from {args.queue}: "
              f"p50 {percentile(timings, 0.5):.1f} ms, p95 {percentile(timings, 0.95):.1f} ms, p99 {percentile(timings, 0.99):.1f} ms")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
