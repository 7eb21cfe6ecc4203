"""Opens the demo's host page in headless Chromium, waits until its iframe
shows the protected app, and saves a screenshot (docs/demo.png).

    python3 scripts/demo_screenshot.py HOST_URL SPKI APP_URL FILE

SPKI is the hash of nginx's throwaway certificate, the one certificate
Chromium is told to trust.  Run by ./scripts/demo.sh --screenshot FILE.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
from browser import Chromium  # noqa: E402
from harness import wait_until  # noqa: E402


def main(host_url, spki, app_url, path):
    chrome = Chromium(["--ignore-certificate-errors-spki-list=" + spki])
    try:
        tab = chrome.open(host_url)

        def app_text():
            frame = chrome.frame(app_url)
            return frame and chrome.evaluate(
                frame, 'document.getElementById("user") && document.getElementById("user").textContent')
        text = wait_until(app_text, 20, 0.2)
        if not text:
            sys.exit("demo: the iframe did not show the app")
        wait_until(lambda: chrome.evaluate(tab, 'document.getElementById("log").textContent'), 5, 0.1)
        time.sleep(0.3)  # the last paint
        chrome.screenshot(tab, path)
        print("demo: %s (the frame says %r)" % (path, text))
    finally:
        chrome.close()


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.exit(__doc__)
    main(*sys.argv[1:])
