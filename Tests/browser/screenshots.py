"""Regenerates the README's screenshots: docs/screenshots/phone.png, api-keys.png and usage.png,
1280x800, from a fresh server with the echo upstream and the walk a new person takes (sign up,
verify a phone, create a key, call the gateway with it, look at the usage).

Usage: KEYWARDEN_BINARY=path/to/keywarden python screenshots.py [output directory]
(Tests/browser/screenshots.sh sets both).
"""

import os
import shutil
import sys
import time

from keywarden_browser import KEY_FORMAT, UNITED_STATES, Page, chromium, start_server, today_utc

WIDTH, HEIGHT = 1280, 800


def main(directory):
    os.makedirs(directory, exist_ok=True)
    server = start_server()
    driver = chromium(width=WIDTH, height=HEIGHT)
    # The viewport itself is 1280x800, whatever the window around it measures.
    metrics = {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False}
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    page = Page(driver, server.base_url, javascript=True, server=server)

    def shoot(name):
        path = os.path.join(directory, name)
        driver.execute_script("window.scrollTo(0, 0)")
        with open(path, "wb") as file:
            file.write(driver.get_screenshot_as_png())
        print("wrote", path)

    try:
        page.sign_up("ada@example.com", name="Ada Lovelace")
        page.nav("Phone")
        page.select("Country").select_by_visible_text(UNITED_STATES)
        page.fill("Phone number", "201 555 0123")
        shoot("phone.png")
        sent = len(server.outbox())
        page.click("Send code")
        code = server.code_sent_to("+12015550123", after=sent)
        page.fill("Verification code", code)
        page.click("Verify")

        page.nav("API keys")
        page.click("Create new secret key")
        page.fill("Name", "Development")
        page.click("Create secret key")
        key = page.new_key_value()
        assert KEY_FORMAT.match(key), key
        page.click("Done")
        calls = ("Hello", "What can you do?", "Write a haiku about keys", "Thanks")
        for words in calls:
            body = {"model": "echo-1", "messages": [{"role": "user", "content": words}]}
            status, _, answer = server.call("POST", "/v1/chat/completions", key, body)
            assert status == 200, answer

        page.nav("Usage")
        deadline = time.monotonic() + 10
        while (page.requests_on(today_utc()) or 0) < len(calls):
            assert time.monotonic() < deadline, "the usage page never showed the calls"
            time.sleep(0.5)
            page.reload()
        shoot("usage.png")

        page.nav("API keys")  # after the usage is written, so the key shows when it was last used
        shoot("api-keys.png")
    finally:
        driver.quit()
        server.stop()
        shutil.rmtree(server.data_dir, ignore_errors=True)


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, os.pardir, os.pardir, "docs", "screenshots"))
