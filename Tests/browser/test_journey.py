"""A new person's whole way through the dashboard, by the labels of DESIGN §9: sign up, the
banner, the Phone page, the code from the development outbox, the first key shown once, that key
at work on the gateway, its usage, its revocation. Once with JavaScript, once without: the forms
work the same, only the confirmation dialog and the Copy button need the script."""

import time

from keywarden_browser import BANNER, KEY_FORMAT, UNITED_STATES, today_utc, unique_email

NUMBER = "201 555 0123"
E164 = "+12015550123"
CHAT = {"model": "echo-1", "messages": [{"role": "user", "content": "hi"}]}


def walk_the_journey(page, server):
    page.sign_up(unique_email("journey"))
    banner = page.banner_link()
    assert banner is not None, f"no banner {BANNER!r} after signing up, on {page.url}"
    page.click(banner)
    assert page.path == "/settings/account/phone"
    assert page.heading() == "Phone"

    country = page.select("Country")
    assert " ".join(country.options[0].text.split()) == UNITED_STATES
    country.select_by_visible_text(UNITED_STATES)
    page.fill("Phone number", NUMBER)
    sent = len(server.outbox())
    page.click("Send code")
    code = server.code_sent_to(E164, after=sent)
    page.fill("Verification code", code)
    page.click("Verify")
    assert page.banner_link() is None, f"the banner is still shown on {page.url}"
    assert BANNER not in page.text()

    page.nav("API keys")
    assert page.heading() == "API keys"
    assert page.banner_link() is None
    page.click("Create new secret key")
    page.fill("Name", "journey key")
    page.click("Create secret key")
    assert page.has_heading("Save your key"), f"no 'Save your key' on {page.url}: {page.messages()}"
    key = page.new_key_value()
    assert KEY_FORMAT.match(key), key
    # The Copy button needs the script; without it, no button that cannot work is shown. (Said at
    # the end, so the rest of the journey is still walked.)
    copy_shown = bool(page.buttons("Copy", starts_with=True))
    copy_wrong = copy_shown != page.javascript

    status, _, models = server.call("GET", "/v1/models", token=key)
    assert status == 200, models
    status, _, completion = server.call("POST", "/v1/chat/completions", key, CHAT)
    assert status == 200, completion
    assert completion["object"] == "chat.completion"

    page.click("Done")
    assert page.heading() == "API keys"
    assert key not in page.driver.page_source, "the key is shown again after Done"
    rows = page.shown("//tr[contains(normalize-space(), 'journey key')]")
    assert rows, f"no row for 'journey key' on {page.url}"
    assert key[-4:] in rows[0].text, f"the redacted key is not in the row: {rows[0].text!r}"

    page.nav("Usage")
    assert page.heading() == "Usage"
    deadline = time.monotonic() + 8  # usage is written once a second
    while (page.requests_on(today_utc()) or 0) < 1:
        assert time.monotonic() < deadline, f"no request for {today_utc()} on the Usage page: {page.tables()}"
        time.sleep(0.5)
        page.reload()

    page.nav("API keys")
    if page.javascript:
        page.click("Revoke", confirm=False)
        assert server.call("GET", "/v1/models", token=key)[0] == 200, "dismissing the confirmation revoked the key"
        page.click("Revoke", confirm=True)
    else:
        page.click("Revoke")
        if page.heading() != "API keys":  # without the script, a confirmation page of its own
            confirm = page.buttons("Revoke", starts_with=True)
            assert confirm, f"no way to confirm the revocation on {page.url} ({page.heading()!r})"
            page.click(confirm[0])
    status, _, refused = server.call("GET", "/v1/models", token=key)
    assert status == 401, refused
    assert page.heading() == "API keys"
    assert not copy_wrong, f"'Save your key' {'shows' if copy_shown else 'hides'} its Copy button" + (
        " with JavaScript" if page.javascript else " without JavaScript"
    )


def test_the_whole_journey_with_javascript(browser, server):
    walk_the_journey(browser, server)


def test_the_whole_journey_without_javascript(browser_without_javascript, server):
    walk_the_journey(browser_without_javascript, server)
