"""Account security in the browser: the email banner until the emailed link is opened, a forgotten
password reset through the emailed link, and the Security page's sessions list, where signing
another browser out ends its session."""

from keywarden_browser import PASSWORD, unique_email

NEW_PASSWORD = "a brand new passphrase"


def sessions_table(page):
    """The rows (cell texts) of the table whose header names the Device column."""
    for table in page.tables():
        header = next((row for row in table if row and all(tag == "TH" for tag, _ in row)), None)
        if header and any(text == "Device" for _, text in header):
            return [[text for _, text in row] for row in table if row is not header]
    raise AssertionError(f"no sessions table on {page.url}")


def test_signing_up_shows_the_banner_until_the_emailed_link_is_confirmed(browser, server):
    email = browser.sign_up(unique_email("confirm"), confirm=False)
    banner = f"Confirm your email address: we sent a link to {email}."
    assert banner in browser.text()
    browser.nav("Usage")
    assert banner in browser.text(), "the banner is on every signed-in page"

    browser.click("Send the link again")
    assert browser.path == "/usage"
    assert any("We sent a new link" in message for message in browser.messages()), browser.messages()

    token = server.link_token(email, "/confirm-email")
    browser.open("/confirm-email?token=" + token)
    assert browser.heading() == "Confirm email address"
    assert browser.buttons("Confirm email address"), "opening the link alone must not confirm"
    browser.click("Confirm email address")
    assert browser.path == "/api-keys"
    assert "Your email address is confirmed." in browser.messages()
    assert banner not in browser.text()

    status, _, answer = server.call("POST", "/v1/auth/email/confirm", body={"token": token})
    assert status == 400 and answer["error"]["code"] == "invalid_token", answer


def test_a_forgotten_password_is_reset_through_the_emailed_link(browser_without_javascript, server):
    page = browser_without_javascript
    email = page.sign_up(unique_email("forgot"))
    page.click("Log out")
    page.click("Forgot your password?")
    assert page.path == "/forgot-password"
    assert page.heading() == "Forgot your password?"
    page.fill("Email address", email)
    page.click("Send reset link")
    assert any(f"If an account uses {email}" in message for message in page.messages()), page.messages()

    token = server.link_token(email, "/reset-password")
    page.open("/reset-password?token=" + token)
    assert page.heading() == "Choose a new password"
    page.fill("New password", NEW_PASSWORD)
    page.fill("Confirm new password", NEW_PASSWORD + " typo")
    page.click("Set new password")
    assert "not the same" in page.error_next_to("Confirm new password")
    page.fill("New password", NEW_PASSWORD)
    page.fill("Confirm new password", NEW_PASSWORD)
    page.click("Set new password")
    assert page.path == "/login"
    assert "Your password is changed. Sign in." in page.messages()

    page.log_in(email, password=PASSWORD)
    assert page.path == "/login", "the old password still signs in"
    page.log_in(email, password=NEW_PASSWORD)
    assert page.path == "/api-keys"


def test_the_sessions_list_shows_both_browsers_and_signing_one_out_ends_it(
    browser, browser_without_javascript, server
):
    email = browser.sign_up(unique_email("sessions"))
    other = browser_without_javascript
    other.open("/login")
    other.log_in(email)
    assert other.path == "/api-keys"

    browser.nav("Security")
    assert browser.heading() == "Security"
    rows = sessions_table(browser)
    assert len(rows) == 2, rows
    assert sum("This session" in row[0] for row in rows) == 1, rows
    assert all("HeadlessChrome" in row[0] or "Chrome" in row[0] for row in rows), rows
    assert len(browser.buttons("Sign out")) == 1
    assert browser.buttons("Set up two-factor authentication")

    browser.click("Sign out")
    assert "That session is signed out." in browser.messages()
    assert len(sessions_table(browser)) == 1
    other.open("/api-keys")
    assert other.path.startswith("/login"), f"the signed-out browser is still in, on {other.path}"
    browser.open("/api-keys")
    assert browser.path == "/api-keys"
