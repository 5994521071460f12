"""Two-factor authentication in the browser: set up on the Security page by scanning the QR code
the server drew (rendered by Chromium, read back with zbarimg) and typing a code an authenticator
app (pyotp) makes from it; then logging in asks for a code, and a recovery code works once.

A code is never accepted twice, so each use waits for a 30-second step no code was used in."""

import os
import subprocess
import tempfile
import time
import urllib.parse

import pyotp
from selenium.webdriver.common.by import By

from keywarden_browser import unique_email

CODE_FIELD = "Authentication code"


def decoded_qr(page):
    """The text of the QR code `#totp-qr` as Chromium draws it, read by zbarimg."""
    png = page.driver.find_element(By.ID, "totp-qr").screenshot_as_png
    with tempfile.NamedTemporaryFile(suffix=".png", delete=False) as file:
        file.write(png)
        path = file.name
    try:
        result = subprocess.run(["zbarimg", "--raw", "-q", path], capture_output=True, text=True, timeout=30)
    finally:
        os.unlink(path)
    assert result.returncode == 0, f"zbarimg read no QR code (exit {result.returncode}): {result.stderr}"
    return result.stdout.strip()


class Authenticator:
    """An authenticator app holding the setup key, which never offers the code of a step it
    already gave."""

    def __init__(self, setup_key):
        self.totp = pyotp.TOTP(setup_key)
        self.last_step = None

    def code(self):
        step = int(time.time() // 30)
        if self.last_step is not None and step <= self.last_step:
            time.sleep((self.last_step + 1) * 30 - time.time() + 0.5)
            step = int(time.time() // 30)
        self.last_step = step
        return self.totp.at(step * 30)


def log_in_until_the_code(page, email):
    page.click("Log out")
    assert page.path == "/login", page.path
    page.log_in(email)
    assert urllib.parse.urlsplit(page.url).path == "/login/two-factor", page.url
    assert page.heading() == "Two-factor authentication"
    assert "Enter the 6-digit code from your authenticator app, or one of your recovery codes." in page.text()


def test_two_factor_set_up_from_the_qr_code_then_asked_at_log_in_and_a_recovery_code_works_once(browser):
    page = browser
    email = page.sign_up(unique_email("twofactor"))
    page.nav("Security")
    section = page.driver.find_element(By.ID, "two-factor")
    assert "Off" in section.text, section.text
    page.click("Set up two-factor authentication")
    assert page.path == "/settings/security/two-factor", page.path
    assert page.heading() == "Set up two-factor authentication"

    setup_key = page.driver.find_element(By.ID, "totp-setup-key").text.replace(" ", "")
    url = decoded_qr(page)
    assert url.startswith("otpauth://totp/"), url
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["secret"] == [setup_key], (url, setup_key)
    assert query["issuer"] == ["Keywarden"], url
    app = Authenticator(query["secret"][0])

    near = {app.totp.at(time.time() + offset) for offset in (-30, 0, 30)}
    page.fill(CODE_FIELD, next(c for c in ("000000", "111111", "222222", "333333") if c not in near))
    page.click("Turn on")
    assert "That code is not right." in page.error_next_to(CODE_FIELD)

    page.fill(CODE_FIELD, app.code())
    page.click("Turn on")
    assert page.heading() == "Save your recovery codes"
    codes = [element.text for element in page.driver.find_elements(By.CSS_SELECTOR, "#recovery-codes li code")]
    assert len(codes) == 10 and len(set(codes)) == 10, codes
    page.click("Done")
    assert page.path == "/settings/security"
    section = page.driver.find_element(By.ID, "two-factor").text
    assert "On since" in section and "10 recovery codes left" in section, section

    log_in_until_the_code(page, email)
    page.fill(CODE_FIELD, app.code())
    page.click("Verify")
    assert page.path == "/api-keys", page.path

    log_in_until_the_code(page, email)
    page.fill(CODE_FIELD, codes[0])
    page.click("Verify")
    assert page.path == "/api-keys", page.path

    log_in_until_the_code(page, email)
    page.fill(CODE_FIELD, codes[0])
    page.click("Verify")
    assert urllib.parse.urlsplit(page.url).path == "/login/two-factor", page.url
    assert "That code is not right." in page.error_next_to(CODE_FIELD)
    assert not any(cookie["name"] == "keywarden_session" for cookie in page.driver.get_cookies())
