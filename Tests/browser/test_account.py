"""Signing up, logging in and out, the session cookie, the page headers and every page of the
nav under its DESIGN §9 heading."""

import urllib.error
import urllib.request

from keywarden_browser import PASSWORD, literal, unique_email

# DESIGN §9: the nav entries of the developer pages and the heading each page carries.
NAV = ["API keys", "Usage", "General", "Members", "Projects", "Limits", "Audit log", "Phone"]


def test_signing_up_logging_out_and_logging_in_again(browser):
    email = browser.sign_up(unique_email("account"))
    assert browser.path == "/api-keys"
    assert email in browser.text()
    browser.click("Log out")
    assert browser.path == "/login"
    assert "You are logged out." in browser.messages()

    browser.log_in(email, password="not the password")
    assert browser.path == "/login"
    assert any("do not match" in message for message in browser.messages()), browser.messages()
    assert browser.field("Email address").get_attribute("value") == email

    browser.log_in(email)
    assert browser.path == "/api-keys"
    assert browser.buttons("Log out")


def test_an_address_already_signed_up_is_refused_in_words_next_to_the_field(browser_without_javascript, server):
    page = browser_without_javascript
    email = unique_email("taken")
    status, _, body = server.call("POST", "/v1/auth/signup", body={"email": email, "password": PASSWORD})
    assert status == 201, body
    page.open("/signup")
    page.fill("Email address", email)
    page.fill("Password", "another horse battery")
    page.click("Sign up")
    assert page.path == "/signup"
    sentences = [page.error_next_to("Email address")] + page.messages()
    assert any("already exists" in s for s in sentences), sentences
    assert not any("email_taken" in s for s in sentences)


def test_a_signed_out_visit_asks_to_log_in_and_then_goes_where_it_was_going(browser):
    email = browser.sign_up(unique_email("next"))
    browser.open("/settings/account/phone")
    browser.click("Log out")
    browser.open("/usage")
    assert browser.path == "/login?next=%2Fusage"
    browser.log_in(email)
    assert browser.path == "/usage"
    assert browser.heading() == "Usage"


def test_the_session_cookie_is_http_only_same_site_lax_and_not_secure_on_http(browser):
    browser.open("/signup")
    presession = browser.driver.get_cookie("keywarden_presession")
    assert presession and presession["httpOnly"] and presession["sameSite"] == "Lax" and not presession["secure"]
    browser.sign_up(unique_email("cookie"))
    session = browser.driver.get_cookie("keywarden_session")
    assert session, browser.driver.get_cookies()
    assert session["value"].startswith("sess_")
    assert session["httpOnly"] is True
    assert session["sameSite"] == "Lax"
    assert session["secure"] is False
    assert session["path"] == "/"
    # Every cookie of the dashboard is HttpOnly: the page's script sees none of them.
    assert browser.driver.execute_script("return document.cookie") == ""


def test_pages_send_the_content_security_policy_the_browser_checks(server):
    for path in ("/login", "/signup", "/no-such-page"):
        try:
            response = urllib.request.urlopen(server.base_url + path, timeout=10)
        except urllib.error.HTTPError as error:
            response = error
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self'"), path
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert response.headers["Referrer-Policy"] == "same-origin", path


def test_an_unknown_page_is_a_404_page_in_the_layout(browser):
    browser.open("/no-such-page")
    assert browser.heading() == "Page not found"
    assert browser.shown(f"//a[@href='/' and normalize-space()={literal('Go to the dashboard')}]")


def test_every_page_of_the_nav_has_its_heading_with_javascript_and_without(browser, browser_without_javascript):
    wrong = []
    for page in (browser, browser_without_javascript):
        page.sign_up(unique_email("nav"))
        links = {
            " ".join(link.text.split()): link.get_attribute("href") for link in page.shown("//nav//a[@href]")
        }
        assert set(NAV) <= set(links), f"the nav has {sorted(links)}"
        for label in NAV:
            page.driver.get(links[label])  # by address, so a page missing its layout stops nothing
            page.settled("nav " + label)
            if page.heading() != label:
                wrong.append((page.javascript, label, page.path, page.heading()))
    assert not wrong, "(javascript, nav entry, path, heading): " + repr(wrong)
